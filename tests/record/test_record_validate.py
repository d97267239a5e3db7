"""The validator: valid recordings pass; each single defect is reported, naming its target."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
import xarray as xr
from record_toys import lab_two_step

from neurometa.record import RecordingError, validate_recording
from neurometa.record.schema import ATTRS, COORDS, FAMILY_VARIABLES, VARIABLES

DOCS = Path(__file__).resolve().parents[2] / "docs" / "schema.md"


def _set(name: str, fn: Callable[[xr.DataArray], xr.DataArray]):
    def apply(ds: xr.Dataset) -> xr.Dataset:
        ds = ds.copy(deep=True)
        ds[name] = fn(ds[name])
        return ds

    return apply


def _attr(name: str, value: object):
    def apply(ds: xr.Dataset) -> xr.Dataset:
        ds = ds.copy()
        ds.attrs = {**ds.attrs, name: value}
        return ds

    return apply


def _nan_at(da: xr.DataArray) -> xr.DataArray:
    da = da.copy()
    da[0, 0] = np.nan
    return da


def _bad_policy(da: xr.DataArray) -> xr.DataArray:
    da = da.copy()
    da[1, 2, 0] += 0.3
    return da


def _bad_action(da: xr.DataArray) -> xr.DataArray:
    da = da.copy()
    da[0, 1] = 5
    return da


def _with_var_attr(ds: xr.Dataset) -> xr.Dataset:
    ds = ds.copy()
    ds["h"] = ds["h"].assign_attrs(meta={"a": 1})
    return ds


# (defect, the name the problem must mention)
AGENT_DEFECTS = {
    "missing_action": (lambda ds: ds.drop_vars("action"), "'action'"),
    "missing_policy": (lambda ds: ds.drop_vars("policy"), "'policy'"),
    "missing_obs": (lambda ds: ds.drop_vars("obs"), "'obs'"),
    "action_float": (_set("action", lambda d: d.astype(np.float32)), "'action'"),
    "reward_int": (_set("reward", lambda d: d.astype(np.int64)), "'reward'"),
    "h_wrong_dims": (_set("h", lambda d: d.rename(unit="neuron")), "'h'"),
    "value_nan": (_set("value", _nan_at), "'value'"),
    "reward_nan": (_set("reward", _nan_at), "'reward'"),
    "policy_not_distribution": (_set("policy", _bad_policy), "'policy'"),
    "action_out_of_range": (_set("action", _bad_action), "'action'"),
    "arm_probs_int": (_set("arm_probs", lambda d: (d * 10).astype(np.int64)), "'arm_probs'"),
    "best_arm_dims": (_set("best_arm", lambda d: d.isel(step=0)), "'best_arm'"),
    "unknown_schema_version": (_attr("schema_version", 99), "'schema_version'"),
    "missing_seed": (lambda ds: ds.drop_attrs(deep=False).assign_attrs(
        {k: v for k, v in ds.attrs.items() if k != "seed"}), "'seed'"),
    "config_not_json": (_attr("config_json", "{not json"), "'config_json'"),
    "discount_out_of_range": (_attr("discount", 1.5), "'discount'"),
    "unknown_source": (_attr("source", "robot"), "'source'"),
    "attr_dict": (_attr("extra", {"a": 1}), "'extra'"),
    "attr_bool": (_attr("flag", True), "'flag'"),
    "attr_none": (_attr("note", None), "'note'"),
    "variable_attr_dict": (_with_var_attr, "'h'"),
    "missing_stage": (lambda ds: ds.drop_vars("stage"), "'stage'"),
    "trial_float": (lambda ds: ds.assign_coords(trial=ds.trial.astype(float)), "'trial'"),
    "missing_unit_coord": (lambda ds: ds.drop_vars("unit"), "'unit'"),
    "extra_var_not_by_episode": (
        lambda ds: ds.assign(weird=(("step",), np.zeros(ds.sizes["step"]))), "'weird'"),
}  # fmt: skip

LAB_DEFECTS = {
    "lab_missing_subject": (lambda ds: ds.drop_vars("subject"), "'subject'"),
    "lab_missing_choice1": (lambda ds: ds.drop_vars("choice1"), "'choice1'"),
    "lab_state2_float": (_set("state2", lambda d: d.astype(np.float64)), "'state2'"),
    "lab_common_transition_int": (
        _set("common_transition", lambda d: d.astype(np.int64)), "'common_transition'"),
    "lab_missing_preset": (lambda ds: ds.drop_attrs(deep=False).assign_attrs(
        {k: v for k, v in ds.attrs.items() if k != "preset"}), "'preset'"),
}  # fmt: skip


def _problems(ds: xr.Dataset) -> list[str]:
    with pytest.raises(RecordingError) as info:
        validate_recording(ds)
    return info.value.problems


def test_agent_recording_is_valid(bandit_recording: xr.Dataset) -> None:
    validate_recording(bandit_recording)


def test_lab_trial_level_two_step_is_valid_with_missed_trials() -> None:
    ds = lab_two_step()
    assert np.isnan(ds.reward.values).any()
    validate_recording(ds)


@pytest.mark.parametrize("defect", AGENT_DEFECTS, ids=list(AGENT_DEFECTS))
def test_agent_defect_is_named(bandit_recording: xr.Dataset, defect: str) -> None:
    broken, name = AGENT_DEFECTS[defect]
    problems = _problems(broken(bandit_recording))
    assert len(problems) == 1, problems
    assert name in problems[0]


@pytest.mark.parametrize("defect", LAB_DEFECTS, ids=list(LAB_DEFECTS))
def test_lab_defect_is_named(defect: str) -> None:
    broken, name = LAB_DEFECTS[defect]
    problems = _problems(broken(lab_two_step()))
    assert len(problems) == 1, problems
    assert name in problems[0]


def test_every_problem_reported_at_once(bandit_recording: xr.Dataset) -> None:
    ds = bandit_recording.drop_vars(["obs", "stage"])
    ds["reward"] = ds["reward"].astype(np.int64)
    ds.attrs["schema_version"] = 7
    message = str(pytest.raises(RecordingError, validate_recording, ds).value)
    for name in ("'obs'", "'stage'", "'reward'", "'schema_version'"):
        assert name in message
    assert "(4 problems)" in message


def test_value_checks_can_be_skipped(bandit_recording: xr.Dataset) -> None:
    ds = _set("value", _nan_at)(bandit_recording)
    validate_recording(ds, check_values=False)


def test_value_checks_on_dask_backed_dataset(bandit_recording: xr.Dataset) -> None:
    ds = _set("reward", _nan_at)(bandit_recording).chunk({"episode": 2})
    assert "'reward'" in _problems(ds)[0]


def test_baseline_without_units_or_value_is_valid(bandit_recording: xr.Dataset) -> None:
    validate_recording(bandit_recording.drop_vars(["h", "c", "value", "rpe", "unit"]))


def test_not_a_dataset() -> None:
    with pytest.raises(RecordingError, match="expected an xarray.Dataset, got DataArray"):
        validate_recording(xr.DataArray([1]))


def test_docs_page_documents_every_name() -> None:
    text = DOCS.read_text(encoding="utf-8")
    names = [*VARIABLES, *COORDS, *ATTRS]
    names += [n for specs in FAMILY_VARIABLES.values() for n in specs]
    missing = [n for n in names if not re.search(rf"`{re.escape(n)}`", text)]
    assert not missing, f"docs/schema.md does not mention {missing}"

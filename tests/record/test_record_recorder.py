"""The recorder: what it captures, against the values the toy agent and task produced."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
import xarray as xr
from record_toys import NUM_UNITS, ChoiceOnlyAgent, ToyAgent

from neurometa.record import RecordingError, record, validate_recording
from neurometa.record.schema import FAMILY_VARIABLES, task_family
from neurometa.tasks import PRESETS, MetaRLInputs, make


def test_dims_coords_and_attrs(bandit_recording: xr.Dataset) -> None:
    ds = bandit_recording
    assert dict(ds.sizes) == {
        "episode": 7, "step": 6, "obs_feature": 1, "action_id": 2, "unit": NUM_UNITS, "arm": 2,
    }  # fmt: skip
    # 7 episodes in batches of 3: the last batch is cut, episodes stay contiguous
    np.testing.assert_array_equal(ds.episode, np.arange(7))
    np.testing.assert_array_equal(ds.trial, np.arange(6))
    assert list(ds.stage.values) == ["choice"] * 6
    assert ds.action.dtype == np.int64
    assert {ds[v].dtype for v in ("reward", "value", "rpe", "policy", "obs", "h", "c")} == {
        np.dtype(np.float32)
    }
    assert (ds.attrs["agent"], ds.attrs["seed"]) == ("toy", 11)
    assert (ds.attrs["preset"], ds.attrs["task"]) == ("bandit/independent", "bandit")
    config = json.loads(ds.attrs["config_json"])
    assert config["recording"] == {"num_episodes": 7, "batch_size": 3, "seed": 11}
    assert config["task"]["num_trials"] == 6
    assert ds.rpe.attrs["long_name"].startswith("TD error")


def test_captured_values_match_agent_outputs(bandit_recording: xr.Dataset) -> None:
    ds = bandit_recording
    p1 = np.exp(1.0) / (1.0 + np.exp(1.0))  # softmax([0, 1])[1]
    np.testing.assert_allclose(ds.policy.isel(action_id=1), p1, rtol=1e-6)
    np.testing.assert_allclose(ds.value, 0.1 * ds.step.broadcast_like(ds.value), rtol=1e-6)
    expected_h = ds.obs.sum("obs_feature") + ds.unit.astype(np.float32)
    np.testing.assert_allclose(ds.h, expected_h.transpose(*ds.h.dims), rtol=1e-6)
    np.testing.assert_allclose(ds.c, (ds.step + 10 * ds.unit).broadcast_like(ds.c))


def test_bandit_ground_truth_consistent(bandit_recording: xr.Dataset) -> None:
    ds = bandit_recording
    np.testing.assert_array_equal(ds.best_arm, ds.arm_probs.argmax("arm"))
    # arm probabilities are fixed within an episode and rewards are 0/1
    assert float(abs(ds.arm_probs - ds.arm_probs.isel(step=0)).max()) == 0.0
    assert set(np.unique(ds.reward.values)) <= {0.0, 1.0}


def test_meta_rl_obs_carries_previous_action_and_reward() -> None:
    task = MetaRLInputs(make("bandit/independent", 4, num_trials=5), trial_index=False)
    ds = record(ToyAgent(), task, 4, seed=2, progress=False)
    # obs = [bandit obs (1), one_hot(prev action) (2), prev reward (1)]
    prev_action = ds.obs.isel(step=slice(1, None), obs_feature=[1, 2]).argmax("obs_feature")
    np.testing.assert_array_equal(prev_action, ds.action.isel(step=slice(None, -1)))
    prev_reward = ds.obs.isel(step=slice(1, None), obs_feature=3)
    np.testing.assert_array_equal(prev_reward, ds.reward.isel(step=slice(None, -1)))
    assert ds.attrs["task"] == "bandit"


def test_rpe_is_td_error_when_agent_gives_none(bandit_recording: xr.Dataset) -> None:
    r, v = bandit_recording.reward.values, bandit_recording.value.values
    expected = np.empty_like(r)
    for t in range(r.shape[1]):  # delta_t = r_t + 0.9 V_(t+1) - V_t, with V_T = 0
        next_value = v[:, t + 1] if t + 1 < r.shape[1] else 0.0
        expected[:, t] = r[:, t] + 0.9 * next_value - v[:, t]
    np.testing.assert_allclose(bandit_recording.rpe, expected, rtol=1e-6, atol=1e-7)


def test_agent_rpe_is_recorded_as_given() -> None:
    ds = record(ToyAgent(own_rpe=True), make("bandit/independent", 2, num_trials=4), 2,
                seed=0, progress=False)  # fmt: skip
    np.testing.assert_array_equal(ds.rpe, ds.reward * 2.0 - 1.0)


def test_memory_readouts_get_declared_or_generic_dims() -> None:
    ds = record(ToyAgent(memory=True), make("bandit/independent", 2, num_trials=3), 2,
                seed=0, progress=False)  # fmt: skip
    assert ds.retrieval_weights.dims == ("episode", "step", "neighbor")
    assert ds.gate.dims == ("episode", "step")
    assert ds.read_pair.dims == ("episode", "step", "read_pair_dim0", "read_pair_dim1")
    np.testing.assert_array_equal(ds.gate, 0.5)
    validate_recording(ds)


def test_baseline_like_agent_has_no_units_value_or_rpe() -> None:
    ds = record(ChoiceOnlyAgent(), make("bandit/independent", 3, num_trials=4), 3,
                seed=0, progress=False)  # fmt: skip
    assert "unit" not in ds.dims
    assert not {"h", "c", "value", "rpe"} & set(ds.data_vars)
    validate_recording(ds)


def test_two_step_trial_and_stage_coords() -> None:
    task = make("two_step/daw2011", 2)
    ds = record(ToyAgent(), task, 2, seed=0, progress=False, preset="two_step/daw2011")
    num_trials = task.num_trials
    np.testing.assert_array_equal(ds.trial, np.repeat(np.arange(num_trials), 2))
    assert list(ds.stage.values) == ["first", "second"] * num_trials
    assert ds.common_transition.dtype == bool
    # state2 follows the first-stage choice through the common transition
    choice1 = ds.action.isel(step=ds.stage == "first")
    common = ds.common_transition.isel(step=ds.stage == "first")
    state2 = ds.state2.isel(step=ds.stage == "first")
    np.testing.assert_array_equal(state2, np.where(common, choice1, 1 - choice1))


def test_same_seed_same_recording_other_seed_differs() -> None:
    def run(seed: int) -> xr.Dataset:
        task = make("bandit/independent", 3, num_trials=5)
        return record(ToyAgent(), task, 5, seed=seed, progress=False)

    first, again = run(4), run(4)
    xr.testing.assert_identical(first, again.assign_attrs(history=first.attrs["history"]))
    assert not run(4).action.equals(run(5).action)


def test_batch_size_builds_task_from_preset() -> None:
    ds = record(ToyAgent(), "harlow/wang2018", 5, seed=0, batch_size=2, progress=False)
    assert (ds.sizes["episode"], ds.attrs["preset"]) == (5, "harlow/wang2018")
    assert json.loads(ds.attrs["config_json"])["recording"]["batch_size"] == 2


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [({"num_episodes": 0}, "num_episodes"), ({"batch_size": 5}, "batch_size=5")],
    ids=["zero_episodes", "batch_size_mismatch"],
)
def test_bad_arguments(kwargs: dict, message: str) -> None:
    args = {"num_episodes": 2, **kwargs}
    with pytest.raises(ValueError, match=message):
        record(ToyAgent(), make("bandit/independent", 2), seed=0, progress=False, **args)


def test_wrong_output_shape_is_named() -> None:
    class BadAgent(ToyAgent):
        def act(self, obs, info):
            action, out = super().act(obs, info)
            return action, {**out, "value": torch.zeros(1)}

    with pytest.raises(RecordingError, match="'value' has shape"):
        record(BadAgent(), make("bandit/independent", 2, num_trials=2), 2, seed=0,
               progress=False)  # fmt: skip


def test_name_clash_between_agent_and_task_is_an_error() -> None:
    class ClashAgent(ToyAgent):
        def act(self, obs, info):
            action, out = super().act(obs, info)
            return action, {**out, "best_arm": torch.zeros(self.num_envs, dtype=torch.long)}

    with pytest.raises(RecordingError, match="'best_arm' was given twice at step 0"):
        record(ClashAgent(), make("bandit/independent", 2, num_trials=2), 2, seed=0,
               progress=False)  # fmt: skip


@pytest.mark.parametrize("preset", sorted(PRESETS), ids=sorted(PRESETS))
def test_every_task_preset_records_into_the_schema(preset: str) -> None:
    task = make(preset, 2)
    ds = record(ToyAgent(), MetaRLInputs(task), 2, seed=0, progress=False, preset=preset)
    validate_recording(ds)  # dtypes/dims of the family's variables included
    assert set(task.hidden_variables) <= set(ds.data_vars)
    assert set(task.hidden_variables) <= set(FAMILY_VARIABLES[task_family(preset)])


def test_task_family_of_a_preset_id_and_of_a_task() -> None:
    assert task_family("two_step/daw2011") == "two_step"
    task = make("harlow/wang2018", 2)
    assert task_family(task) == "harlow"
    assert task_family(MetaRLInputs(task)) == "harlow"
    with pytest.raises(TypeError, match="metadata"):
        task_family(object())

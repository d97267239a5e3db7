import numpy as np
import pandas as pd
import pytest
import xarray as xr

from neurometa.analysis._common import AnalysisError
from neurometa.analysis.report import summary_json, write_result
from neurometa.analysis.result_attrs import describe_result

CF_GLOBALS = ("Conventions", "title", "history")


def _without_cf_globals(ds):
    assert ds.attrs["Conventions"] == "CF-1.10"
    return ds.drop_attrs(deep=False).assign_attrs(
        {k: v for k, v in ds.attrs.items() if k not in CF_GLOBALS}
    )


def test_dataframe_results_round_trip_through_netcdf_and_csv(tmp_path):
    table = pd.DataFrame({"term": ["a", "b"], "coef": [0.5, -1.25], "n": [3, 4]}).set_index("term")
    table.attrs.update(cov_type="cluster", flag=True, prior={"w": {"mean": np.float64(0.5)}})
    write_result(tmp_path, "res", table)
    back = xr.open_dataset(tmp_path / "res.nc")
    np.testing.assert_array_equal(back["coef"].values, [0.5, -1.25])
    assert list(back["term"].values) == ["a", "b"]
    # nothing dropped: booleans as 0/1, a dict as JSON text beside the plain attrs
    assert _without_cf_globals(back).attrs == {
        "cov_type": "cluster",
        "flag": 1,
        "prior_json": '{"w": {"mean": 0.5}}',
    }
    csv = pd.read_csv(tmp_path / "res.csv", index_col="term")
    pd.testing.assert_frame_equal(csv, table, check_dtype=False)


def _table_with_a_table_in_attrs() -> pd.DataFrame:
    table = pd.DataFrame({"a": [1]}, index=pd.Index([0], name="row"))
    table.attrs["cov"] = pd.DataFrame([[1.0]])
    return table


@pytest.mark.parametrize(
    ("result", "message"),
    [
        (pd.DataFrame({"a": [1]}), "index has no name"),
        (_table_with_a_table_in_attrs(), "attr 'cov' is a DataFrame"),
        (xr.Dataset({"a": ("x", [1]), "b": ("y", [2])}), "unrelated dimensions"),
    ],
    ids=["unnamed-index", "table-in-attrs", "unrelated-dims"],
)
def test_what_netcdf_or_csv_cannot_hold_is_refused_not_dropped(tmp_path, result, message):
    with pytest.raises(AnalysisError, match=message):
        write_result(tmp_path, "bad", result)
    assert not list(tmp_path.iterdir())


def test_scalar_results_are_one_csv_row(tmp_path):
    ds = xr.Dataset({"similarity": 0.25, "p": 0.01}, attrs={"seed": 3})
    write_result(tmp_path, "s", ds)
    back = _without_cf_globals(xr.open_dataset(tmp_path / "s.nc").load())
    xr.testing.assert_identical(back, describe_result(ds.copy()))  # CF attrs added
    assert pd.read_csv(tmp_path / "s.csv").to_dict("records") == [{"similarity": 0.25, "p": 0.01}]


def test_dataset_results_round_trip(tmp_path):
    ds = xr.Dataset({"score": ("fold", [0.1, 0.2])}, coords={"fold": [0, 1]}, attrs={"k": 2})
    write_result(tmp_path, "ds", ds)
    back = _without_cf_globals(xr.open_dataset(tmp_path / "ds.nc").load())
    xr.testing.assert_identical(back, describe_result(ds.copy()))
    assert list(pd.read_csv(tmp_path / "ds.csv")["score"]) == [0.1, 0.2]


def test_nothing_is_written_without_an_output_folder(tmp_path):
    write_result(None, "x", pd.DataFrame({"a": [1]}))
    assert not list(tmp_path.iterdir())


def test_summary_json_is_strict_json():
    assert summary_json({"a": float("nan"), "b": np.float64(1.5), "c": np.arange(2)}) == (
        '{\n "a": null,\n "b": 1.5,\n "c": [\n  0,\n  1\n ]\n}'
    )

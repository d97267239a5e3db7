import numpy as np
import pytest
from _synthetic_recordings import agent_recording
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GroupKFold, cross_val_score

from neurometa.analysis import population
from neurometa.analysis._common import AnalysisError


def _recording(coding_strength: float, seed: int = 0):
    """Units whose activity carries the chosen action with the given strength."""
    rng = np.random.default_rng(seed)
    action = rng.integers(0, 2, (12, 40))
    reward = (rng.random((12, 40)) < 0.5).astype(float)
    h = rng.normal(size=(12, 40, 8))
    h[..., :3] += coding_strength * (2 * action[..., None] - 1)
    ds = agent_recording(
        action, reward, variables={"h": (("episode", "step", "unit"), h.astype(np.float32))}
    )
    return ds.assign_coords(unit=np.arange(8))


@pytest.mark.parametrize(
    ("strength", "low", "high"), [(2.0, 0.95, 1.0), (0.0, 0.35, 0.65)], ids=["coding", "null"]
)
def test_decoding_finds_planted_information_and_sits_at_chance_without(strength, low, high):
    res = population.decode(_recording(strength), "action", num_folds=4)
    assert low <= float(res["mean_score"]) <= high
    assert float(res["mean_score"]) == pytest.approx(res["score"].values.mean())
    assert res.attrs["metric"] == "accuracy"


def test_decoding_equals_scikit_learn_with_grouped_folds():
    ds = _recording(0.5)
    est = LogisticRegression(max_iter=500)
    res = population.decode(ds, "action", num_folds=3, estimator=est)
    X, y, groups = population.decoding_data(ds, "action")
    ref = cross_val_score(est, X, y, groups=groups, cv=GroupKFold(3), scoring="accuracy")
    np.testing.assert_allclose(res["score"].values, ref)


def test_folds_never_split_an_episode():
    X, y, groups = population.decoding_data(_recording(1.0), "action")
    for train, test in GroupKFold(4).split(X, y, groups):
        assert not set(groups[train]) & set(groups[test])


def test_rdm_reflects_planted_condition_structure():
    ds = _recording(2.0)
    mat = population.condition_rdm(ds, ["action", "reward"])
    assert mat.shape == (4, 4)
    np.testing.assert_allclose(np.diag(mat.values), 0, atol=1e-12)
    labels = list(mat["condition"].values)
    same = mat.sel(condition="action=0,reward=0", condition_b="action=0,reward=1").item()
    diff = mat.sel(condition="action=0,reward=0", condition_b="action=1,reward=0").item()
    assert same < diff  # conditions sharing the coded action are closer
    assert labels[0] == "action=0,reward=0"


def test_too_many_folds_is_an_error():
    with pytest.raises(AnalysisError, match="num_folds"):
        population.decode(_recording(1.0), "action", num_folds=50)

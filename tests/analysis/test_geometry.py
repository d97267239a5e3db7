"""Representational geometry: CKA and Procrustes against their definitions, known cases."""

import numpy as np
import pytest
from scipy.spatial import procrustes as scipy_procrustes

from neurometa.analysis._common import AnalysisError
from neurometa.analysis.compare_rsa import rdm, rdm_similarity
from neurometa.analysis.geometry import linear_cka, permutation_test, procrustes_distance


def _unbiased_hsic(k: np.ndarray, l: np.ndarray) -> float:  # noqa: E741 - the paper's L
    """Song et al. 2012, Eq. 5, written out: kernels with zeroed diagonals."""
    n = k.shape[0]
    k, l = k - np.diag(np.diag(k)), l - np.diag(np.diag(l))  # noqa: E741
    one = np.ones(n)
    return (
        np.trace(k @ l)
        + (one @ k @ one) * (one @ l @ one) / ((n - 1) * (n - 2))
        - 2.0 / (n - 2) * (one @ k @ l @ one)
    ) / (n * (n - 3))


def _biased_hsic(k: np.ndarray, l: np.ndarray) -> float:  # noqa: E741
    """Gretton et al. 2005: tr(K H L H) / (n - 1)²."""
    n = k.shape[0]
    h = np.eye(n) - np.ones((n, n)) / n
    return np.trace(k @ h @ l @ h) / (n - 1) ** 2


@pytest.mark.parametrize("debiased", [True, False], ids=["debiased", "biased"])
def test_cka_equals_hsic_of_linear_kernels(debiased):
    rng = np.random.default_rng(0)
    x, y = rng.normal(size=(9, 30)), rng.normal(size=(9, 5))
    y[:, 0] += x[:, 0]
    k, l = x @ x.T, y @ y.T  # noqa: E741
    hsic = _unbiased_hsic if debiased else _biased_hsic
    expected = hsic(k, l) / np.sqrt(hsic(k, k) * hsic(l, l))
    assert linear_cka(x, y, debiased=debiased) == pytest.approx(expected, rel=1e-10)


def test_debiasing_removes_the_few_conditions_many_units_bias():
    rng = np.random.default_rng(1)
    plain, debiased = [], []
    for _ in range(50):
        x, y = rng.normal(size=(8, 300)), rng.normal(size=(8, 300))
        plain.append(linear_cka(x, y, debiased=False))
        debiased.append(linear_cka(x, y))
    assert np.mean(plain) > 0.7  # biased towards 1 with 8 conditions, 300 units
    assert abs(np.mean(debiased)) < 0.05


def test_procrustes_equals_scipy_disparity():
    rng = np.random.default_rng(2)
    x, y = rng.normal(size=(10, 4)), rng.normal(size=(10, 4))
    _, _, disparity = scipy_procrustes(x, y)
    assert procrustes_distance(x, y) == pytest.approx(np.arccos(np.sqrt(1 - disparity)))


def test_procrustes_is_symmetric_and_handles_different_widths():
    rng = np.random.default_rng(3)
    x, y = rng.normal(size=(8, 3)), rng.normal(size=(8, 12))
    assert procrustes_distance(x, y) == pytest.approx(procrustes_distance(y, x))
    padded = np.hstack([x, np.zeros((8, 9))])
    assert procrustes_distance(x, y) == pytest.approx(procrustes_distance(padded, y))
    assert 0 < procrustes_distance(x, y) <= np.pi / 2


def _patterns(seed: int, conditions: int = 12, units: int = 40) -> np.ndarray:
    return np.random.default_rng(seed).normal(size=(conditions, units))


def _rotated(x: np.ndarray, seed: int, width: int = 60) -> np.ndarray:
    """A rotated (into more units), scaled, shifted copy."""
    rng = np.random.default_rng(seed)
    basis = np.linalg.qr(rng.normal(size=(width, x.shape[1])))[0].T  # (units, width)
    return 2.5 * x @ basis + 3.0


def test_rotated_copy_has_identical_geometry():
    x = _patterns(0)
    y = _rotated(x, 1)
    assert linear_cka(x, y) == pytest.approx(1.0, abs=1e-10)
    assert procrustes_distance(x, y) == pytest.approx(0.0, abs=1e-6)
    euclid = rdm_similarity(rdm(x, "euclidean"), rdm(y, "euclidean"))
    assert euclid == pytest.approx(1.0)


@pytest.mark.parametrize(
    ("make", "related"),
    [
        (lambda x, rng: _rotated(x, 5), True),
        (lambda x, rng: x + 0.7 * rng.normal(size=x.shape), True),
        (lambda x, rng: rng.normal(size=(x.shape[0], 25)), False),
    ],
    ids=["rotated", "noisy", "unrelated"],
)
@pytest.mark.parametrize(
    ("statistic", "greater"),
    [
        (linear_cka, True),
        (procrustes_distance, False),
        (lambda a, b: rdm_similarity(rdm(a), rdm(b)), True),
    ],
    ids=["cka", "procrustes", "rsa"],
)
def test_permutation_null_separates_related_from_unrelated(make, related, statistic, greater):
    rng = np.random.default_rng(7)
    x = _patterns(4)
    y = make(x, rng)
    observed, null, p = permutation_test(
        statistic, x, y, num_permutations=199, rng=np.random.default_rng(8), greater=greater
    )
    if related:
        assert p <= 0.01
        assert (observed > null.max()) if greater else (observed < null.min())
    else:
        assert p > 0.05


def test_noisy_copy_lies_between_copy_and_unrelated():
    rng = np.random.default_rng(9)
    x = _patterns(10, conditions=20)
    noisy = x + 0.7 * rng.normal(size=x.shape)
    other = rng.normal(size=x.shape)
    assert 1.0 > linear_cka(x, noisy) > linear_cka(x, other) + 0.4
    assert 0.0 < procrustes_distance(x, noisy) < procrustes_distance(x, other) - 0.2


@pytest.mark.parametrize(
    ("x", "y", "message"),
    [
        (np.zeros((5, 3)), np.zeros((6, 3)), "same conditions"),
        (np.ones((3, 2)), np.ones((3, 2)), "at least 4 conditions"),
        (np.full((5, 2), np.nan), np.ones((5, 2)), "NaN"),
    ],
    ids=["conditions", "too-few", "nan"],
)
def test_bad_patterns_are_clear_errors(x, y, message):
    with pytest.raises(AnalysisError, match=message):
        linear_cka(x, y)

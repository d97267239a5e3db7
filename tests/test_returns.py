"""TD errors, returns and expected regret against slow loops and hand-derived values.

Every function is checked on numpy arrays and on torch tensors (the two must agree).
"""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest
import torch

from neurometa import returns

T, B = 7, 3
KINDS = ["numpy", "torch"]


def _as(kind: str, x: np.ndarray):  # noqa: ANN202 - numpy array or torch tensor
    return torch.from_numpy(x) if kind == "torch" else x


def _batch(kind: str, seed: int = 0) -> dict:
    g = np.random.default_rng(seed)
    discounts = 0.5 + 0.5 * g.random((T, B))
    discounts[3, 1] = 0.0  # an episode boundary inside the rollout
    d = {
        "rewards": g.standard_normal((T, B)),
        "discounts": discounts,
        "values": g.standard_normal((T, B)),
        "bootstrap_value": g.standard_normal(B),
    }
    return {k: _as(kind, v) for k, v in d.items()}


def _value(d: dict, t: int, b: int) -> float:
    """V_t, with V_T the bootstrap value."""
    return float(d["bootstrap_value"][b] if t == T else d["values"][t, b])


def _slow_n_step(d: dict, t: int, b: int, n: int) -> float:
    """G_{t:t+n} by the explicit sum r_t + γ_t r_{t+1} + ... + (Π γ) V_{t+n}."""
    end = min(t + n, T)
    total, weight = 0.0, 1.0
    for k in range(t, end):
        total += weight * float(d["rewards"][k, b])
        weight *= float(d["discounts"][k, b])
    return total + weight * _value(d, end, b)


@pytest.mark.parametrize("kind", KINDS)
def test_td_errors_match_elementwise_definition(kind):
    d = _batch(kind)
    got = returns.td_errors(**d)
    assert type(got) is type(d["rewards"])
    for t in range(T):
        for b in range(B):
            want = (
                float(d["rewards"][t, b])
                + float(d["discounts"][t, b]) * _value(d, t + 1, b)
                - float(d["values"][t, b])
            )
            assert float(got[t, b]) == pytest.approx(want, abs=1e-12)


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("n", [1, 2, 3, 10], ids=["n1", "n2", "n3", "n10_beyond_T"])
def test_n_step_returns_match_explicit_sum(kind, n):
    d = _batch(kind, 1)
    got = returns.n_step_returns(**d, n=n)
    for t in range(T):
        for b in range(B):
            assert float(got[t, b]) == pytest.approx(_slow_n_step(d, t, b, n), abs=1e-12)


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("lam", [0.0, 0.3, 0.9, 1.0], ids=["lam0", "lam03", "lam09", "lam1"])
def test_lambda_returns_match_forward_view(kind, lam):
    # Forward view (Sutton & Barto eq. 12.9, truncated at T):
    # G^λ_t = (1-λ) Σ_{n=1}^{T-t-1} λ^{n-1} G_{t:t+n} + λ^{T-t-1} G_{t:T}
    d = _batch(kind, 2)
    got = returns.lambda_returns(**d, lambda_=lam)
    for t in range(T):
        for b in range(B):
            horizon = T - t
            want = sum(
                (1 - lam) * lam ** (n - 1) * _slow_n_step(d, t, b, n) for n in range(1, horizon)
            )
            want += lam ** (horizon - 1) * _slow_n_step(d, t, b, horizon)
            assert float(got[t, b]) == pytest.approx(want, abs=1e-10)


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("lam", [0.0, 0.7, 1.0], ids=["lam0", "lam07", "lam1"])
def test_gae_matches_discounted_sum_of_td_errors(kind, lam):
    d = _batch(kind, 3)
    deltas = returns.td_errors(**d)
    got = returns.gae_advantages(**d, lambda_=lam)
    for t in range(T):
        for b in range(B):
            want, weight = 0.0, 1.0
            for k in range(t, T):
                want += weight * float(deltas[k, b])
                weight *= lam * float(d["discounts"][k, b])
            assert float(got[t, b]) == pytest.approx(want, abs=1e-10)
    lam_ret = returns.lambda_returns(**d, lambda_=lam)
    np.testing.assert_allclose(np.asarray(got), np.asarray(lam_ret - d["values"]), atol=1e-12)


@pytest.mark.parametrize("kind", KINDS)
def test_returns_hand_derived_two_steps(kind):
    # r = [1, 2], γ = [.5, .5], V = [.1, .2], V_T = .4, λ = .5
    # δ_0 = 1 + .5·.2 − .1 = 1.0 ; δ_1 = 2 + .5·.4 − .2 = 2.0
    # G^λ_1 = 2 + .5·(.5·.4 + .5·.4) = 2.2 ; G^λ_0 = 1 + .5·(.5·.2 + .5·2.2) = 1.6
    # A_1 = 2.0 ; A_0 = 1.0 + .5·.5·2.0 = 1.5 (= G^λ_0 − V_0)
    # 2-step: G_{0:2} = 1 + .5·(2 + .5·.4) = 2.1
    def col(*v: float):  # noqa: ANN202
        return _as(kind, np.array(v)[:, None])

    args = {
        "rewards": col(1.0, 2.0),
        "discounts": col(0.5, 0.5),
        "values": col(0.1, 0.2),
        "bootstrap_value": _as(kind, np.array([0.4])),
    }
    for got, want in (
        (returns.td_errors(**args), [1.0, 2.0]),
        (returns.lambda_returns(**args, lambda_=0.5), [1.6, 2.2]),
        (returns.gae_advantages(**args, lambda_=0.5), [1.5, 2.0]),
        (returns.n_step_returns(**args, n=2), [2.1, 2.2]),
    ):
        np.testing.assert_allclose(np.asarray(got)[:, 0], want, atol=1e-12)


def test_numpy_and_torch_give_the_same_float32_numbers():
    d = {k: v.astype(np.float32) for k, v in _batch("numpy", 4).items()}
    t = {k: torch.from_numpy(v) for k, v in d.items()}
    for fn, kw in (
        (returns.td_errors, {}),
        (returns.n_step_returns, {"n": 3}),
        (returns.lambda_returns, {"lambda_": 0.8}),
        (returns.gae_advantages, {"lambda_": 0.8}),
    ):
        np.testing.assert_array_equal(fn(**d, **kw), fn(**t, **kw).numpy())


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"values": np.zeros((T, B + 1))}, "values has shape"),
        ({"rewards": np.zeros(T)}, "time-major"),
        ({"bootstrap_value": np.zeros(B + 1)}, "bootstrap_value"),
    ],
    ids=["mismatched_batch", "not_time_major", "bad_bootstrap"],
)
def test_shape_errors_name_the_argument(kwargs, match):
    with pytest.raises(ValueError, match=match):
        returns.td_errors(**(_batch("numpy") | kwargs))


def test_bad_lambda_and_n_are_errors():
    with pytest.raises(ValueError, match="lambda_"):
        returns.lambda_returns(**_batch("numpy"), lambda_=1.5)
    with pytest.raises(ValueError, match="lambda_"):
        returns.gae_advantages(**_batch("numpy"), lambda_=-0.1)
    with pytest.raises(ValueError, match="positive integer"):
        returns.n_step_returns(**_batch("numpy"), n=0)
    with pytest.raises(TypeError, match="numpy array or a torch tensor"):
        returns.td_errors(**{k: v.tolist() for k, v in _batch("numpy").items()})


@pytest.mark.parametrize("kind", KINDS)
def test_expected_regret_hand_value(kind):
    # p = (.2, .7): choosing arm 0 costs .5, arm 1 costs 0
    p = _as(kind, np.array([[[0.2, 0.7], [0.2, 0.7]]], dtype=np.float32))
    got = returns.expected_regret(p, _as(kind, np.array([[0, 1]])))
    np.testing.assert_allclose(np.asarray(got), [[0.5, 0.0]], rtol=1e-6)


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("bad", [-1, 2], ids=["negative", "beyond_last_arm"])
def test_expected_regret_rejects_actions_that_are_not_arms(kind, bad):
    p = _as(kind, np.full((3, 2), 0.5))
    with pytest.raises(ValueError, match=r"\[0, 2\)"):
        returns.expected_regret(p, _as(kind, np.array([0, bad, 1])))


def test_expected_regret_rejects_mismatched_shapes_and_float_actions():
    with pytest.raises(ValueError, match="do not match"):
        returns.expected_regret(np.full((3, 2), 0.5), np.zeros(4, dtype=np.int64))
    with pytest.raises(ValueError, match="integers"):
        returns.expected_regret(np.full((3, 2), 0.5), np.zeros(3))


def test_module_never_imports_torch():
    code = "import sys, neurometa.returns; assert 'torch' not in sys.modules"
    subprocess.run([sys.executable, "-c", code], check=True)

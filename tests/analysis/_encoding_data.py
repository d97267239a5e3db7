"""A synthetic lab session for the encoding tests: neurons planted on a learner's latents."""

from __future__ import annotations

import numpy as np
import pandas as pd
import xarray as xr

from neurometa.data.tables import check_table, table_to_recording

LATENTS = ("q_chosen", "q_diff", "rpe")


def q_learning_session(
    num_sessions: int,
    num_trials: int,
    rng: np.random.Generator,
    *,
    alpha: float = 0.3,
    beta: float = 4.0,
    reversal: int = 40,
) -> dict[str, np.ndarray]:
    """A Rescorla-Wagner Q-learner with softmax choice on a reversal bandit (0.8 / 0.2).

    Returns (sessions, trials) arrays: choice, reward and the latents ``q_chosen`` (value of
    the chosen option before the outcome), ``q_diff`` (Q(1) - Q(0) before the choice) and
    ``rpe`` (reward - q_chosen).
    """
    shape = (num_sessions, num_trials)
    out = {k: np.zeros(shape) for k in ("choice", "reward", *LATENTS)}
    for s in range(num_sessions):
        q = np.full(2, 0.5)
        for t in range(num_trials):
            good = (t // reversal) % 2
            p1 = 1.0 / (1.0 + np.exp(-beta * (q[1] - q[0])))
            a = int(rng.random() < p1)
            r = float(rng.random() < (0.8 if a == good else 0.2))
            out["q_diff"][s, t] = q[1] - q[0]
            out["q_chosen"][s, t] = q[a]
            out["rpe"][s, t] = r - q[a]
            out["choice"][s, t], out["reward"][s, t] = a, r
            q[a] += alpha * (r - q[a])
    return out


def planted_session(
    *,
    num_sessions: int = 8,
    num_trials: int = 150,
    num_planted: int = 100,
    num_noise: int = 200,
    seed: int = 0,
    drift: float = 0.8,
) -> tuple[xr.Dataset, np.ndarray]:
    """A lab recording whose first ``num_planted`` neurons are linear in the latents.

    Planted neuron ``u``: ``y = w_u · z(latents) + noise`` with ``|w_u|`` giving an R² of
    about 0.1–0.4; noise neurons: noise only. All noise is AR(1) over trials with
    coefficient ``drift`` (slow drifts, as in real recordings), unit variance.

    Returns
    -------
    ds : xarray.Dataset
        Lab recording (bandit layout) with ``activity (episode, step, unit)`` and the
        latents as per-trial variables.
    planted : numpy.ndarray of bool, shape (unit,)
    """
    rng = np.random.default_rng(seed)
    sim = q_learning_session(num_sessions, num_trials, rng)
    z = np.stack([(sim[k] - sim[k].mean()) / sim[k].std() for k in LATENTS], -1)
    num_units = num_planted + num_noise
    weights = rng.normal(size=(len(LATENTS), num_units))
    weights /= np.linalg.norm(weights, axis=0)
    weights *= rng.uniform(0.35, 0.8, num_units)
    weights[:, num_planted:] = 0.0
    noise = np.zeros((num_sessions, num_trials, num_units))
    eps = rng.normal(size=noise.shape) * np.sqrt(1 - drift**2)
    noise[:, 0] = rng.normal(size=(num_sessions, num_units))
    for t in range(1, num_trials):
        noise[:, t] = drift * noise[:, t - 1] + eps[:, t]
    activity = z @ weights + noise + 5.0
    table = pd.DataFrame(
        {
            "subject": "m1",
            "session": np.repeat(np.arange(num_sessions), num_trials),
            "trial": np.tile(np.arange(num_trials), num_sessions),
            "choice": sim["choice"].ravel().astype(int),
            "reward": sim["reward"].ravel().astype(int),
            **{k: sim[k].ravel() for k in LATENTS},
        }
    )
    ds = table_to_recording(check_table(table.astype(str), "bandit", source="synthetic"))
    ds["activity"] = (("episode", "step", "unit"), activity)
    ds = ds.assign_coords(unit=np.arange(num_units))
    planted = np.arange(num_units) < num_planted
    return ds, planted

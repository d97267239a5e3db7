"""Synthetic recordings in the project's schema, with planted ground truth, for the tests."""

from __future__ import annotations

import json

import numpy as np
import xarray as xr

from neurometa import __version__


def agent_recording(
    action: np.ndarray,
    reward: np.ndarray,
    *,
    stages: tuple[str, ...] = ("choice",),
    preset: str = "bandit/independent",
    num_actions: int = 2,
    variables: dict[str, tuple[tuple[str, ...], np.ndarray]] | None = None,
) -> xr.Dataset:
    """A valid agent recording: action/reward (E, S), uniform policy, one-feature obs."""
    num_episodes, num_steps = action.shape
    spt = len(stages)
    dims = ("episode", "step")
    data = {
        "action": (dims, action.astype(np.int64)),
        "reward": (dims, reward.astype(np.float32)),
        "policy": (
            (*dims, "action_id"),
            np.full((num_episodes, num_steps, num_actions), 1.0 / num_actions, np.float32),
        ),
        "obs": ((*dims, "obs_feature"), np.zeros((num_episodes, num_steps, 1), np.float32)),
    }
    data.update(variables or {})
    coords = {
        "episode": np.arange(num_episodes),
        "step": np.arange(num_steps),
        "trial": ("step", np.repeat(np.arange(num_steps // spt), spt)),
        "stage": ("step", np.tile(np.asarray(stages), num_steps // spt)),
    }
    attrs = {
        "schema_version": 1,
        "source": "agent",
        "task": preset.split("/")[0],
        "preset": preset,
        "config_json": json.dumps({}),
        "neurometa_version": __version__,
        "agent": "synthetic",
        "seed": 0,
        "discount": 0.9,
    }
    return xr.Dataset(data, coords=coords, attrs=attrs)


def simulate_hybrid(
    params: np.ndarray, num_trials: int, rng: np.random.Generator
) -> dict[str, np.ndarray]:
    """Hybrid learners on the Daw 2011 task (the behaviour package's simulator) as arrays.

    Returns ``choice1``, ``state2``, ``choice2``, ``reward``, ``common`` (S, T) and
    ``reward_probs`` (S, T, 2, 2).
    """
    from neurometa.behaviour import simulate

    num = params.shape[0]
    table = simulate(
        "hybrid", params, "two_step/daw2011", num_trials, seed=int(rng.integers(2**31))
    )
    out = {
        k: table[k].to_numpy().reshape(num, num_trials)
        for k in ("choice1", "state2", "choice2", "reward", "common")
    }
    probs = [
        table[f"reward_prob_{s}{c}"].to_numpy().reshape(num, num_trials)
        for s in (0, 1)
        for c in (0, 1)
    ]
    out["reward_probs"] = np.stack(probs, axis=-1).reshape(num, num_trials, 2, 2)
    return out


def two_step_recording(
    params: np.ndarray, num_trials: int, seed: int, *, extra: dict | None = None
) -> tuple[xr.Dataset, dict[str, np.ndarray]]:
    """Hybrid learners (one per episode) on the Daw 2011 task, laid out as a recording."""
    rng = np.random.default_rng(seed)
    sim = simulate_hybrid(params, num_trials, rng)
    num_episodes = params.shape[0]
    action = np.stack([sim["choice1"], sim["choice2"]], axis=2).reshape(num_episodes, -1)
    reward = np.stack([np.zeros_like(sim["reward"]), sim["reward"]], axis=2)
    both = lambda x: np.repeat(x, 2, axis=1)  # noqa: E731 - same value on both steps
    probs = np.repeat(sim["reward_probs"], 2, axis=1).astype(np.float32)
    variables = {
        "choice1": (("episode", "step"), both(sim["choice1"])),
        "state2": (("episode", "step"), both(sim["state2"])),
        "common_transition": (("episode", "step"), both(sim["common"])),
        "reward_probs": (("episode", "step", "state", "choice2_option"), probs),
    }
    variables.update(extra or {})
    ds = agent_recording(
        action,
        reward.reshape(num_episodes, -1),
        stages=("first", "second"),
        preset="two_step/daw2011",
        variables=variables,
    )
    return ds, sim


def hybrid_params(
    num: int, rng: np.random.Generator, *, w: np.ndarray | None = None
) -> np.ndarray:
    """Hybrid-model parameter vectors (the model's order) in a well-identified range."""
    return np.column_stack(
        [
            rng.uniform(0.3, 0.7, num),
            rng.uniform(0.3, 0.7, num),
            rng.uniform(0.3, 0.7, num),
            rng.uniform(4.0, 7.0, num),
            rng.uniform(4.0, 7.0, num),
            rng.uniform(0.0, 0.2, num),
            rng.uniform(0.0, 1.0, num) if w is None else w,
        ]
    )

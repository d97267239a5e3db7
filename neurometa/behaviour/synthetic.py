"""Synthetic bandit sessions whose neurons code the simulated animal's value or RPE.

A simulated subject (Q-learning, :mod:`neurometa.behaviour.models.q_learning`, with known
``alpha`` and ``beta``) plays a reversal bandit; its true latents are computed by the same
recursion. A population of Poisson neurons is planted with coding classes:

- ``chosen_value`` units fire at ``b (1 + g z(Q_t(c_t)))`` in the **choice** window (the
  0.5 s after the choice, before the outcome);
- ``rpe`` units fire at ``b (1 + g z(δ_t))``, ``δ_t = r_t − Q_t(c_t)``, in the **outcome**
  window (the 0.5 s after the outcome);
- ``none`` units (and every unit outside its window) fire at their baseline ``b``;

with ``z`` the z-score clipped to ±2.5, ``b ~ U(5, 15)`` Hz and ``|g| = gain`` with a random
sign. Fitting the model to the choices and running the coding regression with the fitted
chosen value (choice window) or RPE (outcome window) should then find each planted
fraction ``p`` (detected: about ``p + α (1 − p)``, the false positives of the rest).
``datasets/make_bandit_nwb.py`` writes the same session as NWB (spike times).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import xarray as xr

from neurometa.seeding import RunSeeds

__all__ = ["CLASSES", "WINDOW", "bandit_session", "bandit_recording"]

#: Planted coding classes (besides ``none``) and the window each codes in.
CLASSES: dict[str, str] = {"chosen_value": "choice", "rpe": "outcome"}
#: Length (s) of the choice and outcome windows.
WINDOW = 0.5


def _zscore(x: np.ndarray) -> np.ndarray:
    return np.clip((x - x.mean()) / (x.std() + 1e-12), -2.5, 2.5)


def bandit_session(
    num_trials: int = 1000,
    num_units: int = 90,
    *,
    alpha: float = 0.3,
    beta: float = 5.0,
    fractions: dict[str, float] | None = None,
    gain: float = 0.35,
    task: str = "bandit/reversal",
    seed: int = 0,
) -> dict[str, Any]:
    """Simulate one session: behaviour, true latents, unit classes and window rates.

    Parameters
    ----------
    num_trials, num_units : int
    alpha, beta : float
        The simulated subject's learning rate and inverse temperature.
    fractions : dict, optional
        Planted fraction of units per class (default 0.3 ``chosen_value``, 0.3 ``rpe``).
    gain : float
        Modulation depth ``|g|`` (< 0.4 keeps rates positive).
    task : str
        A bandit task of :data:`neurometa.behaviour.tasks.TASKS`.
    seed : int

    Returns
    -------
    dict
        ``table`` (trial table: subject, session, trial, choice, reward, p0, p1),
        ``chosen_value`` and ``rpe`` (true, per trial), ``classes`` (per unit),
        ``rates`` (``{"choice": (T, U), "outcome": (T, U)}`` in spikes/s), ``baseline``.
    """
    from neurometa.behaviour.model import run_model
    from neurometa.behaviour.models import get_model
    from neurometa.behaviour.simulation import simulate

    fractions = {"chosen_value": 0.3, "rpe": 0.3} if fractions is None else dict(fractions)
    if set(fractions) - set(CLASSES) or sum(fractions.values()) > 1 or not 0 <= gain < 0.4:
        raise ValueError(
            f"fractions over {sorted(CLASSES)} summing to <= 1 and 0 <= gain < 0.4, "
            f"got {fractions} and {gain}"
        )
    seeds = RunSeeds(seed)
    table = simulate(
        "q_learning", {"alpha": [alpha], "beta": [beta]}, task, num_trials, seed=seeds.int("task")
    )
    model = get_model("q_learning")
    p = {"alpha": np.array([alpha]), "beta": np.array([beta])}
    trials = {k: table[k].to_numpy()[:, None] for k in ("choice", "reward")}
    res = run_model(
        model, p, trials, np.ones((num_trials, 1), bool), {"num_options": 2}, store=True
    )
    chosen, rpe = np.real(res.latents["chosen_value"][:, 0]), np.real(res.latents["rpe"][:, 0])
    rng = seeds.numpy("extra")
    counts = {c: int(np.floor(f * num_units + 1e-9)) for c, f in fractions.items()}
    labels = np.concatenate(
        [
            np.repeat(list(counts), list(counts.values())),
            np.repeat("none", num_units - sum(counts.values())),
        ]
    )
    classes = rng.permutation(labels)
    baseline = rng.uniform(5.0, 15.0, num_units)
    signs = rng.choice([-1.0, 1.0], num_units)
    coded = {"chosen_value": _zscore(chosen), "rpe": _zscore(rpe)}
    rates = {w: np.tile(baseline, (num_trials, 1)) for w in ("choice", "outcome")}
    for cls, window in CLASSES.items():
        units = classes == cls
        rates[window][:, units] *= 1 + gain * signs[units] * coded[cls][:, None]
    return {
        "table": table,
        "chosen_value": chosen,
        "rpe": rpe,
        "classes": classes,
        "rates": rates,
        "baseline": baseline,
        "alpha": alpha,
        "beta": beta,
    }


def bandit_recording(
    num_trials: int = 1000, num_units: int = 90, *, seed: int = 0, **options: Any
) -> xr.Dataset:
    """The session of :func:`bandit_session` as a lab recording, spike counts per window.

    Returns
    -------
    xarray.Dataset
        A valid lab recording (``bandit/lab``): ``action``, ``reward``, ``trial_id`` and
        ``activity_choice`` / ``activity_outcome`` ``(episode, step, unit)`` in spikes/s
        (Poisson counts in each 0.5 s window divided by its length); the unit coordinate
        ``unit_planted_coding`` holds each unit's class.

    Examples
    --------
    >>> ds = bandit_recording(num_trials=50, num_units=4, seed=1)
    >>> ds["activity_choice"].shape
    (1, 50, 4)
    """
    from neurometa.data.tables import check_table, table_to_recording

    session = bandit_session(num_trials, num_units, seed=seed, **options)
    table = session["table"][["subject", "trial", "choice", "reward"]].copy()
    table["subject"] = "sim01"
    raw = table.astype(str)
    ds = table_to_recording(check_table(raw, "bandit", source="synthetic"))
    rng = RunSeeds(seed).numpy("sampling")
    for window, rates in session["rates"].items():
        counts = rng.poisson(rates * WINDOW) / WINDOW
        ds[f"activity_{window}"] = xr.DataArray(
            counts[None].astype(np.float64),
            dims=("episode", "step", "unit"),
            attrs={"long_name": f"firing rate in the {window} window (0.5 s)", "units": "Hz"},
        )
    ds = ds.assign_coords(
        unit=np.arange(num_units), unit_planted_coding=("unit", session["classes"].astype(str))
    )
    ds.attrs["note"] = (
        f"synthetic: Q-learning subject alpha={session['alpha']}, "
        f"beta={session['beta']}; planted coding in unit_planted_coding"
    )
    return ds


del pd

"""Choices and outcomes as padded arrays, one row per session: what every model reads.

:func:`behaviour_data` turns a recording (agent or lab, any task family) or a tidy trial
table into :class:`BehaviourData`: arrays of shape ``(S, T)`` — one row per (subject,
session) sequence, trials in order, padded at the end — plus the map back to the
recording's episodes and steps (for writing latents) and to the table's rows. Values reset
at the start of every session. Every problem with the input is a
:class:`BehaviourDataError` naming the subject and what is wrong.
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
import pandas as pd

__all__ = ["BehaviourDataError", "BehaviourData", "behaviour_data", "choice_trials", "FAMILIES"]

#: Task families with behavioural models, and the trial columns each needs.
FAMILIES: dict[str, tuple[str, ...]] = {
    "bandit": ("choice", "reward"),
    "foraging": ("choice", "reward"),
    "two_step": ("choice1", "state2", "choice2", "reward"),
}


class BehaviourDataError(ValueError):
    """The behaviour cannot be fitted as given (the message names the subject and problem)."""


class BehaviourData:
    """Trials of every (subject, session) sequence as padded ``(S, T)`` arrays.

    Attributes
    ----------
    family : str
        Task family (``bandit``, ``foraging``, ``two_step``).
    choice_keys : tuple of str
        The choice of each stage (``("choice",)`` or ``("choice1", "choice2")``).
    arrays : dict of str to numpy.ndarray, each shape (S, T)
        ``choice`` / ``choice1``, ``state2``, ``choice2``, ``reward`` (0 on padding).
    valid : numpy.ndarray of bool, shape (S, T)
        Completed trials (False on padding).
    seq_subject : numpy.ndarray of int, shape (S,)
        Index into ``subjects`` of each sequence.
    subjects : numpy.ndarray of str
        Subject labels.
    sessions : numpy.ndarray, shape (S,)
        Session label of each sequence (the recording's episode or the table's session).
    row_index : numpy.ndarray of int, shape (S, T)
        Row of the source table at each position (−1 on padding).
    episode_position : numpy.ndarray of int, shape (S,)
        Position of each sequence on the recording's ``episode`` dim (−1 for tables).
    trial_position : numpy.ndarray of int, shape (S, T)
        Trial position within that episode (−1 on padding or for tables).
    info : dict
        ``num_options``, ``num_choice2``, ``common_prob``.
    """

    def __init__(
        self,
        table: pd.DataFrame,
        family: str,
        *,
        num_options: int | None = None,
        common_prob: float | None = None,
    ) -> None:
        if family not in FAMILIES:
            raise BehaviourDataError(
                f"no behavioural models for task family {family!r}; families with models: "
                f"{', '.join(sorted(FAMILIES))}"
            )
        self.family = family
        self.choice_keys = ("choice1", "choice2") if family == "two_step" else ("choice",)
        table = _checked_table(table, family)
        keys = ["subject", "session"]
        groups = table.groupby(keys, sort=True).indices
        self.subjects, seq_subject = np.unique(
            np.asarray([str(k[0]) for k in groups]), return_inverse=True
        )
        self.seq_subject = seq_subject.astype(np.int64)
        self.sessions = np.asarray([k[1] for k in groups], dtype=object)
        num_trials = max(len(idx) for idx in groups.values())
        self.row_index = np.full((len(groups), num_trials), -1, dtype=np.int64)
        order = table["_order"].to_numpy()
        for i, idx in enumerate(groups.values()):
            self.row_index[i, : len(idx)] = idx[np.argsort(order[idx], kind="stable")]
        self.valid = self.row_index >= 0
        take = np.where(self.valid, self.row_index, 0)
        self.arrays = {
            name: np.where(self.valid, table[name].to_numpy()[take], 0)
            for name in FAMILIES[family]
            if name in table
        }
        self.arrays["reward"] = self.arrays["reward"].astype(np.float64)
        self.episode_position = np.asarray(
            [table["_episode_position"].to_numpy()[idx[0]] for idx in groups.values()]
        )
        self.trial_position = np.where(
            self.valid, table["_trial_position"].to_numpy()[take], -1
        ).astype(np.int64)
        self.table = table
        self.info = _task_info(self, table, family, num_options, common_prob)
        _check_subjects(self)

    @property
    def num_sequences(self) -> int:
        """Number of (subject, session) sequences ``S``."""
        return self.valid.shape[0]

    def num_choices(self) -> np.ndarray:
        """Choices entering the likelihood per subject (two-step: both stages), shape (N,)."""
        per_seq = self.valid.sum(axis=1) * (
            2 if self.family == "two_step" and self.info["num_choice2"] > 1 else 1
        )
        return np.bincount(self.seq_subject, weights=per_seq, minlength=len(self.subjects))

    def subset(self, subjects: np.ndarray) -> BehaviourData:
        """The sequences of the subject indices ``subjects`` (sorted), renumbered."""
        keep = np.isin(self.seq_subject, subjects)
        out = object.__new__(BehaviourData)
        out.__dict__.update(self.__dict__)
        out.arrays = {k: v[keep] for k, v in self.arrays.items()}
        for name in ("valid", "row_index", "trial_position", "sessions", "episode_position"):
            setattr(out, name, getattr(self, name)[keep])
        out.seq_subject = np.searchsorted(subjects, self.seq_subject[keep])
        out.subjects = self.subjects[subjects]
        return out

    def __repr__(self) -> str:
        return (
            f"BehaviourData({self.family}: {len(self.subjects)} subject(s), "
            f"{self.num_sequences} session(s), {int(self.valid.sum())} trials)"
        )


def _checked_table(table: pd.DataFrame, family: str) -> pd.DataFrame:
    """Copy of ``table`` with ``subject``, ``session``, order and position columns checked."""
    if not isinstance(table, pd.DataFrame):
        raise BehaviourDataError(f"expected a trial table (DataFrame), got {type(table).__name__}")
    needed = [c for c in FAMILIES[family] if not (family == "two_step" and c == "choice2")]
    missing = [c for c in needed if c not in table.columns]
    if missing:
        raise BehaviourDataError(
            f"a {family} trial table needs column(s) {', '.join(missing)}; it has "
            f"{', '.join(map(str, table.columns))}"
        )
    if len(table) == 0:
        raise BehaviourDataError("the trial table is empty: no trials to fit")
    out = table.reset_index(drop=True).copy()
    out["subject"] = out["subject"].astype(str) if "subject" in out else "subject"
    session = next((c for c in ("session", "episode") if c in out), None)
    out["session"] = out[session] if session else 0
    out["_order"] = out["trial"] if "trial" in out else np.arange(len(out))
    out["_episode_position"] = out["episode"] if "episode" in out else -1
    out["_trial_position"] = out["trial_index"] if "trial_index" in out else -1
    if family == "two_step" and "choice2" not in out:
        out["choice2"] = 0
    choice_cols = ["choice1", "choice2"] if family == "two_step" else ["choice"]
    for col in choice_cols + (["state2"] if family == "two_step" else []):
        values = pd.to_numeric(out[col], errors="coerce").to_numpy(dtype=np.float64)
        bad = np.isfinite(values) & ((values != np.round(values)) | (values < -1))
        if bad.any():
            row = out.loc[np.flatnonzero(bad)[0]]
            raise BehaviourDataError(
                f"subject {row['subject']!r}: {col} must hold option numbers 0, 1, ... "
                f"(−1 or empty for a missed trial), got {row[col]!r}"
            )
        out[col] = np.where(np.isfinite(values), values, -1).astype(np.int64)
    out["reward"] = pd.to_numeric(out["reward"], errors="coerce").astype(np.float64)
    reward = out["reward"].to_numpy()
    if np.nanmin(reward, initial=0.0) < 0 or np.nanmax(reward, initial=1.0) > 1:
        warnings.warn(
            f"rewards outside [0, 1] (range {np.nanmin(reward):g} to {np.nanmax(reward):g}): "
            "the models are written for 0/1 rewards (values start at 0.5 or 0); other codings "
            "rescale what the fitted learning rates and inverse temperatures mean",
            UserWarning,
            stacklevel=4,
        )
    done = np.isfinite(out["reward"].to_numpy())
    for col in choice_cols[:1] + (["state2"] if family == "two_step" else []):
        done &= out[col].to_numpy() >= 0
    if family == "two_step" and table.attrs.get("second_stage_choice", "choice2" in table):
        done &= out["choice2"].to_numpy() >= 0
    dropped = sorted(set(out["subject"]) - set(out.loc[done, "subject"]))
    if dropped:
        raise BehaviourDataError(
            f"subject {dropped[0]!r}: every trial is missed (no choice or no outcome); "
            "nothing to fit"
            + (f" (also {', '.join(map(repr, dropped[1:]))})" if dropped[1:] else "")
        )
    out = out.loc[done].reset_index(drop=True)
    out.attrs.update(table.attrs)
    return out


def _task_info(
    data: BehaviourData,
    table: pd.DataFrame,
    family: str,
    num_options: int | None,
    common_prob: float | None,
) -> dict[str, Any]:
    """Options and transition probability: given, or read off the data."""
    info: dict[str, Any] = {"num_options": 2, "num_choice2": 1, "common_prob": 0.7}
    if family == "two_step":
        second = table.attrs.get("second_stage_choice", True)
        info["num_choice2"] = 2 if second else 1
        if common_prob is not None:
            if not 0.0 <= common_prob <= 1.0:
                raise BehaviourDataError(f"common_prob must lie in [0, 1], got {common_prob}")
            info["common_prob"] = float(common_prob)
        elif "common" in table:
            info["common_prob"] = float(np.mean(table["common"].astype(bool)))
        else:
            info["common_prob"] = float(np.mean(table["state2"] == table["choice1"]))
        checks = [("choice1", 2), ("state2", 2), ("choice2", info["num_choice2"])]
    else:
        seen = int(table["choice"].max()) + 1
        info["num_options"] = max(2, seen) if num_options is None else int(num_options)
        checks = [("choice", info["num_options"])]
    for col, num in checks:
        values = data.arrays[col]
        bad = data.valid & (values >= num)
        if bad.any():
            s, t = np.argwhere(bad)[0]
            raise BehaviourDataError(
                f"subject {str(data.subjects[data.seq_subject[s]])!r}, session "
                f"{data.sessions[s]}, trial {t}: {col} = {int(values[s, t])} is outside the "
                f"model's options 0..{num - 1}"
            )
    return info


def _check_subjects(data: BehaviourData) -> None:
    """Every subject needs at least two completed trials."""
    counts = np.bincount(
        data.seq_subject, weights=data.valid.sum(axis=1), minlength=len(data.subjects)
    )
    few = np.flatnonzero(counts < 2)
    if few.size:
        names = ", ".join(repr(str(data.subjects[i])) for i in few[:5])
        raise BehaviourDataError(
            f"subject {names} has {int(counts[few[0]])} completed trial(s); a behavioural "
            "model needs at least 2 per subject (drop the subject or add sessions)"
        )


def choice_trials(ds: Any) -> pd.DataFrame:
    """Trial table of a one-choice-per-trial recording (bandit, foraging, agent or lab).

    Returns
    -------
    pandas.DataFrame
        One row per completed trial: ``subject``, ``episode`` (position), ``trial_index``
        (position of the trial in the episode), ``trial`` (the lab's trial number where
        known), ``choice``, ``reward`` (summed over the trial's steps), and ``block`` when the
        recording has it.
    """
    from neurometa.analysis._common import by_trial, check_recording, trial_sum

    check_recording(ds, ["action", "reward"], analysis="behavioural model")
    action = by_trial(ds["action"], ds, 0).transpose("episode", "trial").values
    reward = trial_sum(ds["reward"], ds).transpose("episode", "trial").values
    num_episodes, num_trials = action.shape
    ep, tr = np.meshgrid(np.arange(num_episodes), np.arange(num_trials), indexing="ij")
    if "subject" in ds.coords:
        subject = np.asarray(ds["subject"].values).astype(str)[ep]
    else:
        subject = np.full(ep.shape, str(ds.attrs.get("agent", "agent")))
    trial = by_trial(ds["trial_id"], ds, 0).values if "trial_id" in ds else tr
    ok = (action >= 0) & np.isfinite(reward)
    table = pd.DataFrame(
        {
            "subject": subject[ok],
            "episode": ep[ok],
            "trial_index": tr[ok],
            "trial": np.asarray(trial)[ok],
            "choice": action[ok].astype(np.int64),
            "reward": reward[ok],
        }
    )
    if "block" in ds:
        table["block"] = by_trial(ds["block"], ds, 0).transpose("episode", "trial").values[ok]
    if not ok.any():
        raise BehaviourDataError(
            "every trial of the recording is missed (action −1 or NaN reward)"
        )
    return table


def _family(ds: Any) -> str:
    from neurometa.record.spec import task_family

    return task_family(ds.attrs.get("preset") or ds.attrs.get("task", ""))


def behaviour_data(
    source: Any,
    family: str | None = None,
    *,
    num_options: int | None = None,
    common_prob: float | None = None,
) -> BehaviourData:
    """Choices and outcomes of a recording or a trial table, ready for the models.

    Parameters
    ----------
    source : xarray.Dataset or pandas.DataFrame or BehaviourData
        A recording (its family from the ``preset``/``task`` attrs), or a tidy trial table:
        ``subject`` (optional), ``session`` or ``episode`` (optional), ``trial`` (optional:
        the order), and ``choice, reward`` (bandit, foraging) or ``choice1, state2,
        [choice2,] reward [, common]`` (two-step); −1 / empty for missed trials.
    family : str, optional
        Required for a table; for a recording, checked against its own.
    num_options : int, optional
        Options of a bandit (default: the largest choice + 1, at least 2; a recording's
        ``arm_probs`` when present).
    common_prob : float, optional
        Two-step common-transition probability the model-based system assumes (default:
        the observed rate; Daw et al. 2011 used the task's 0.7).

    Returns
    -------
    BehaviourData

    Examples
    --------
    >>> import pandas as pd
    >>> table = pd.DataFrame({"subject": ["m1"] * 4, "choice": [0, 1, 1, 0],
    ...                       "reward": [1, 0, 1, 1]})
    >>> behaviour_data(table, "bandit")
    BehaviourData(bandit: 1 subject(s), 1 session(s), 4 trials)
    """
    if isinstance(source, BehaviourData):
        return source
    if isinstance(source, pd.DataFrame):
        if family is None:
            raise BehaviourDataError(
                f"name the task family of a trial table (one of {', '.join(sorted(FAMILIES))})"
            )
        return BehaviourData(source, family, num_options=num_options, common_prob=common_prob)
    own = _family(source)
    if family is not None and own in FAMILIES and family != own:
        raise BehaviourDataError(f"the recording is a {own!r} task, not {family!r}")
    own = family or own  # a recording of unknown family (e.g. imported without --task)
    if own not in FAMILIES:
        raise BehaviourDataError(
            f"no behavioural models for the recording's task family {own!r} (task "
            f"{source.attrs.get('preset', source.attrs.get('task'))!r}); families with models: "
            f"{', '.join(sorted(FAMILIES))}. Name the family (neurometa fit --family bandit; "
            "family= in Python) or import the file with --task (e.g. --task bandit/lab)"
        )
    if own == "two_step":
        from neurometa.analysis.two_step import two_step_trials

        table = two_step_trials(source)
    else:
        table = choice_trials(source)
        if num_options is None and "arm_probs" in source:
            num_options = int(source["arm_probs"].shape[-1])
    return BehaviourData(table, own, num_options=num_options, common_prob=common_prob)

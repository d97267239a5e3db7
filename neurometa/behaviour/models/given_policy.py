"""Any policy given per trial (e.g. a frozen network's), with an inverse temperature and a bias.

To compare a model that is not one of these recursions — a trained meta-RL agent run on
the animal's own trials, a decoder, another package's model — by the same held-out
likelihood, give its per-trial logits (or choice probabilities, turned into log
probabilities) for every choice of the data. This model then has at most two free
parameters:

- ``P(c = a) = softmax_a(β L_t(a) + b [a = 1])``, ``L_t`` the given logits of trial ``t``
  (``β`` = ``beta`` rescales the policy's confidence; ``b`` = ``bias``, two options only).

Examples
--------
>>> import numpy as np
>>> model = GivenPolicy(np.zeros((1, 10, 2)))  # 1 sequence, 10 trials, 2 options
>>> model.parameters
('beta', 'bias')
"""

from __future__ import annotations

from typing import Any

import numpy as np

from neurometa.behaviour.model import BehaviourModel

__all__ = ["GivenPolicy"]


class GivenPolicy(BehaviourModel):
    """Choice probabilities given per trial, rescaled by ``beta`` and shifted by ``bias``.

    Parameters
    ----------
    policy : numpy.ndarray or sequence of numpy.ndarray
        One array per choice stage, each shape ``(S, T, A)`` aligned with the
        :class:`~neurometa.behaviour.data.BehaviourData` it will be fitted to (sequence,
        trial, option), or an ``xarray.DataArray`` with dims ``(episode, step, action_id)``
        aligned with the recording the data came from (one stage per step of a trial).
    kind : {"logits", "probabilities"}
        What ``policy`` holds; probabilities are turned into log probabilities.
    parameters : tuple of str
        Free parameters: ``("beta", "bias")`` (default), ``("beta",)`` or ``()``.
    name : str
        Name in the comparison tables (e.g. ``"meta_rl"``).
    """

    families = ("bandit", "foraging", "two_step")
    description = "a policy given per trial, rescaled by beta and shifted by a bias"

    def __init__(
        self,
        policy: Any,
        *,
        kind: str = "logits",
        parameters: tuple[str, ...] = ("beta", "bias"),
        name: str = "given_policy",
    ) -> None:
        if kind not in ("logits", "probabilities"):
            raise ValueError(f"kind must be 'logits' or 'probabilities', got {kind!r}")
        bad = [p for p in parameters if p not in ("beta", "bias")]
        if bad:
            raise ValueError(f"GivenPolicy fits beta and/or bias, not {bad}")
        self.policy, self.kind, self.name = policy, kind, name
        self.parameters = tuple(parameters)
        self.fixed = {k: v for k, v in (("beta", 1.0), ("bias", 0.0)) if k not in parameters}

    def _stage_arrays(self, data: Any) -> list[np.ndarray]:
        policy = self.policy
        if hasattr(policy, "dims"):  # a DataArray aligned with the source recording
            arr = np.asarray(policy.transpose("episode", "step", ...).values, dtype=np.float64)
            spt = len(data.choice_keys)
            out = []
            for stage in range(spt):
                steps = data.trial_position * spt + stage
                out.append(arr[data.episode_position[:, None], np.maximum(steps, 0)])
            stages = out
        else:
            stages = [policy] if isinstance(policy, np.ndarray) else list(policy)
        result = []
        for arr in stages:
            arr = np.asarray(arr, dtype=np.float64)
            if arr.shape[:2] != data.valid.shape:
                raise ValueError(
                    f"given policy has shape {arr.shape}; the data need "
                    f"(sequences, trials, options) = {data.valid.shape + (arr.shape[-1],)}"
                )
            if self.kind == "probabilities":
                with np.errstate(divide="ignore"):
                    arr = np.log(arr)
            bad = data.valid & ~np.isfinite(arr).all(axis=-1)
            if bad.any():
                s, t = np.argwhere(bad)[0]
                raise ValueError(
                    f"given policy is not finite on {int(bad.sum())} valid trial(s), e.g. "
                    f"subject {str(data.subjects[data.seq_subject[s]])!r} trial {t}"
                )
            result.append(np.where(np.isfinite(arr), arr, 0.0))
        return result

    def extra_inputs(self, data: Any) -> dict[str, np.ndarray]:
        """The given logits of each stage as ``given_<stage>`` arrays ``(S, T, A)``."""
        stages = self._stage_arrays(data)
        if len(stages) != len(data.choice_keys):
            raise ValueError(
                f"given policy has {len(stages)} stage(s); the {data.family} data have "
                f"{len(data.choice_keys)} choice(s) per trial"
            )
        self.choices = tuple(data.choice_keys)
        self.inputs = tuple(data.choice_keys) + tuple(f"given_{i}" for i in range(len(stages)))
        return {f"given_{i}": arr for i, arr in enumerate(stages)}

    def initial_state(self, p, batch, info):  # noqa: D102 - stateless
        return {}

    def logits(self, state, p, stage, trial):  # noqa: D102
        given = trial[f"given_{stage}"]
        shift = np.zeros(given.shape[-1])
        if given.shape[-1] == 2:
            shift[1] = 1.0
        return p["beta"][:, None] * given + p["bias"][:, None] * shift

    def update(self, state, p, trial):  # noqa: D102
        return {}, {}

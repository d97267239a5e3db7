"""A model's negative log-likelihood per subject, for many parameter sets in one pass.

:class:`Objective` gathers the sequences of the requested subjects, repeats them for every
parameter set, runs the model's recursion once over the whole batch
(:func:`~neurometa.behaviour.model.run_model`) and sums each subject's sessions. The
parameters arrive on an unbounded scale ``h`` and are mapped to the model's natural scale
(:func:`~neurometa.behaviour.params.to_natural`); MAP fits add the weak priors, empirical
Bayes the Gaussian group prior on ``h``.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from neurometa.behaviour.data import BehaviourData, BehaviourDataError
from neurometa.behaviour.model import BehaviourModel, run_model
from neurometa.behaviour.ops import softmax
from neurometa.behaviour.optimise import EPS
from neurometa.behaviour.params import log_prior, to_natural

__all__ = ["Objective", "check_model", "param_dict"]


def check_model(model: BehaviourModel, data: BehaviourData) -> None:
    """A clear error when ``model`` cannot fit ``data`` (wrong family, wrong options)."""
    if data.family not in model.families:
        raise BehaviourDataError(
            f"model {model.name!r} fits {' / '.join(model.families)} behaviour; these data "
            f"are from a {data.family!r} task"
        )
    if model.num_options is not None and data.info["num_options"] != model.num_options:
        raise BehaviourDataError(
            f"model {model.name!r} is written for {model.num_options} options; the data have "
            f"{data.info['num_options']}"
        )
    if model.name in ("matching", "baiting_q") and data.info["num_options"] != 2:
        raise BehaviourDataError(
            f"model {model.name!r} is written for two options; the data have "
            f"{data.info['num_options']}"
        )


def param_dict(model: BehaviourModel, x: np.ndarray) -> dict[str, np.ndarray]:
    """Free parameters ``x (B, k)`` -> a dict of ``(B,)`` arrays with the fixed ones added."""
    out = {name: x[:, j] for j, name in enumerate(model.parameters)}
    for name, value in model.fixed.items():
        out[name] = np.full(x.shape[0], value)
    return out


class Objective:
    """Negative log-likelihood (plus prior terms) of each subject's choices.

    Parameters
    ----------
    model : BehaviourModel
    data : BehaviourData
    scale : {"box", "group"}
        How ``h`` maps to the natural parameters (see
        :func:`~neurometa.behaviour.params.to_natural`).
    prior : {None, "weak"}
        Add ``−ln prior(x)`` of the weak priors (MAP).
    weight : numpy.ndarray of bool, shape (S, T), optional
        Trials whose choices count (cross-validation); default all.
    """

    def __init__(
        self,
        model: BehaviourModel,
        data: BehaviourData,
        *,
        scale: str = "box",
        prior: str | None = None,
        weight: np.ndarray | None = None,
    ) -> None:
        check_model(model, data)
        self.model, self.data, self.scale, self.prior = model, data, scale, prior
        self.names = tuple(model.parameters)
        arrays: dict[str, Any] = dict(data.arrays)
        arrays.update(model.extra_inputs(data))
        missing = [k for k in model.inputs if k not in arrays]
        if missing:
            raise BehaviourDataError(f"model {model.name!r} needs trial data {missing}")
        self.arrays = {k: arrays[k] for k in model.inputs}
        self.valid = data.valid
        self.weight = np.ones_like(data.valid) if weight is None else np.asarray(weight, bool)
        self.seqs_of = [np.flatnonzero(data.seq_subject == i) for i in range(len(data.subjects))]
        self.group: tuple[np.ndarray, np.ndarray] | None = None

    def _gather(self, subjects: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        seqs = [self.seqs_of[s] for s in subjects]
        owner = np.repeat(np.arange(len(subjects)), [len(q) for q in seqs])
        return np.concatenate(seqs), owner

    def _run(
        self, x: np.ndarray, subjects: np.ndarray, weight: np.ndarray | None, store_logits: bool
    ) -> tuple[np.ndarray, Any]:
        seq, owner = self._gather(np.asarray(subjects))
        num_sets = x.shape[1]
        valid = self.valid[seq]
        last = int(np.flatnonzero(valid.any(axis=0)).max()) + 1
        weights = (self.weight if weight is None else weight)[seq]

        def batch(a: np.ndarray) -> np.ndarray:  # (n_seq, T, ...) -> (T, n_seq * M, ...)
            a = np.repeat(a[:, :last], num_sets, axis=0)
            return np.swapaxes(a, 0, 1)

        params = param_dict(self.model, x[owner].reshape(-1, x.shape[2]))
        trials = {k: batch(v[seq]) for k, v in self.arrays.items()}
        res = run_model(
            self.model,
            params,
            trials,
            batch(valid),
            self.data.info,
            weight=batch(weights),
            store_logits=store_logits,
        )
        per_seq = res.loglik.reshape(len(seq), num_sets)
        out = np.zeros((len(subjects), num_sets), dtype=per_seq.dtype)
        np.add.at(out, owner, per_seq)
        extra = (res.latents, (valid & weights)[:, :last].T, owner, len(seq))
        return out, extra

    def loglik(
        self, x: np.ndarray, subjects: np.ndarray, *, weight: np.ndarray | None = None
    ) -> np.ndarray:
        """Summed log-likelihood ``(P, M)`` of subject ``subjects[p]`` at ``x (P, M, k)``."""
        return self._run(x, subjects, weight, False)[0]

    def _penalty(self, h: np.ndarray, x: np.ndarray) -> Any:
        """Prior terms of the objective at ``h`` / ``x`` (``(P, M)``; 0 without a prior)."""
        value = 0.0
        if self.prior is not None:
            value = value - log_prior(x, self.names)
        if self.group is not None:
            mu, var = self.group
            value = value + 0.5 * (((h - mu) ** 2) / var).sum(axis=-1)
        return value

    def derivatives(
        self, h: np.ndarray, subjects: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Objective ``(P,)``, exact gradient ``(P, k)`` and Fisher-scoring matrix ``(P, k, k)``.

        The gradient is by the complex step (all ``k`` directions in one batch). The matrix
        is the Fisher information of the choices on the unbounded scale,
        ``Σ_t J_tᵀ (diag π_t − π_t π_tᵀ) J_t`` with ``J_t = ∂ logits_t / ∂h`` (read off the
        same complex pass), plus the Hessian of the prior terms: a positive semi-definite
        Gauss-Newton approximation of the objective's Hessian (exact in expectation at the
        true parameters).
        """
        num, k = h.shape
        points = h[:, None, :] + 1j * EPS * np.eye(k)[None]
        x = self.natural(points)
        ll, (latents, counted, owner, num_seq) = self._run(x, subjects, None, True)
        value = -ll + self._penalty(points, x)
        f, grad = np.real(value[:, 0]), np.imag(value) / EPS
        fisher_seq = np.zeros((num_seq, k, k))
        for _key, logits in latents.items():
            logits = logits.reshape(logits.shape[0], num_seq, k, logits.shape[-1])
            if logits.shape[-1] < 2:
                continue
            jac = np.imag(logits) / EPS  # (T, S, k, A)
            pi = softmax(np.real(logits[:, :, 0]))  # (T, S, A)
            centred = jac - (pi[:, :, None, :] * jac).sum(-1, keepdims=True)
            fisher_seq += np.einsum(
                "tsa,tsja,tsla->sjl", pi * counted[..., None], centred, centred
            )
        fisher = np.zeros((num, k, k))
        np.add.at(fisher, owner, fisher_seq)
        if self.prior is not None or self.group is not None:
            fisher += self._penalty_hessian(h)
        return f, grad, fisher

    def _penalty_hessian(self, h: np.ndarray, step: float = 1e-4) -> np.ndarray:
        """Hessian ``(P, k, k)`` of the prior terms (central differences of exact gradients)."""
        num, k = h.shape
        offsets = np.concatenate([step * np.eye(k), -step * np.eye(k)])
        base = h[:, None, :] + offsets[None]  # (P, 2k, k)
        points = base[:, :, None, :] + 1j * EPS * np.eye(k)[None, None]  # (P, 2k, k, k)
        grad = np.imag(self._penalty(points, self.natural(points))) / EPS  # (P, 2k, k)
        hess = (grad[:, :k] - grad[:, k:]) / (2 * step)
        return 0.5 * (hess + np.swapaxes(hess, 1, 2))

    def natural(self, h: np.ndarray) -> np.ndarray:
        """``h`` -> natural parameters on this objective's scale."""
        return to_natural(h, self.names, self.scale)

    def __call__(self, h: np.ndarray, subjects: np.ndarray) -> np.ndarray:
        """Objective ``(P, M)`` at unbounded ``h (P, M, k)`` for subjects ``subjects (P,)``."""
        x = self.natural(h)
        return -self.loglik(x, subjects) + self._penalty(h, x)

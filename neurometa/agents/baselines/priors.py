"""The prior over Bernoulli bandits that a Bayesian baseline assumes (torch-free).

The bandit tasks (:mod:`neurometa.tasks.bandit`) draw each episode's arm probabilities from
one of three distributions (Wang et al. 2016, §3.1):

- ``independent``: ``p_i ~ U(0, 1) = Beta(1, 1)`` independently for each of K arms;
- ``correlated``: ``p_1 ~ U(0, 1)``, ``p_2 = 1 - p_1`` (two arms, one parameter);
- ``fixed``: the values ``fixed_probs`` assigned to the arms in a uniformly random order
  (for two arms: two equally likely hypotheses, "arm 0 is the high arm" or "arm 1 is").

:class:`BanditPrior` names one of them; the Bayes-optimal policy, Thompson sampling and the
benchmark read it from the task with :meth:`BanditPrior.from_task`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

__all__ = ["BanditPrior", "PriorKind"]

PriorKind = Literal["independent", "correlated", "fixed"]


@dataclass(frozen=True)
class BanditPrior:
    """A distribution over the arm probabilities of a K-armed Bernoulli bandit.

    Parameters
    ----------
    kind : {"independent", "correlated", "fixed"}
        Which family (see the module docstring).
    num_arms : int
        Number of arms K (2 for ``correlated``).
    fixed_probs : tuple of float
        For ``fixed``: the K probabilities shuffled onto the arms; empty otherwise.
    """

    kind: PriorKind
    """Family of the prior: independent, correlated or fixed."""
    num_arms: int = 2
    """Number of arms K."""
    fixed_probs: tuple[float, ...] = ()
    """The shuffled probabilities of a ``fixed`` prior (empty for the other kinds)."""

    def __post_init__(self) -> None:
        if self.kind not in ("independent", "correlated", "fixed"):
            raise ValueError(
                f"BanditPrior.kind must be 'independent', 'correlated' or 'fixed', "
                f"got {self.kind!r}"
            )
        if not isinstance(self.num_arms, int) or self.num_arms < 2:
            raise ValueError(
                f"BanditPrior.num_arms must be an integer >= 2, got {self.num_arms!r}"
            )
        if self.kind == "correlated" and self.num_arms != 2:
            raise ValueError(f"a correlated prior needs num_arms=2, got {self.num_arms}")
        if self.kind == "fixed":
            if len(self.fixed_probs) != self.num_arms:
                raise ValueError(
                    f"a fixed prior needs {self.num_arms} fixed_probs, got {self.fixed_probs!r}"
                )
            if not all(0.0 <= p <= 1.0 for p in self.fixed_probs):
                raise ValueError(f"fixed_probs must lie in [0, 1], got {self.fixed_probs!r}")
        elif self.fixed_probs:
            raise ValueError(
                f"fixed_probs is only meaningful for kind='fixed' (got {self.kind!r})"
            )

    @property
    def key(self) -> str:
        """A short string identifying the prior (used as a cache key and in tables)."""
        if self.kind == "fixed":
            return "fixed_" + "_".join(f"{p:g}" for p in self.fixed_probs)
        return f"{self.kind}_{self.num_arms}arm"

    def expected_best(self) -> float:
        """``E[max_i p_i]`` under the prior: the per-trial reward of an oracle.

        Independent uniform arms: ``K / (K + 1)`` (the mean of the maximum of K uniforms);
        correlated: ``E[max(p, 1 - p)] = 3/4``; fixed: ``max(fixed_probs)``.
        """
        if self.kind == "independent":
            return self.num_arms / (self.num_arms + 1)
        if self.kind == "correlated":
            return 0.75
        return max(self.fixed_probs)

    @classmethod
    def from_task(cls, task: Any) -> BanditPrior:
        """The prior a bandit task draws its episodes from.

        Parameters
        ----------
        task : neurometa.tasks.bandit.BanditTask
            A bandit task (or a wrapper with ``.task``) whose ``config`` has
            ``distribution``, ``num_arms`` and ``fixed_probs``.

        Raises
        ------
        TypeError
            If ``task`` is not a bandit task.
        """
        inner = task.unwrapped
        config = getattr(inner, "config", None)
        if config is None or not hasattr(config, "distribution"):
            raise TypeError(
                f"{type(inner).__name__} is not a bandit task (its config has no 'distribution')"
            )
        fixed = (
            tuple(float(p) for p in config.fixed_probs) if config.distribution == "fixed" else ()
        )
        return cls(config.distribution, int(config.num_arms), fixed)

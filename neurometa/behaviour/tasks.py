"""Small NumPy versions of the tasks, for simulating the models (recovery studies, tests).

Each environment runs a batch of independent sessions, draws only from the generator it is
given, and follows one protocol: ``reset(batch, rng)``, then per trial
``after_choice(stage, choice, rng) -> dict`` (what the choice revealed: the reward, or the
second-stage state), ``hidden()`` (the task's hidden variables of the trial) and
``end_trial(rng)``. The torch tasks of :mod:`neurometa.tasks` are the same tasks for
agents; these avoid torch and run the models' own recursions.

- ``bandit/fixed``: reward probabilities drawn uniformly per session and option;
- ``bandit/reversal``: probabilities ``(p_high, p_low)`` that swap every ``reversal_every``
  trials (first high option random);
- ``bandit/restless``: probabilities that follow Gaussian random walks (SD ``drift_sd``)
  reflected into [0.05, 0.95] (after Daw et al. 2006, Nature 441:876, with probabilities);
- ``foraging/coupled_baiting``: the baited two-option task of
  :mod:`neurometa.tasks.foraging` (baiting probabilities summing to 0.45, ratios 8:1, 6:1,
  3:1, 1:1, blocks of 20-60 trials, rich side alternating);
- ``two_step/daw2011``: Daw et al. (2011): common transition 0.7, four reward
  probabilities in Gaussian random walks (SD 0.025) reflected within [0.25, 0.75].
"""

from __future__ import annotations

from typing import Any

import numpy as np

__all__ = ["TASKS", "make_task", "BanditTask", "ForagingTask", "TwoStepTask"]


def _reflect(x: np.ndarray, lo: float, hi: float) -> np.ndarray:
    x = np.where(x > hi, 2 * hi - x, x)
    return np.where(x < lo, 2 * lo - x, x)


class BanditTask:
    """K-armed Bernoulli bandit: ``fixed``, ``reversal`` or ``restless`` probabilities."""

    family = "bandit"

    def __init__(
        self,
        kind: str = "reversal",
        num_options: int = 2,
        *,
        p_high: float = 0.8,
        p_low: float = 0.2,
        reversal_every: int = 40,
        drift_sd: float = 0.05,
    ) -> None:
        if kind not in ("fixed", "reversal", "restless"):
            raise ValueError(f"bandit kind must be fixed, reversal or restless, got {kind!r}")
        self.kind, self.num_options = kind, num_options
        self.p_high, self.p_low, self.every, self.drift_sd = (
            p_high,
            p_low,
            reversal_every,
            drift_sd,
        )
        self.info = {"num_options": num_options, "num_choice2": 1, "common_prob": 0.7}

    def reset(self, batch: int, rng: np.random.Generator) -> None:
        """Draw each session's probabilities."""
        self.t = 0
        if self.kind == "reversal":
            high = rng.integers(self.num_options, size=batch)
            self.probs = np.where(
                np.arange(self.num_options) == high[:, None], self.p_high, self.p_low
            )
        else:
            self.probs = rng.uniform(0.0, 1.0, size=(batch, self.num_options))
            if self.kind == "restless":
                self.probs = 0.05 + 0.9 * self.probs

    def after_choice(self, stage: int, choice: np.ndarray, rng: np.random.Generator) -> dict:
        """The reward of the chosen arm."""
        p = self.probs[np.arange(len(choice)), choice]
        return {"reward": (rng.random(len(choice)) < p).astype(np.float64)}

    def hidden(self) -> dict[str, np.ndarray]:
        """``arm_probs`` in force on the trial."""
        return {"arm_probs": self.probs.copy()}

    def end_trial(self, rng: np.random.Generator) -> None:
        """Reverse or drift the probabilities."""
        self.t += 1
        if self.kind == "reversal" and self.t % self.every == 0:
            self.probs = (
                self.probs[:, ::-1].copy()
                if self.num_options == 2
                else np.roll(self.probs, 1, axis=1)
            )
        elif self.kind == "restless":
            step = rng.normal(0.0, self.drift_sd, size=self.probs.shape)
            self.probs = _reflect(self.probs + step, 0.05, 0.95)


class ForagingTask:
    """Coupled-baiting dynamic foraging (two options; baits wait until collected)."""

    family = "foraging"

    def __init__(
        self,
        reward_sum: float = 0.45,
        ratios: tuple[float, ...] = (8, 6, 3, 1),
        block_length_range: tuple[int, int] = (20, 60),
    ) -> None:
        self.reward_sum, self.ratios, self.lengths = reward_sum, ratios, block_length_range
        self.info = {"num_options": 2, "num_choice2": 1, "common_prob": 0.7}

    def _new_block(self, rows: np.ndarray, rng: np.random.Generator) -> None:
        n = len(rows)
        ratio = np.asarray(self.ratios, dtype=float)[rng.integers(len(self.ratios), size=n)]
        prev_even = self.ratio[rows] == 1
        ratio = np.where(prev_even & (ratio == 1), self.ratios[0], ratio)  # no 1:1 after 1:1
        rich = np.where(
            prev_even | (self.block[rows] < 0), rng.integers(2, size=n), 1 - self.rich[rows]
        )
        self.ratio[rows], self.rich[rows] = ratio, rich
        p_rich = self.reward_sum * ratio / (1 + ratio)
        p_lean = self.reward_sum / (1 + ratio)
        self.probs[rows] = np.where(
            np.arange(2) == rich[:, None], p_rich[:, None], p_lean[:, None]
        )
        self.left[rows] = rng.integers(self.lengths[0], self.lengths[1] + 1, size=n)
        self.block[rows] += 1

    def reset(self, batch: int, rng: np.random.Generator) -> None:
        """First block; then bait each option with its probability."""
        self.probs, self.ratio = np.zeros((batch, 2)), np.zeros(batch)
        self.rich, self.left = np.zeros(batch, dtype=np.int64), np.zeros(batch, dtype=np.int64)
        self.block = np.full(batch, -1)
        self._new_block(np.arange(batch), rng)
        self.baited = rng.random((batch, 2)) < self.probs

    def after_choice(self, stage: int, choice: np.ndarray, rng: np.random.Generator) -> dict:
        """Reward 1 if the chosen option held a bait (which it then loses)."""
        rows = np.arange(len(choice))
        reward = self.baited[rows, choice].astype(np.float64)
        self.baited[rows, choice] = False
        return {"reward": reward}

    def hidden(self) -> dict[str, np.ndarray]:
        """``bait_probs``, ``block``."""
        return {"bait_probs": self.probs.copy(), "block": self.block.copy()}

    def end_trial(self, rng: np.random.Generator) -> None:
        """Count down the block; re-bait empty options."""
        self.left -= 1
        done = np.flatnonzero(self.left <= 0)
        if done.size:
            self._new_block(done, rng)
        self.baited |= rng.random(self.baited.shape) < self.probs


class TwoStepTask:
    """Daw et al. (2011) two-step task with drifting second-stage reward probabilities."""

    family = "two_step"

    def __init__(
        self,
        common_prob: float = 0.7,
        drift_sd: float = 0.025,
        prob_bounds: tuple[float, float] = (0.25, 0.75),
    ) -> None:
        self.common_prob, self.drift_sd, self.bounds = common_prob, drift_sd, prob_bounds
        self.info = {"num_options": 2, "num_choice2": 2, "common_prob": common_prob}

    def reset(self, batch: int, rng: np.random.Generator) -> None:
        """Reward probabilities uniform within the bounds."""
        self.probs = rng.uniform(*self.bounds, size=(batch, 2, 2))

    def after_choice(self, stage: int, choice: np.ndarray, rng: np.random.Generator) -> dict:
        """Stage 0: the transition (``state2``, ``common``); stage 1: the reward."""
        rows = np.arange(len(choice))
        if stage == 0:
            common = rng.random(len(choice)) < self.common_prob
            self.state2 = np.where(common, choice, 1 - choice)
            return {"state2": self.state2, "common": common}
        p = self.probs[rows, self.state2, choice]
        return {"reward": (rng.random(len(choice)) < p).astype(np.float64)}

    def hidden(self) -> dict[str, np.ndarray]:
        """``reward_probs`` (state × second-stage choice) in force on the trial."""
        return {"reward_probs": self.probs.copy()}

    def end_trial(self, rng: np.random.Generator) -> None:
        """Gaussian random walks reflected at the bounds."""
        step = rng.normal(0.0, self.drift_sd, size=self.probs.shape)
        self.probs = _reflect(self.probs + step, *self.bounds)


#: Task names accepted by :func:`make_task`.
TASKS: dict[str, Any] = {
    "bandit/fixed": lambda: BanditTask("fixed"),
    "bandit/reversal": lambda: BanditTask("reversal"),
    "bandit/restless": lambda: BanditTask("restless"),
    "foraging/coupled_baiting": ForagingTask,
    "two_step/daw2011": TwoStepTask,
}


def make_task(task: Any) -> Any:
    """A task by name (:data:`TASKS`) or the task object itself."""
    if not isinstance(task, str):
        return task
    if task not in TASKS:
        raise KeyError(f"unknown task {task!r}; tasks: {', '.join(TASKS)}")
    return TASKS[task]()

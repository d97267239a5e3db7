"""Named sweep specs (Python presets), usable as ``neurometa sweep NAME --out DIR``.

- ``quick/bandit``: a minutes-long smoke sweep on this machine: 2 learning rates x 2 seeds of
  a 30-update training run on ``bandit/independent`` (too short to learn well; for trying
  the machinery).
- ``bandit/learning_rate``: learning rate x entropy cost of the bandit default preset over
  5 seeds, ranked by the final cumulative regret (lower is better) — the kind of grid Wang
  et al. 2016 searched before reporting their best setting.
- ``two_step/discount``: the discount of the Wang et al. 2018 two-step setting over 5
  seeds, ranked by the final score (mean episode return, higher is better).
"""

from __future__ import annotations

from neurometa.sweep.spec import SweepSpec

__all__ = ["SWEEP_PRESETS"]

#: Sweep presets by name.
SWEEP_PRESETS: dict[str, SweepSpec] = {
    "quick/bandit": SweepSpec(
        name="quick/bandit",
        action="train",
        base="bandit/independent",
        overrides={
            "optim.num_updates": 30,
            "optim.batch_size": 32,
            "eval.interval": 0,
            "eval.episodes": 100,
            "checkpoint_interval": 10,
        },
        grid={"optim.learning_rate": (1e-3, 3e-3)},
        seeds=(0, 1),
        metric="final_regret",
        goal="min",
    ),
    "bandit/learning_rate": SweepSpec(
        name="bandit/learning_rate",
        action="train",
        base="bandit/independent",
        grid={"optim.learning_rate": (1e-3, 3e-3, 1e-2), "optim.entropy_cost": (0.01, 0.05)},
        seeds=(0, 1, 2, 3, 4),
        metric="final_regret",
        goal="min",
    ),
    "two_step/discount": SweepSpec(
        name="two_step/discount",
        action="train",
        base="two_step/wang2018/published",
        grid={"optim.discount": (0.5, 0.75, 0.9)},
        seeds=(0, 1, 2, 3, 4),
        metric="final_score",
        goal="max",
    ),
}

"""Configuration of a training run: task, network, A2C optimisation, evaluation.

``TrainConfig`` nests four frozen configs; every field has a docstring and a range check.
Dotted overrides (``--set optim.learning_rate=3e-3``) go through
:func:`neurometa.config.replace_path`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from neurometa.config import Config, ConfigError, check_range

__all__ = ["TaskConfig", "NetworkConfig", "OptimConfig", "EvalConfig", "TrainConfig"]


@dataclass(frozen=True)
class TaskConfig(Config):
    """Which task the agent is trained on and how its inputs are built."""

    preset: str = "bandit/independent"
    """Task preset id for ``neurometa.tasks.make`` (e.g. ``two_step/daw2011``)."""
    overrides: dict[str, Any] = field(default_factory=dict)
    """Fields of the task preset's config to replace (e.g. ``{"num_trials": 50}``)."""
    trial_index: bool = True
    """Append the trial index (trial / num_trials) to the meta-RL input."""
    lifetime: int = 0
    """Episodes per batch member in one life-time. Every ``lifetime`` updates the trainer
    reseeds the task (``contextual_bandit``: a new pool of contexts) and an episodic network
    starts an empty store, as Ritter et al. (2018) re-drew the contexts during training; the
    evaluation (``neurometa.learn.evaluate``) plays whole life-times of this length. 0: the
    whole run is one life-time and each evaluation episode starts one."""

    def __post_init__(self) -> None:
        if not self.preset:
            raise ConfigError("TaskConfig.preset must name a task preset")
        check_range(self, "lifetime", low=0)


@dataclass(frozen=True)
class NetworkConfig(Config):
    """The recurrent network trained by the outer loop."""

    kind: str = "pfc"
    """Network builder name in ``neurometa.learn.networks.NETWORKS`` (``pfc`` = LSTM PFC)."""
    num_units: int = 48
    """Recurrent units (48 as in Wang et al. 2018; 256 for Harlow)."""
    options: dict[str, Any] = field(default_factory=dict)
    """Extra keyword arguments for the network builder (e.g. memory capacity)."""

    def __post_init__(self) -> None:
        check_range(self, "num_units", low=1)


@dataclass(frozen=True)
class OptimConfig(Config):
    """Advantage actor-critic (Mnih et al. 2016) with whole-episode unrolls."""

    num_updates: int = 2000
    """Parameter updates; each uses ``batch_size`` whole episodes."""
    batch_size: int = 256
    """Episodes run in parallel per update (B)."""
    optimizer: Literal["adam", "rmsprop"] = "adam"
    """Gradient method."""
    learning_rate: float = 1e-3
    """Initial learning rate."""
    lr_schedule: Literal["constant", "linear", "cosine"] = "constant"
    """Decay of the learning rate from ``learning_rate`` to ``lr_final`` over the run."""
    lr_final: float = 0.0
    """Learning rate at the last update (unused for ``constant``)."""
    adam_eps: float = 1e-5
    """ε of Adam / RMSProp."""
    max_grad_norm: float | None = 1.0
    """Clip the global gradient norm to this value (None: no clipping)."""
    discount: float = 1.0
    """γ of the returns and of the TD error (the agent's ``discount``)."""
    gae_lambda: float = 1.0
    """λ of the λ-returns / GAE (1: Monte-Carlo returns)."""
    value_cost: float = 0.5
    """Weight of the value loss."""
    entropy_cost: float = 0.05
    """Initial weight of the entropy bonus."""
    entropy_final: float = 0.0
    """Entropy weight at the end of the anneal (the default 0 anneals it to zero; set it
    equal to ``entropy_cost`` for a constant weight)."""
    entropy_anneal_fraction: float = 1.0
    """Fraction of the run over which the entropy weight falls linearly to its final value."""
    reward_shift: float = 0.0
    """Subtracted from rewards in the loss (not in the network's input): r' = (r − shift)·scale."""
    reward_scale: float = 1.0
    """Multiplies rewards in the loss after the shift."""
    normalize_advantages: bool = False
    """Standardise advantages over the batch before the policy-gradient term."""

    removed_keys = {
        name: (neutral, "reward signals other than the sampled rewards were an experiment that "
               "no preset kept (its record is in docs/training.md, 'Reward signals tried')")
        for name, neutral in (("reward_signal", "sampled"), ("signal_blend_start", 0.0),
                              ("signal_blend_end", 0.0), ("signal_blend_gate", None))
    }  # fmt: skip

    def __post_init__(self) -> None:
        check_range(self, "num_updates", low=1)
        check_range(self, "batch_size", low=1)
        # above 1 no Adam/RMSprop step is meaningful (1e38 overflowed inside torch unnamed)
        check_range(self, "learning_rate", low=0.0, high=1.0, low_inclusive=False)
        check_range(self, "lr_final", low=0.0)
        check_range(self, "adam_eps", low=0.0, low_inclusive=False)
        if self.max_grad_norm is not None:
            check_range(self, "max_grad_norm", low=0.0, low_inclusive=False)
        check_range(self, "discount", low=0.0, high=1.0)
        check_range(self, "gae_lambda", low=0.0, high=1.0)
        check_range(self, "value_cost", low=0.0)
        check_range(self, "entropy_cost", low=0.0)
        check_range(self, "entropy_final", low=0.0)
        check_range(self, "entropy_anneal_fraction", low=0.0, high=1.0, low_inclusive=False)
        check_range(self, "reward_scale", low=0.0, low_inclusive=False)


@dataclass(frozen=True)
class EvalConfig(Config):
    """Periodic evaluation of the frozen network on a fixed selection set of episodes."""

    interval: int = 100
    """Evaluate (and keep ``best.pt`` if better) every this many updates; 0: only once, at
    the end (``best.pt`` then holds the last weights). Selecting among many checkpoints on
    the same selection episodes favours lucky ones: on bandits (1,000 episodes, standard error
    of the regret ≈ 0.13) it picked early checkpoints that were worse on fresh episodes than
    the last weights (docs/training.md)."""
    episodes: int = 1000
    """Episodes per evaluation (the same seeded episodes every time)."""
    greedy: bool = True
    """Greedy actions at test time (else sampled from the policy)."""
    select_from: float = 0.0
    """Fraction of the run before which evaluations are only logged: ``best.pt`` is chosen
    among the evaluations at updates ``>= select_from * num_updates`` (and the last one),
    so that early checkpoints, lucky on the selection episodes, cannot win. 0: every
    evaluation competes."""

    def __post_init__(self) -> None:
        check_range(self, "interval", low=0)
        check_range(self, "episodes", low=1)
        check_range(self, "select_from", low=0.0, high=1.0)


@dataclass(frozen=True)
class TrainConfig(Config):
    """A whole training run (the seed is given to ``train`` separately).

    Examples
    --------
    >>> import neurometa as nm
    >>> config = nm.TrainConfig.from_dict({"task": {"preset": "two_step/daw2011"}})
    >>> config.task.preset, config.optim.discount
    ('two_step/daw2011', 1.0)
    >>> nm.TrainConfig.from_dict({"wokers": 2})
    Traceback (most recent call last):
    ...
    neurometa.config.ConfigError: TrainConfig: unknown key 'wokers' (did you mean 'workers'?)...
    """

    task: TaskConfig = field(default_factory=TaskConfig)
    """The task distribution."""
    network: NetworkConfig = field(default_factory=NetworkConfig)
    """The network."""
    optim: OptimConfig = field(default_factory=OptimConfig)
    """The outer-loop optimisation."""
    eval: EvalConfig = field(default_factory=EvalConfig)
    """Evaluation and checkpoint selection."""
    checkpoint_interval: int = 100
    """Write ``checkpoint.pt`` every this many updates (and at the end)."""
    log_interval: int = 10
    """Append a row to ``metrics.csv`` every this many updates."""
    workers: int = 1
    """Processes sharing each update (``batch_size / workers`` episodes each, gradients
    averaged; :mod:`neurometa.learn.parallel`): one single-thread process per core."""

    def __post_init__(self) -> None:
        check_range(self, "checkpoint_interval", low=1)
        check_range(self, "log_interval", low=1)
        check_range(self, "workers", low=1)
        if self.optim.batch_size % self.workers:
            raise ConfigError(
                f"TrainConfig.workers = {self.workers} must divide optim.batch_size = "
                f"{self.optim.batch_size} (each worker runs an equal share of the episodes)"
            )

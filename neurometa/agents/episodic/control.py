"""Episodic valuation agents: the review's Box 2, MFEC and NEC.

All three keep one :class:`~neurometa.agents.memory.EpisodicMemory` store per action, whose
keys are embeddings ``e(s)`` of visited states and whose values are returns that followed
taking that action. The action value is a read of that store,
``Q(s, a) = sum_i w_i(e(s)) R_i`` over the ``k`` nearest stored states, and the agent acts
ε-greedily on ``Q`` (ties broken at random). At the end of every episode the pairs
``(e(s_t), G_t)`` are written to the store of ``a_t``. The batch is one learner experiencing
``B`` episodes in parallel (it shares its stores), like an A2C learner with ``B`` environments.

Methods (``EpisodicControlConfig.method``)
------------------------------------------
``"box2"``
    Botvinick et al. 2019, Box 2: ``e(s) = s``; every state is stored with its discounted
    ``n``-step return ``G_t = sum_{j<n} γ^j r_{t+j}`` (no bootstrap); the value is the
    inverse-distance-weighted sum of the ``k`` nearest stored returns. Duplicates are kept,
    so repeated visits are averaged by the kernel.
``"mfec"``
    Blundell et al. 2016: ``e(s) = P s`` with a fixed Gaussian random projection ``P``;
    ``G_t`` is the Monte-Carlo discounted return; an exact key match is updated by
    ``Q <- max(Q, G_t)``, otherwise the pair is added; ``Q(s, a)`` is the stored value for an
    exact match, else the plain average of the ``k`` nearest neighbours.
``"nec"``
    Pritzel et al. 2017: ``e(s)`` is a learned MLP; stores use the kernel
    ``1 / (‖h − h_i‖² + δ)`` and are learnable; targets are ``N``-step Q targets
    ``G_t = sum_{j<N} γ^j r_{t+j} + γ^N max_a Q(s_{t+N}, a)`` (bootstrap values from act
    time); an exact match is moved by ``Q <- Q + α (G_t − Q)``; after each episode the
    embedding and the stores' keys and values take gradient steps on
    ``(Q(s, a) − G)^2`` over minibatches from a replay buffer ("slow" learning shaping the
    "fast" memory).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar, Literal

import torch
from torch import Tensor, nn

from neurometa.agents.episodic.replay import ReplayBuffer
from neurometa.agents.memory import EpisodicMemory
from neurometa.config import Config, ConfigError, check_choice, check_range
from neurometa.returns import n_step_returns
from neurometa.seeding import RunSeeds

__all__ = [
    "EpisodicControlConfig",
    "EpisodicControlAgent",
    "EPISODIC_CONTROL_PRESETS",
]


@dataclass(frozen=True)
class EpisodicControlConfig(Config):
    """Parameters of an episodic-control agent (see the module docstring)."""

    method: Literal["box2", "mfec", "nec"] = "mfec"
    """Which algorithm: ``"box2"``, ``"mfec"`` or ``"nec"``."""
    capacity: int = 10_000
    """Slots per action store."""
    num_neighbours: int = 10
    """``k``, neighbours per read."""
    discount: float = 0.95
    """γ of the returns."""
    n_step: int | None = None
    """Return horizon ``n`` (≥ 1); None: Monte-Carlo returns to the episode's end."""
    epsilon: float = 0.1
    """Probability of a uniformly random action."""
    embedding_dim: int = 16
    """Width of the MFEC projection / NEC embedding (Box 2 uses the observation)."""
    hidden_units: int = 64
    """Hidden layer width of NEC's embedding network."""
    learning_rate: float = 1e-3
    """Adam step size of NEC's embedding and store parameters."""
    tabular_rate: float = 0.1
    """NEC's α for updating an exactly matching stored value."""
    delta: float = 1e-3
    """δ of the inverse-distance kernel."""
    replay_capacity: int = 10_000
    """Transitions kept for NEC's gradient updates."""
    batch_size: int = 32
    """Minibatch size of NEC's gradient updates."""
    updates_per_episode: int = 16
    """Gradient steps after each (batch of) episode(s) (NEC)."""
    exact_tolerance: float = 1e-5
    """Max-abs difference under which two keys count as the same state."""

    def __post_init__(self) -> None:
        check_choice(self, "method", ("box2", "mfec", "nec"))
        for name in ("capacity", "num_neighbours", "embedding_dim", "hidden_units"):
            check_range(self, name, low=1)
        for name in ("replay_capacity", "batch_size"):
            check_range(self, name, low=1)
        if self.n_step is not None and self.n_step < 1:
            raise ConfigError(
                f"EpisodicControlConfig.n_step = {self.n_step!r} must be >= 1; None gives "
                "Monte-Carlo returns to the episode's end"
            )
        check_range(self, "updates_per_episode", low=0)
        check_range(self, "discount", low=0.0, high=1.0)
        check_range(self, "epsilon", low=0.0, high=1.0)
        check_range(self, "tabular_rate", low=0.0, high=1.0)
        for name in ("learning_rate", "delta"):
            check_range(self, name, low=0.0, low_inclusive=False)
        check_range(self, "exact_tolerance", low=0.0)
        if self.num_neighbours > self.capacity:
            raise ValueError(
                f"EpisodicControlConfig: num_neighbours={self.num_neighbours} exceeds "
                f"capacity={self.capacity}"
            )


#: Named settings: the literature's choices, scaled to small discrete tasks.
EPISODIC_CONTROL_PRESETS: dict[str, EpisodicControlConfig] = {
    "box2": EpisodicControlConfig(method="box2", n_step=10, num_neighbours=10),
    "mfec": EpisodicControlConfig(method="mfec", n_step=None, num_neighbours=11),
    "nec": EpisodicControlConfig(method="nec", n_step=5, num_neighbours=10),
}


class EpisodicControlAgent:
    """An episodic-valuation agent following :class:`neurometa.agents.base.Agent`.

    Parameters
    ----------
    config : EpisodicControlConfig
    obs_dim, num_actions : int
        Sizes of the task's observation and action spaces.
    generator : torch.Generator
        Seeds the random projection / embedding weights and replay sampling
        (:meth:`for_task` uses ``RunSeeds(seed).torch("memory")``).
    device : str or torch.device

    Outputs of :meth:`act`: ``policy [B, A]`` (the ε-greedy probabilities), ``value [B]``
    (``max_a Q``) and the memory read-outs, each ``[B, A]`` (one column per action store):
    ``q_values`` (the value read, ``Q(s, a)``), ``memory_size`` (int64: pairs stored) and
    ``nearest_distance`` (Euclidean distance from ``e(s)`` to the nearest stored key;
    ``inf`` while the store is empty).
    """

    #: Trailing dims of the memory read-outs, for the recorder.
    variable_dims: ClassVar[dict[str, tuple[str, ...]]] = {
        name: ("action_id",) for name in ("q_values", "memory_size", "nearest_distance")
    }

    def __init__(
        self,
        config: EpisodicControlConfig,
        obs_dim: int,
        num_actions: int,
        *,
        generator: torch.Generator,
        device: str | torch.device = "cpu",
    ) -> None:
        self.config, self.device = config, torch.device(device)
        self.name = f"episodic_control/{config.method}"
        self.discount = config.discount
        self.num_actions, self.obs_dim = num_actions, obs_dim
        self.generator = generator
        method = config.method
        key_dim = obs_dim if method == "box2" else config.embedding_dim
        kernel = {"box2": "inverse_distance", "mfec": "uniform", "nec": "inverse_distance"}
        self.memory = EpisodicMemory(
            num_actions,
            config.capacity,
            key_dim,
            1,
            kernel=kernel[method],
            delta=config.delta,
            eviction="lru",
            learnable=method == "nec",
            device=self.device,
        )
        self.embedding = self._make_embedding(obs_dim, key_dim).to(self.device)
        self.optimizer = None
        if method == "nec":
            params = [*self.embedding.parameters(), self.memory.keys, self.memory.values]
            self.optimizer = torch.optim.Adam(params, lr=config.learning_rate)
            self.replay = ReplayBuffer(config.replay_capacity, obs_dim, self.device)
        self.episodes_seen = 0

    @classmethod
    def for_task(
        cls,
        config: EpisodicControlConfig,
        task: Any,
        *,
        seed: int,
        device: str | torch.device = "cpu",
    ) -> EpisodicControlAgent:
        """An agent with an empty memory for ``task``, its weights seeded from ``seed``.

        The projection / embedding and replay draws come from stream ``memory`` of
        ``RunSeeds(seed)``; the sizes from ``task`` (``obs_dim``, ``num_actions``).

        Examples
        --------
        >>> from neurometa.tasks import make
        >>> task = make("gridworld/5x5", 2)
        >>> agent = EpisodicControlAgent.for_task(EPISODIC_CONTROL_PRESETS["mfec"], task, seed=0)
        >>> agent.name
        'episodic_control/mfec'
        """
        generator = RunSeeds(seed).torch("memory")
        return cls(config, task.obs_dim, task.num_actions, generator=generator, device=device)

    def _make_embedding(self, obs_dim: int, key_dim: int) -> nn.Module:
        cfg = self.config
        if cfg.method == "box2":
            return nn.Identity()
        if cfg.method == "mfec":
            proj = nn.Linear(obs_dim, key_dim, bias=False)
            with torch.no_grad():
                proj.weight.copy_(torch.randn(key_dim, obs_dim, generator=self.generator))
                proj.weight.div_(key_dim**0.5)
            return proj.requires_grad_(False)
        net = nn.Sequential(
            nn.Linear(obs_dim, cfg.hidden_units), nn.ReLU(), nn.Linear(cfg.hidden_units, key_dim)
        )
        with torch.no_grad():
            for param in net.parameters():
                bound = 1.0 / max(param.shape[-1], 1) ** 0.5
                param.copy_(torch.rand(param.shape, generator=self.generator) * 2 * bound - bound)
        return net

    # ------------------------------------------------------------------ Agent protocol
    def begin(self, task, generator: torch.Generator) -> None:  # noqa: ANN001
        """Start ``task.num_envs`` episodes; the stores persist across episodes."""
        if task.num_actions != self.num_actions or task.obs_dim != self.obs_dim:
            raise ValueError(
                f"{self.name}: built for obs_dim={self.obs_dim}, {self.num_actions} actions; "
                f"task has obs_dim={task.obs_dim}, {task.num_actions} actions"
            )
        steps, num_envs = task.episode_length, task.num_envs
        self.sampler = generator
        self._t = 0
        self._obs = torch.zeros(steps, num_envs, self.obs_dim, device=self.device)
        self._actions = torch.zeros(steps, num_envs, dtype=torch.long, device=self.device)
        self._rewards = torch.zeros(steps, num_envs, device=self.device)
        self._values = torch.zeros(steps, num_envs, device=self.device)

    def q_values(self, obs: Tensor) -> Tensor:
        """``Q(s, a)`` for every action, shape ``(B, A)``, read from the stores."""
        return self._read(obs)[0]

    def _read(self, obs: Tensor) -> tuple[Tensor, Tensor]:
        """``Q(s, a)`` and the distance to the nearest stored key, both ``[B, A]``."""
        keys = self.embedding(obs)  # [B, E]
        query = keys.unsqueeze(0).expand(self.num_actions, -1, -1)
        out = self.memory.lookup(query, self.config.num_neighbours)
        q = out.values[..., 0]  # [A, B]
        nearest = out.indices[..., 0].clamp(min=0)  # neighbours come nearest first
        stores = torch.arange(self.num_actions, device=self.device)[:, None]
        diff = self.memory.keys[stores, nearest] - query
        found = out.indices[..., 0] >= 0
        distance = diff.norm(dim=2).masked_fill(~found, float("inf"))
        if self.config.method == "mfec":  # an exact match returns its stored value
            exact = found & (diff.abs().amax(dim=2) <= self.config.exact_tolerance)
            q = torch.where(exact, self.memory.values[stores, nearest, 0], q)
        return q.T, distance.T

    def act(self, obs: Tensor, info: dict[str, Tensor]) -> tuple[Tensor, dict[str, Tensor]]:
        """ε-greedy action on the episodic ``Q``; see the class docstring for outputs."""
        with torch.no_grad():
            q, distance = self._read(obs)
        num_envs, eps = obs.shape[0], self.config.epsilon
        jitter = torch.rand(q.shape, generator=self.sampler, device=self.device) * 1e-6
        greedy = (q + jitter).argmax(dim=1)
        explore = torch.rand(num_envs, generator=self.sampler, device=self.device) < eps
        rand = torch.randint(
            0, self.num_actions, (num_envs,), generator=self.sampler, device=self.device
        )
        action = torch.where(explore, rand, greedy)
        policy = torch.full_like(q, eps / self.num_actions)
        policy[torch.arange(num_envs), greedy] += 1.0 - eps
        self._obs[self._t], self._actions[self._t] = obs, action
        self._values[self._t] = q.max(dim=1).values
        size = self.memory.size.expand(num_envs, -1)  # [B, A] (the stores are shared)
        readouts = {"q_values": q, "memory_size": size, "nearest_distance": distance}
        return action, {"policy": policy, "value": q.max(dim=1).values, **readouts}

    def observe(
        self, action: Tensor, reward: Tensor, terminated: Tensor, info: dict[str, Tensor]
    ) -> dict[str, Tensor]:
        """Record the reward; at the episode's end write returns (and train, for NEC)."""
        self._rewards[self._t] = reward
        self._t += 1
        if bool(terminated.all()):
            self.end_episode()
        return {}

    # ------------------------------------------------------------------ learning
    def returns(self) -> Tensor:
        """Targets ``G_t`` of the finished episode, shape ``(T, B)`` (see module docstring).

        :func:`neurometa.returns.n_step_returns` with ``γ_t = γ`` until the episode's last
        step (``γ_{T−1} = 0``), bootstrapped from the act-time values for NEC and from
        nothing (zeros) for Box 2 and MFEC.
        """
        cfg, rewards = self.config, self._rewards
        discounts = torch.full_like(rewards, cfg.discount)
        discounts[-1] = 0.0
        values = self._values if cfg.method == "nec" else torch.zeros_like(rewards)
        horizon = cfg.n_step or rewards.shape[0]
        return n_step_returns(rewards, discounts, values, torch.zeros_like(values[-1]), horizon)

    def end_episode(self) -> None:
        """Write the episode's ``(e(s_t), G_t)`` pairs to the stores of ``a_t``."""
        targets = self.returns()
        with torch.no_grad():
            keys = self.embedding(self._obs.flatten(0, 1))
        actions, targets = self._actions.flatten(), targets.flatten()
        if self.config.method == "box2":
            self._write_padded(keys, actions, targets, reduce=None)
        else:
            self._write_padded(
                keys, actions, targets, reduce="amax" if self.config.method == "mfec" else "mean"
            )
        if self.config.method == "nec":
            self.replay.add(self._obs.flatten(0, 1), actions, targets)
            self._train_embedding()
        self.episodes_seen += self._obs.shape[1]

    def _write_padded(
        self, keys: Tensor, actions: Tensor, targets: Tensor, reduce: str | None
    ) -> None:
        """Group pairs by action into ``[A, N, ·]`` tensors; update matches, add the rest."""
        groups = []
        for a in range(self.num_actions):  # A is small (a handful of actions)
            k, g = keys[actions == a], targets[actions == a]
            if reduce is not None and k.shape[0] > 0:
                k, inverse = torch.unique(k, dim=0, return_inverse=True)
                g = torch.zeros(k.shape[0], device=self.device).scatter_reduce(
                    0, inverse, g, reduce=reduce, include_self=False
                )
            groups.append((k, g))
        width = max(max(k.shape[0] for k, _ in groups), 1)
        pad_keys = torch.zeros(self.num_actions, width, keys.shape[1], device=self.device)
        pad_vals = torch.zeros(self.num_actions, width, 1, device=self.device)
        present = torch.zeros(self.num_actions, width, dtype=torch.bool, device=self.device)
        for a, (k, g) in enumerate(groups):
            pad_keys[a, : k.shape[0]], pad_vals[a, : k.shape[0], 0] = k, g
            present[a, : k.shape[0]] = True
        fresh = present
        if reduce is not None:
            slots = self._exact_slots(pad_keys).masked_fill(~present, -1)
            old = self.memory.values.detach()[
                torch.arange(self.num_actions)[:, None], slots.clamp(min=0)
            ]
            if reduce == "amax":
                new = torch.maximum(old, pad_vals)
            else:
                new = old + self.config.tabular_rate * (pad_vals - old)
            self.memory.update_values(slots, new)
            fresh = present & (slots < 0)
        self.memory.write(pad_keys, pad_vals, mask=fresh)

    def _exact_slots(self, keys: Tensor) -> Tensor:
        """Slot of an exactly matching stored key per ``keys [A, N, E]``, else ``-1``."""
        if int(self.memory.size.max()) == 0:
            return torch.full(keys.shape[:2], -1, dtype=torch.long, device=self.device)
        idx, found = self.memory.search(keys, 1)
        idx, found = idx[..., 0], found[..., 0]
        stores = torch.arange(self.num_actions, device=self.device)[:, None]
        gap = (self.memory.keys.detach()[stores, idx] - keys).abs().amax(dim=2)
        return torch.where(found & (gap <= self.config.exact_tolerance), idx, -1)

    def _train_embedding(self) -> None:
        """NEC: Adam steps on ``(Q(s, a) − G)^2`` over replayed minibatches."""
        cfg = self.config
        with torch.enable_grad():  # also when acting under no_grad (e.g. while recorded)
            self._gradient_steps(cfg)

    def _gradient_steps(self, cfg: EpisodicControlConfig) -> None:
        for _ in range(cfg.updates_per_episode):
            obs, actions, targets = self.replay.sample(cfg.batch_size, self.generator)
            keys = self.embedding(obs)
            query = keys.unsqueeze(0).expand(self.num_actions, -1, -1)
            q = self.memory.lookup(query, cfg.num_neighbours).values[..., 0]  # [A, M]
            chosen = q.gather(0, actions[None]).squeeze(0)
            loss = (chosen - targets).square().mean()
            self.optimizer.zero_grad()
            loss.backward()
            self.optimizer.step()

"""Toy agents following the Agent protocol and a lab dataset, for the recording tests."""

from __future__ import annotations

import numpy as np
import torch
import xarray as xr

NUM_UNITS = 3


class ToyAgent:
    """Random policy with fake units whose values are known functions of the inputs.

    ``policy`` = softmax([0, bias]); ``value`` = 0.1 * t; ``h[:, u]`` = obs.sum(1) + u;
    ``c[:, u]`` = t + 10 u; actions are drawn from ``policy`` with the given generator.
    """

    name = "toy"
    discount = 0.9
    variable_dims = {"retrieval_weights": ("neighbor",)}

    def __init__(self, bias: float = 1.0, *, memory: bool = False, own_rpe: bool = False):
        self.bias, self.memory, self.own_rpe = bias, memory, own_rpe

    def begin(self, task, generator: torch.Generator) -> None:
        self.generator, self.num_envs, self.t = generator, task.num_envs, 0
        self.num_actions = task.num_actions

    def act(self, obs, info):
        logits = torch.zeros(self.num_envs, self.num_actions)
        logits[:, 1] = self.bias
        policy = torch.softmax(logits, dim=1)
        action = torch.multinomial(policy, 1, generator=self.generator).squeeze(1)
        units = torch.arange(NUM_UNITS, dtype=torch.float32)
        out = {
            "policy": policy,
            "value": torch.full((self.num_envs,), 0.1 * self.t),
            "h": obs.sum(1, keepdim=True) + units,
            "c": self.t + 10 * units.expand(self.num_envs, NUM_UNITS),
        }
        if self.memory:
            out["retrieval_weights"] = torch.full((self.num_envs, 4), 0.25)
            out["gate"] = torch.full((self.num_envs,), 0.5)
            out["read_pair"] = torch.zeros(self.num_envs, 2, 2)
        return action, out

    def observe(self, action, reward, terminated, info):
        self.t += 1
        return {"rpe": reward * 2.0 - 1.0} if self.own_rpe else {}


class ChoiceOnlyAgent:
    """A baseline-like agent: a policy and nothing else (no value, no units)."""

    name = "choice_only"
    discount = 1.0

    def begin(self, task, generator):
        self.generator, self.num_envs, self.num_actions = (
            generator,
            task.num_envs,
            task.num_actions,
        )

    def act(self, obs, info):
        policy = torch.full((self.num_envs, self.num_actions), 1.0 / self.num_actions)
        return torch.multinomial(policy, 1, generator=self.generator).squeeze(1), {
            "policy": policy
        }

    def observe(self, action, reward, terminated, info):
        return {}


class FailingAgent(ToyAgent):
    """Raises after ``fail_after`` calls to ``begin`` (a crash mid-recording)."""

    def __init__(self, fail_after: int):
        super().__init__()
        self.fail_after, self.calls = fail_after, 0

    def begin(self, task, generator):
        self.calls += 1
        if self.calls > self.fail_after:
            raise RuntimeError("simulated crash")
        super().begin(task, generator)


def lab_two_step(num_sessions: int = 2, num_trials: int = 5) -> xr.Dataset:
    """A trial-level lab two-step dataset as a tidy-table importer produces it."""
    rng = np.random.default_rng(0)
    shape = (num_sessions, num_trials)
    es = ("episode", "step")
    reward = rng.integers(0, 2, shape).astype(np.float32)
    reward[0, 1] = np.nan  # a missed trial
    return xr.Dataset(
        {
            "choice1": (es, rng.integers(0, 2, shape)),
            "state2": (es, rng.integers(0, 2, shape)),
            "choice2": (es, rng.integers(0, 2, shape)),
            "common_transition": (es, rng.random(shape) < 0.7),
            "reward": (es, reward),
        },
        coords={
            "episode": np.arange(num_sessions),
            "step": np.arange(num_trials),
            "trial": ("step", np.arange(num_trials)),
            "stage": ("step", np.full(num_trials, "trial", dtype=object)),
            "subject": ("episode", np.array(["m1", "m2"][:num_sessions], dtype=object)),
        },
        attrs={
            "schema_version": 1,
            "source": "lab",
            "task": "two_step",
            "preset": "two_step/daw2011",
            "config_json": "{}",
            "neurometa_version": "0.1.0",
        },
    )

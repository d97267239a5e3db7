"""The plain reference A2C update gives the fast trainer's gradient."""

from __future__ import annotations

import pytest
import torch

from neurometa.learn import Trainer
from neurometa.learn.a2c import entropy_cost_at
from neurometa.learn.config import NetworkConfig, OptimConfig, TaskConfig, TrainConfig
from neurometa.learn.reference import reference_update


def _config(**optim) -> TrainConfig:
    return TrainConfig(
        task=TaskConfig(preset="bandit/independent", overrides={"num_trials": 12}),
        network=NetworkConfig(num_units=16),
        optim=OptimConfig(batch_size=32, max_grad_norm=None, **optim),
    )


@pytest.mark.parametrize(
    "optim",
    [
        {},
        {"discount": 0.9, "gae_lambda": 0.8, "reward_shift": 0.5, "reward_scale": 2.0},
        {"normalize_advantages": True, "value_cost": 0.05, "entropy_cost": 0.2},
    ],
    ids=["defaults", "discounted_gae_shifted", "normalised"],
)
def test_reference_update_gives_the_taped_trainers_first_gradient(optim):
    # two learners from the same seed: the same weights, episodes and action draws
    config = _config(**optim)
    fast, plain = Trainer(config, seed=4), Trainer(config, seed=4)
    fast.step()
    loss = reference_update(
        plain.network, plain.optimizer, plain.task, plain.sampler, config.optim,
        entropy_cost=entropy_cost_at(config.optim, 0),
    )  # fmt: skip
    assert torch.isfinite(loss)
    for (name, p_fast), p_plain in zip(
        fast.network.named_parameters(), plain.network.parameters(), strict=True
    ):
        torch.testing.assert_close(p_plain.grad, p_fast.grad, rtol=1e-4, atol=1e-6, msg=name)
        torch.testing.assert_close(p_plain, p_fast, rtol=1e-5, atol=1e-6, msg=name)

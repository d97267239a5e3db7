"""The Gymnasium adapter: neurogym tasks as batched tasks, restarts, and clear errors."""

from __future__ import annotations

import pytest
import torch

from neurometa.config import ConfigError
from neurometa.tasks import make
from neurometa.tasks.gym_adapter import GymTaskError


@pytest.mark.parametrize(
    ("env_id", "obs_dim", "num_actions"),
    [("PerceptualDecisionMaking-v0", 3, 3), ("GoNogo-v0", 3, 2)],
    ids=["perceptual_decision_making", "go_nogo"],
)
def test_neurogym_tasks_run_batched(env_id, obs_dim, num_actions, rollout):
    task = make(f"gym:{env_id}", 6, max_steps=120)
    assert (task.obs_dim, task.num_actions, task.episode_length) == (obs_dim, num_actions, 120)
    assert {"gt", "new_trial", "episode_restart"} <= set(task.hidden_variables)
    ep = rollout(task, seed=0)
    gt = ep.infos["gt"]
    assert gt.dtype == torch.long
    assert ((gt >= 0) & (gt < num_actions)).all()
    # neurogym trials end within 120 steps: new_trial marks them
    assert ep.infos["new_trial"].any()
    assert task.metadata["paper_url"].startswith("http")


def test_neurogym_hidden_ground_truth_matches_the_env_and_the_reward(rollout):
    """``gt`` is the copy's own ground truth; a decision pays 1 exactly when it equals ``gt``."""
    task = make("gym:PerceptualDecisionMaking-v0", 8, max_steps=400)
    ep = rollout(task, seed=1)
    final_gt = torch.tensor([int(env.unwrapped.gt_now) for env in task.envs])
    assert torch.equal(ep.infos["gt"][-1], final_gt)
    decided = ep.infos["new_trial"]  # the decision step ends a neurogym trial
    assert decided.sum() >= 50
    correct = ep.actions[decided] == ep.infos["gt"][decided]
    assert correct.any()
    assert (~correct).any()
    assert torch.equal(ep.rewards[decided], correct.float())


def test_copies_whose_episode_ends_are_reset_and_continue(rollout):
    # CartPole under random actions falls within ~20-40 steps, well before 200
    task = make("gym:CartPole-v1", 4, max_steps=200)
    ep = rollout(task, seed=3)
    restarts = ep.infos["episode_restart"]
    assert restarts.sum() >= 8
    # the observation after a restart is a fresh CartPole state (all |x| <= 0.05)
    fresh = ep.obs[1:][restarts]
    assert fresh.abs().max() <= 0.05
    assert ep.terminated[-1].all()
    assert not ep.terminated[:-1].any()


def test_unknown_env_id_names_close_matches():
    with pytest.raises(GymTaskError, match="did you mean 'PerceptualDecisionMaking-v0'"):
        make("gym:PerceptualDecisionMakin-v0", 2)


@pytest.mark.parametrize(
    ("env_id", "message"),
    [("MountainCarContinuous-v0", "Discrete action"), ("CliffWalking-v0", "Box observation")],
    ids=["box_actions", "discrete_observations"],
)
def test_unsupported_spaces_are_rejected(env_id, message):
    with pytest.raises(GymTaskError, match=message):
        make(f"gym:{env_id}", 2)


def test_bad_gym_overrides_are_rejected():
    with pytest.raises(ConfigError, match="unknown key 'max_step'.*max_steps"):
        make("gym:GoNogo-v0", 2, max_step=10)
    with pytest.raises(ConfigError, match="max_steps"):
        make("gym:GoNogo-v0", 2, max_steps=0)
    with pytest.raises(ConfigError, match="env_id"):
        make("gym:GoNogo-v0", 2, env_id="CartPole-v1")

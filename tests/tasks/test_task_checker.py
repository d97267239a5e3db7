"""The shared task checker, run over every registered preset and two neurogym tasks.

Each check is one test function parametrized over the same list of task factories:
shapes/dtypes/spaces, determinism under a seed, no cross-talk between batch members, the
info contract (trial, stage, hidden variables with leading dim B) and misuse errors.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch

from neurometa.tasks import PRESETS, MetaRLInputs, TaskError, make

NUM_ENVS = 5
GYM_CASES = {
    "gym:PerceptualDecisionMaking-v0": {"max_steps": 40},
    "gym:GoNogo-v0": {"max_steps": 40},
}
CASES = [(pid, {}) for pid in sorted(PRESETS)] + list(GYM_CASES.items())
IDS = [pid for pid, _ in CASES]


def build(case):
    preset, overrides = case
    return make(preset, NUM_ENVS, **overrides)


@pytest.fixture(params=CASES, ids=IDS)
def task_case(request):
    return request.param


def test_metadata_and_spaces(task_case):
    task = build(task_case)
    assert set(task.metadata) >= {"name", "description", "paper", "paper_url"}
    assert task.single_observation_space.shape == (task.obs_dim,)
    assert task.single_observation_space.dtype == np.float32
    assert task.num_actions >= 2
    assert len(task.stage_names) == task.steps_per_trial
    assert task.episode_length == task.num_trials * task.steps_per_trial
    for name, dims in task.variable_dims.items():
        assert name in task.hidden_variables
        assert all(isinstance(d, str) for d in dims)


def test_shapes_dtypes_and_termination(task_case, rollout):
    task = build(task_case)
    ep = rollout(task, seed=3)
    steps, num_envs = task.episode_length, NUM_ENVS
    assert ep.obs.shape == (steps + 1, num_envs, task.obs_dim)
    assert ep.obs.dtype == torch.float32
    space = task.single_observation_space
    assert all(space.contains(o.numpy()) for o in ep.obs[:-1].reshape(-1, task.obs_dim))
    assert ep.rewards.shape == (steps, num_envs)
    assert ep.rewards.dtype == torch.float32
    assert ep.terminated.dtype == torch.bool
    assert ep.truncated.dtype == torch.bool
    assert not ep.truncated.any()
    assert ep.terminated[-1].all()
    assert not ep.terminated[:-1].any()


def test_info_has_trial_stage_and_hidden_variables(task_case, rollout):
    task = build(task_case)
    ep = rollout(task, seed=4)
    for info in (ep.reset_info, {k: v[0] for k, v in ep.infos.items()}):
        assert set(info) == {"trial", "stage", *task.hidden_variables}
        for name, value in info.items():
            extra = task.variable_dims.get(name, ())
            assert value.shape[0] == NUM_ENVS, name
            assert value.ndim == 1 + len(extra), name
    steps = torch.arange(task.episode_length)
    expected_trial = (steps // task.steps_per_trial).unsqueeze(1).expand(-1, NUM_ENVS)
    expected_stage = (steps % task.steps_per_trial).unsqueeze(1).expand(-1, NUM_ENVS)
    assert torch.equal(ep.infos["trial"], expected_trial)
    assert torch.equal(ep.infos["stage"], expected_stage)
    assert ep.infos["trial"].dtype == torch.long
    assert torch.equal(ep.reset_info["trial"], torch.zeros(NUM_ENVS, dtype=torch.long))


def _assert_same(a, b):
    assert torch.equal(a.obs, b.obs)
    assert torch.equal(a.rewards, b.rewards)
    for key in a.infos:
        assert torch.equal(a.infos[key], b.infos[key]), key


def test_same_seed_same_trajectory(task_case, rollout):
    first, second = build(task_case), build(task_case)
    _assert_same(rollout(first, seed=11), rollout(second, seed=11))
    # an unseeded reset continues the stream reproducibly
    _assert_same(rollout(first, seed=None), rollout(second, seed=None))


def test_different_seed_different_trajectory(task_case, rollout):
    """Stochastic tasks differ across seeds; deterministic ones (``stochastic=False``) don't."""
    task = build(task_case)
    a = rollout(task, seed=1)
    b = rollout(build(task_case), seed=2)
    differs = not torch.equal(a.obs, b.obs) or not torch.equal(a.rewards, b.rewards)
    differs = differs or any(not torch.equal(a.infos[k], b.infos[k]) for k in a.infos)
    assert differs == task.stochastic


def test_no_cross_talk_between_batch_members(task_case, rollout):
    """Changing member 0's actions leaves every other member's episode unchanged."""
    task = build(task_case)
    num_actions = task.num_actions

    def shift_member0(t, action):
        action = action.clone()
        action[0] = (action[0] + 1) % num_actions
        return action

    base = rollout(task, seed=5)
    changed = rollout(task, seed=5, policy=shift_member0)
    assert not torch.equal(base.actions[:, 0], changed.actions[:, 0])
    assert torch.equal(base.obs[:, 1:], changed.obs[:, 1:])
    assert torch.equal(base.rewards[:, 1:], changed.rewards[:, 1:])
    for key in base.infos:
        assert torch.equal(base.infos[key][:, 1:], changed.infos[key][:, 1:]), key


def test_step_after_termination_raises(task_case, rollout):
    task = build(task_case)
    rollout(task, seed=0)
    with pytest.raises(TaskError, match="reset"):
        task.step(torch.zeros(NUM_ENVS, dtype=torch.long))


def test_bad_actions_raise(task_case):
    task = build(task_case)
    with pytest.raises(TaskError, match="reset"):
        task.step(torch.zeros(NUM_ENVS, dtype=torch.long))  # before any reset
    task.reset(seed=0)
    with pytest.raises(TaskError, match="shape"):
        task.step(torch.zeros(NUM_ENVS + 1, dtype=torch.long))
    with pytest.raises(TaskError, match="integer"):
        task.step(torch.zeros(NUM_ENVS))
    with pytest.raises(TaskError, match="lie in"):
        task.step(torch.full((NUM_ENVS,), task.num_actions, dtype=torch.long))


def test_metarl_inputs_wrap_every_task(task_case, rollout):
    inner = build(task_case)
    env = MetaRLInputs(inner, trial_index=True)
    assert env.task is inner
    assert env.obs_dim == inner.obs_dim + inner.num_actions + 2
    ep = rollout(env, seed=6)
    width, num_actions = inner.obs_dim, inner.num_actions
    one_hot = torch.nn.functional.one_hot(ep.actions, num_actions).float()
    assert torch.equal(ep.obs[1:, :, width : width + num_actions], one_hot)
    assert torch.equal(
        ep.obs[0, :, width : width + num_actions + 1], torch.zeros(NUM_ENVS, num_actions + 1)
    )
    assert torch.equal(ep.obs[1:, :, width + num_actions], ep.rewards)
    trial = torch.arange(1, env.episode_length + 1) // env.steps_per_trial / env.num_trials
    assert torch.allclose(ep.obs[1:, :, -1], trial.float().unsqueeze(1).expand(-1, NUM_ENVS))
    plain = rollout(build(task_case), seed=6)
    assert torch.equal(ep.obs[:, :, :width], plain.obs)
    assert all(env.single_observation_space.contains(o.numpy()) for o in ep.obs[0])

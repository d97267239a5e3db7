"""The preset registry, strict overrides, the MetaRLInputs wrapper and `neurometa tasks`."""

from __future__ import annotations

import json

import pytest
import torch

from neurometa.cli import main
from neurometa.config import ConfigError
from neurometa.tasks import PRESETS, MetaRLInputs, UnknownTaskError, list_presets, make

REQUIRED_IDS = {
    "bandit/independent",
    "bandit/correlated",
    "bandit/fixed_0.1_0.9",
    "bandit/fixed_0.25_0.75",
    "bandit/fixed_0.4_0.6",
    "harlow/wang2018",
    "two_step/daw2011",
    "two_step/wang2018",
    "foraging/coupled_baiting",
    "contextual_bandit/ritter2018",
}


def test_list_presets_has_every_family_with_description_and_paper():
    rows = list_presets()
    assert REQUIRED_IDS <= {row[0] for row in rows}
    assert [row[0] for row in rows] == sorted(row[0] for row in rows)
    for preset_id, description, paper in rows:
        assert description
        assert "\n" not in description
        assert paper, preset_id


@pytest.mark.parametrize(
    ("preset", "trials", "spt"),
    [("bandit/independent", 100, 1), ("two_step/daw2011", 201, 2), ("two_step/wang2018", 100, 2),
     ("harlow/wang2018", 6, 1)],
    ids=["bandit", "daw", "wang", "harlow"],
)  # fmt: skip
def test_literature_defaults(preset, trials, spt):
    task = make(preset, 2)
    assert (task.num_trials, task.steps_per_trial) == (trials, spt)


def test_unknown_preset_suggests_the_closest_and_lists_all():
    with pytest.raises(UnknownTaskError, match="did you mean 'two_step/daw2011'") as err:
        make("two_step/daw2001", 2)
    for preset_id in PRESETS:
        assert preset_id in str(err.value)


def test_overrides_apply_and_are_strict():
    task = make("bandit/independent", 3, num_trials=7, num_arms=4)
    assert (task.episode_length, task.num_actions) == (7, 4)
    with pytest.raises(ConfigError, match="unknown key 'num_trial'.*valid keys: num_arms"):
        make("bandit/independent", 3, num_trial=7)
    with pytest.raises(ConfigError, match="num_trials"):
        make("bandit/independent", 3, num_trials=0)
    with pytest.raises(ConfigError, match="correlated.*num_arms=2"):
        make("bandit/correlated", 3, num_arms=3)
    with pytest.raises(ConfigError, match="common_prob"):
        make("two_step/daw2011", 3, common_prob=1.5)


def test_bad_batch_size_is_rejected():
    with pytest.raises(ValueError, match="num_envs"):
        make("bandit/independent", 0)


def test_metarl_inputs_without_trial_index():
    env = MetaRLInputs(make("bandit/independent", 2, num_trials=3), trial_index=False)
    obs, _ = env.reset(seed=0)
    assert torch.equal(obs, torch.tensor([[1.0, 0.0, 0.0, 0.0]] * 2))
    obs, reward, *_ = env.step(torch.tensor([1, 0]))
    assert torch.equal(obs[:, 1:3], torch.tensor([[0.0, 1.0], [1.0, 0.0]]))
    assert torch.equal(obs[:, 3], reward)
    assert env.generator is env.task.generator
    with pytest.raises(TypeError, match="BatchedTask"):
        MetaRLInputs("bandit/independent")


def test_tasks_command_lists_presets_as_json(capsys):
    assert main(["tasks", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    ids = {row["id"] for row in data["presets"]}
    assert ids == set(PRESETS)
    assert all(row["paper"] and row["description"] for row in data["presets"])


def test_tasks_command_shows_one_preset(capsys):
    assert main(["tasks", "--show", "two_step/wang2018", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["config"]["common_prob"] == 0.8
    assert data["config"]["reversal_prob"] == 0.025
    assert main(["tasks", "--show", "two_step/wang"]) == 2
    assert "did you mean 'two_step/wang2018'" in capsys.readouterr().err


def test_tasks_command_text_output(capsys):
    assert main(["tasks"]) == 0
    out = capsys.readouterr().out
    assert "two_step/daw2011" in out
    assert "Daw et al. 2011" in out


def test_unwrapped_is_the_innermost_task():
    task = make("two_step/daw2011", 2)
    assert task.unwrapped is task
    wrapped = MetaRLInputs(MetaRLInputs(task))
    assert wrapped.unwrapped is task
    assert wrapped.task.task is task

"""``analyze compare`` of an agent against lab data of every task family.

Lab data come in through the lab's own paths: an NWB trials table + unit activity (here an
agent recording exported with ``neurometa export nwb`` and imported with ``read_nwb``, as a
lab file is), and for two-step also the tidy-table layout (``choice1``/``state2``/``choice2``
on two steps per trial, no ``action``), which failed before with "missing variable(s)
'action'".
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
import xarray as xr

from neurometa.analysis.compare_report import CompareConfig, run_comparison
from neurometa.analysis.two_step import two_step_trials
from neurometa.data import export_nwb, read_nwb
from neurometa.data.tables import read_two_step_csv, table_to_recording
from neurometa.record import record
from neurometa.tasks import make

QUICK = CompareConfig(num_shuffles=2, num_permutations=50, num_splits=2)


class CodingAgent:
    """Random choices; six units = noise + previous reward/choice and the current choice."""

    name = "coding"
    discount = 0.9

    def begin(self, task, generator: torch.Generator) -> None:
        self.generator, self.num_envs, self.num_actions = (
            generator,
            task.num_envs,
            task.num_actions,
        )
        self.prev_reward = torch.zeros(self.num_envs)
        self.prev_action = torch.zeros(self.num_envs)

    def act(self, obs, info):
        policy = torch.full((self.num_envs, self.num_actions), 1.0 / self.num_actions)
        action = torch.multinomial(policy, 1, generator=self.generator).squeeze(1)
        noise = torch.randn(self.num_envs, 6, generator=self.generator)
        code = [self.prev_reward, self.prev_action, action.float()] * 2
        h = noise + torch.stack(code, 1)
        value = 0.5 + 0.1 * self.prev_reward + 0.1 * noise[:, 0]
        return action, {"policy": policy, "value": value, "h": h, "c": 2 * h}

    def observe(self, action, reward, terminated, info):
        self.prev_reward, self.prev_action = reward.float(), action.float()
        return {}


def _agent(preset: str, seed: int) -> xr.Dataset:
    harlow = preset.startswith("harlow")  # 6 trials per episode
    task = make(preset, 4, **({} if harlow else {"num_trials": 40}))
    episodes = 64 if harlow else 12
    return record(CodingAgent(), task, episodes, seed=seed, progress=False, preset=preset)


def _lab_from_nwb(agent: xr.Dataset, tmp_path) -> xr.Dataset:
    """The agent's behaviour and units as a lab file, imported as labs import theirs."""
    path = tmp_path / "lab.nwb"
    export_nwb(agent, path)
    two_step = agent.attrs["preset"].startswith("two_step")
    options = {"choice_column": "action_first", "reward_column": "reward_second"}
    lab = read_nwb(
        path,
        timeseries="h",
        window=(0, (2 if two_step else 1) / 10.0),
        activity_name="activity",
        **(options if two_step else {}),
    )
    if two_step:  # a lab's value regressor comes from its own model fit
        lab["value"] = lab["value_first"]
    return lab


PRESETS = [
    "bandit/independent",
    "two_step/daw2011",
    "two_step/wang2018",
    "harlow/wang2018",
    "foraging/coupled_baiting",
    "contextual_bandit/ritter2018",
]


@pytest.mark.parametrize(
    "preset", PRESETS, ids=[p.split("/")[0] + "-" + p.split("/")[1] for p in PRESETS]
)
def test_compare_agent_with_lab_nwb_data_of_every_family(preset, tmp_path):
    lab = _lab_from_nwb(_agent(preset, seed=1), tmp_path)
    summary = run_comparison(_agent(preset, seed=2), lab, tmp_path / "out", QUICK)
    assert (tmp_path / "out" / "compare.png").is_file()
    assert set(summary["geometry"]) == {"rsa", "cka", "procrustes"}
    # same coding in agent and "lab" units: the geometry is shared beyond the null
    assert summary["geometry"]["cka"]["p_value"] <= 0.05


def test_compare_agent_with_a_lab_two_step_table(tmp_path):
    """The lab two-step layout (choice1, no action) with recorded activity."""
    agent = _agent("two_step/daw2011", seed=3)
    trials = two_step_trials(_agent("two_step/daw2011", seed=4))
    table = trials[["subject", "episode", "trial", "choice1", "state2", "choice2", "reward"]]
    table.rename(columns={"episode": "session"}).to_csv(tmp_path / "lab.csv", index=False)
    lab = table_to_recording(read_two_step_csv(tmp_path / "lab.csv"))
    assert "action" not in lab
    rng = np.random.default_rng(0)
    shape = (lab.sizes["episode"], lab.sizes["step"])
    per_trial = lab["reward"].fillna(0).values.reshape(shape[0], -1, 2).sum(-1)
    previous = np.repeat(np.roll(per_trial, 1, axis=1), 2, axis=1)  # on both stages
    activity = rng.normal(size=(*shape, 10)) + previous[..., None] * np.linspace(0, 2, 10)
    lab = lab.assign(
        activity=(("episode", "step", "unit"), activity),
        value=(("episode", "step"), rng.normal(size=shape)),
    ).assign_coords(unit=np.arange(10))
    summary = run_comparison(agent, lab, None, QUICK)
    assert set(summary["behaviour"]) == {
        "common/rewarded",
        "rare/rewarded",
        "common/unrewarded",
        "rare/unrewarded",
    }
    assert summary["coding"]["prev_reward"]["neural_fraction"] > 0.5

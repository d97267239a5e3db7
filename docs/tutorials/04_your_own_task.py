# %% [markdown]
# # 4. Your own task: a Gymnasium environment, trained and recorded
#
# Any `gymnasium.Env` with discrete actions and a box of observations runs as a batched
# neurometa task through the Gymnasium adapter (`make_task("gym:<env id>", ...)`), so the
# trainer, the recorder and every analysis work on it unchanged. Numeric entries of the
# environment's `info` become the recording's hidden task variables.
#
# The example: a two-armed *reversal* task. One arm pays with probability 0.8, the other
# with 0.2, and they swap without warning every 10 to 20 trials; the observation is only a
# constant cue, so the agent must infer the good arm from its own choices and rewards — the
# job the meta-RL inputs (previous action and reward) and the LSTM do together.

# %%
import os
import tempfile

import gymnasium as gym
import numpy as np
from gymnasium import spaces

import neurometa as nm

QUICK = os.environ.get("NEUROMETA_TUTORIAL_QUICK") == "1"
work = tempfile.mkdtemp(prefix="neurometa-tutorial-")


# %%
class Reversal(gym.Env):
    """Two arms paying 0.8 / 0.2; the better arm swaps every 10-20 trials."""

    def __init__(self, p_good: float = 0.8):
        self.p_good = p_good
        self.action_space = spaces.Discrete(2)
        self.observation_space = spaces.Box(0.0, 1.0, shape=(1,), dtype=np.float32)

    def _info(self) -> dict:
        return {"good_arm": self.good, "trials_since_reversal": self.since}

    def reset(self, *, seed=None, options=None):
        super().reset(seed=seed)  # seeds self.np_random
        self.good, self.since = int(self.np_random.integers(2)), 0
        self.next_reversal = int(self.np_random.integers(10, 21))
        return np.ones(1, np.float32), self._info()

    def step(self, action):
        p = self.p_good if action == self.good else 1.0 - self.p_good
        reward = float(self.np_random.random() < p)
        info = self._info()  # the state the choice was made in
        self.since += 1
        if self.since == self.next_reversal:
            self.good, self.since = 1 - self.good, 0
            self.next_reversal = int(self.np_random.integers(10, 21))
        return np.ones(1, np.float32), reward, False, False, info


gym.register("TutorialReversal-v0", entry_point=Reversal)

# %% [markdown]
# A batched task of 4 copies, 60 trials per episode; the hidden variables come from `info`.

# %%
task = nm.make_task("gym:TutorialReversal-v0", 4, max_steps=60)
obs, info = task.reset(seed=0)
sorted(task.hidden_variables)

# %% [markdown]
# ## Train
# A training configuration names the task by the same id; the network, the meta-RL inputs
# and the A2C outer loop are the bandit preset's.

# %%
config = nm.replace_paths(
    nm.get_preset("bandit/independent"),
    {
        "task.preset": "gym:TutorialReversal-v0",
        "task.overrides": {"max_steps": 60},
        "workers": 1,
        "optim.batch_size": 64,
        "optim.num_updates": 30 if QUICK else 2000,
        "eval.episodes": 64,
    },
)
run = nm.train(config, f"{work}/reversal", seed=0, progress=False)

# %% [markdown]
# ## Record and analyse
# The recording carries `good_arm` beside the units. Accuracy around reversals shows the
# within-episode learning; decoding `good_arm` from the units shows where it is held.

# %%
agent = nm.load_agent(run)
ds = nm.record_agent(agent, agent.make_task(64), 128, seed=1, progress=False)
correct = (ds["action"] == ds["good_arm"]).astype(float)
since = ds["trials_since_reversal"]
by_lag = correct.groupby(since.rename("lag")).mean()
ax = by_lag.sel(lag=slice(0, 12)).plot(marker="o", figsize=(4.5, 3))[0].axes
ax.set(xlabel="trials since the last reversal", ylabel="P(choose the good arm)",
       title=f"n = {ds.sizes['episode']} episodes")  # fmt: skip
ax.axhline(0.5, color="grey", ls="--", lw=1)

# %%
scores = nm.decode(ds, "good_arm", num_folds=4)
score, chance = float(scores["mean_score"]), float(scores["mean_chance"])
print(
    f"good arm decoded from {ds.sizes['unit']} units: accuracy {score:.2f} (chance {chance:.2f})"
)

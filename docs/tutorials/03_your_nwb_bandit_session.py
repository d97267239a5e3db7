# %% [markdown]
# # 3. Your own NWB bandit session: the agent on the animal's trials, coding, encoding
#
# A lab's two-armed bandit session in NWB — a trials table with the animal's choices and
# rewards, and neurons — compared neuron by neuron with a meta-RL agent: the agent is run
# on the animal's own sequence of choices and outcomes, so its units, value and prediction
# errors follow the animal's history trial for trial; its value enters the single-unit
# coding regression of the neurons, and encoding models ask which neurons the agent's units
# explain beyond a null, beside the task variables.
#
# So that the answers are known, the "lab" is simulated: a Rescorla-Wagner learner plays
# four sessions of independent bandits, and 30 neurons carry its chosen-option value
# (units 0-9), the previous reward (10-19) or nothing (20-29). With your own file, start at
# "Read the session".
#
# Not yet here: fitting a behavioural model (the Q-learning family) to the animal's choices
# and using its latent values as regressors — that comes with the behaviour-model layer.

# %%
import os
import tempfile

import matplotlib.pyplot as plt
import numpy as np

import neurometa as nm
from neurometa.analysis.encoding_plots import plot_encoding_fractions
from neurometa.analysis.trials import trial_predictors

QUICK = os.environ.get("NEUROMETA_TUTORIAL_QUICK") == "1"
work = tempfile.mkdtemp(prefix="neurometa-tutorial-")

# %%
task = nm.make_task("bandit/independent", 4, num_trials=100)
animal = nm.make_baseline("rescorla_wagner", task)
session = nm.record_agent(animal, task, 4, seed=0, progress=False)
rng = np.random.default_rng(0)
chosen_value = session["value"].values  # the learner's value of the option it chose
prev_reward = session["reward"].shift(step=1, fill_value=0).values * 2 - 1
rates = rng.normal(size=(4, 100, 30))
rates[..., :10] += 2 * chosen_value[..., None]
rates[..., 10:20] += 0.8 * prev_reward[..., None]
lab = (
    session[["action", "reward", "arm_probs"]]
    .assign(activity=(("episode", "step", "unit"), rates))
    .assign_coords(unit=np.arange(30), subject=("episode", ["rat1"] * 4))
)
lab.attrs.update(session.attrs, source="lab")
nwb = nm.export_nwb(lab, f"{work}/session.nwb")

# %% [markdown]
# ## Read the session
# `read_nwb` takes the trials table and the neurons (a units table of spike times, binned in a
# window around a trial event, or a TimeSeries as here) into the recording schema.

# %%
neural = nm.read_nwb(nwb, timeseries="activity", window=(0.0, 0.1))
neural

# %% [markdown]
# ## The agent on the animal's trials
# A meta-RL agent trained on the same task family (here briefly; `nm.train` with the preset
# for a real one) is run on the animal's sessions: its actions are replaced by the animal's
# choices and it receives the animal's outcomes. `choice_loglik` is the log-probability the
# agent gave each of the animal's choices.

# %%
config = nm.replace_paths(
    nm.get_preset("bandit/independent"),
    {"workers": 1, "optim.num_updates": 20 if QUICK else 5400,
     "eval.episodes": 100 if QUICK else 1000},
)  # fmt: skip
run = nm.train(config, f"{work}/agent", seed=0, progress=False)
agent = nm.load_agent(run)
on_trials = nm.record_on_trials(
    lambda _: agent, neural, preset=config.task.preset,
    task_overrides=dict(config.task.overrides), trial_index=config.task.trial_index,
    progress=False,
)  # fmt: skip
loglik = on_trials["choice_loglik"].mean()
print(f"mean log-likelihood of the animal's choices under the agent: {float(loglik):.3f}")

# %% [markdown]
# ## Single-unit coding with the agent's value
# The Tsutsui et al. (2016) regression of each neuron on a(t−1), r(t−1), their interaction
# and a value estimate — here the agent's value on the animal's trials.

# %%
fractions = nm.coding_fractions(neural, activity="activity", value=on_trials["value"])
fig, ax = plt.subplots(figsize=(5.5, 3.6), layout="constrained")
nm.plotting.plot_coding_fractions(fractions, ax=ax, title="30 simulated neurons")
fractions["fraction"].to_series().round(2)

# %% [markdown]
# ## Encoding models: which neurons does the agent explain?
# Cross-validated ridge from each predictor set to every neuron (folds by session), a
# circular-shift null per neuron, and the comparison of sets neuron by neuron.

# %%
predictors = {
    "agent units": trial_predictors(on_trials, ["h"]),
    "task": trial_predictors(neural, ["action", "reward"], previous=["reward"]),
}
res = nm.encoding_models(
    neural, predictors, num_folds=4, num_null=19 if QUICK else 99, skip_first=5
)
plot_encoding_fractions(res)
res["fraction_explained"].to_series().round(2)

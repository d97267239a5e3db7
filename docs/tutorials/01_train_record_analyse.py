# %% [markdown]
# # 1. Train, record and analyse a meta-RL agent
#
# The slow loop: an A2C learner (its TD error plays dopamine's role) trains an LSTM across
# many short bandit episodes. The fast loop: with the weights frozen, the LSTM's activity
# alone learns which arm is better within each new episode (Wang et al. 2016, 2018).
# This tutorial trains such an agent, records its units, and runs the analyses a lab would
# run on neurons: regret against the Bayes-optimal policy, single-unit coding of the
# previous action, reward and value (Tsutsui et al. 2016), and population decoding.
#
# The tests run this notebook with ``NEUROMETA_TUTORIAL_QUICK=1`` (a few training updates);
# unset it to train the full preset (about 6 minutes on 2 cores).

# %%
import os
import tempfile

import matplotlib.pyplot as plt

import neurometa as nm

QUICK = os.environ.get("NEUROMETA_TUTORIAL_QUICK") == "1"
work = tempfile.mkdtemp(prefix="neurometa-tutorial-")

# %% [markdown]
# ## Train
# A training preset is a frozen, validated configuration; `replace_paths` changes nested
# fields by dotted name (a misspelt name is an error that lists the valid ones).
# `workers=1` keeps training in this process (more workers start processes, which from a
# script needs the usual `if __name__ == "__main__":` guard).

# %%
config = nm.get_preset("bandit/independent")
changes = {"workers": 1}
if QUICK:
    changes |= {"optim.num_updates": 20, "eval.episodes": 100}
config = nm.replace_paths(config, changes)
run = nm.train(config, f"{work}/run", seed=0, progress=False)
sorted(p.name for p in run.iterdir())

# %% [markdown]
# `metrics.csv` holds the learning curve; re-running `train` with `resume=True` continues
# an interrupted run from its last checkpoint.

# %%
import pandas as pd

pd.read_csv(run / "metrics.csv")[["update", "episodes", "train_regret"]].tail(3)

# %% [markdown]
# ## Record
# `load_agent` gives the frozen network; `record_agent` plays fresh episodes and returns an
# `xarray.Dataset` with every unit's activity (`h`, `c`), the policy, value, TD error (`rpe`)
# and the task's hidden variables (here the arms' reward probabilities).

# %%
agent = nm.load_agent(run)
episodes = 200 if QUICK else 2000
ds = nm.record_agent(agent, agent.make_task(100), episodes, seed=1, progress=False)
ds

# %% [markdown]
# The same episodes (same task seed) played by the Bayes-optimal policy give the reference.

# %%
task = nm.make_task("bandit/independent", 100)
bayes = nm.make_baseline("bayes_optimal", task)
reference = nm.record_agent(bayes, task, episodes, seed=1, progress=False)
for label, rec in (("meta-RL", ds), ("Bayes-optimal", reference)):
    final = nm.regret_summary(rec).isel(trial=-1)
    print(f"{label}: regret after 100 trials {final['mean']:.2f} ± {final['sem']:.2f}")

# %% [markdown]
# ## Analyse
# Every analysis takes a recording and returns labelled results; every figure draws into
# an `ax` you give it and states its n and error bars.

# %%
curves = {"meta-RL": nm.regret_curve(ds), "Bayes-optimal": nm.regret_curve(reference)}
fractions = nm.coding_fractions(ds, num_shuffles=10)
fig, axes = plt.subplots(1, 2, figsize=(11, 3.8), layout="constrained")
nm.plotting.plot_regret_curves(curves, ax=axes[0])
nm.plotting.plot_coding_fractions(fractions, ax=axes[1], title="LSTM units")
fractions["fraction"].to_series().round(2)

# %% [markdown]
# Population decoding: which arm is better, read out from the units with folds grouped by
# episode (a unit population that tracks the better arm decodes it above chance).

# %%
import numpy as np

ds["better_arm"] = ds["arm_probs"].argmax("arm")
scores = nm.decode(ds, "better_arm", num_folds=5)
score, chance = float(scores["mean_score"]), float(scores["mean_chance"])
print(f"decoding accuracy {score:.2f} (chance {chance:.2f})")
print("per fold:", np.round(scores["score"].values, 2))

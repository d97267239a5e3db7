# %% [markdown]
# # 2. Your own two-step data from a CSV: stay analysis, hybrid fit, RPE regressors
#
# A lab's two-step task (Daw et al. 2011) in a tidy table, one row per trial:
# `subject, trial, choice1, state2, choice2, reward` (choices and states coded 0/1; the
# first-stage choice `i` leads to state `i` by the common transition), optionally
# `session`, and any other per-trial column — here a dopamine signal measured at outcome.
# This tutorial brings such a table in, measures the model-based signature in the stay
# probabilities, fits the hybrid model per subject, and regresses the dopamine signal on
# the model's prediction errors.
#
# So that the answers are known, the "lab" is simulated: six subjects played by the
# library's Daw 2011 hybrid agent with different model-based weights `w`, and a dopamine
# signal that is the agent's outcome prediction error plus noise. With your own data,
# start at "Read the table".

# %%
import os
import tempfile

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

import neurometa as nm

QUICK = os.environ.get("NEUROMETA_TUTORIAL_QUICK") == "1"
work = tempfile.mkdtemp(prefix="neurometa-tutorial-")
num_trials = 150 if QUICK else 300
true_w = {"r1": 0.1, "r2": 0.3, "r3": 0.5, "r4": 0.6, "r5": 0.8, "r6": 0.95}

# %%
rng = np.random.default_rng(0)
rows = []
for k, (subject, w) in enumerate(true_w.items()):
    task = nm.make_task("two_step/daw2011", 1, num_trials=num_trials)
    agent = nm.make_baseline("hybrid", task, w=w)
    ds = nm.record_agent(agent, task, 1, seed=k, progress=False)
    trials = nm.two_step_trials(ds)
    outcome_rpe = ds["rpe"].isel(episode=0, step=slice(1, None, 2)).values
    rows.append(pd.DataFrame({
        "subject": subject, "trial": trials["trial"] + 1,
        "choice1": trials["choice1"], "state2": trials["state2"],
        "choice2": trials["choice2"], "reward": trials["reward"].astype(int),
        "dopamine": outcome_rpe + rng.normal(0, 0.3, len(trials)),
    }))  # fmt: skip
csv = f"{work}/two_step.csv"
pd.concat(rows).to_csv(csv, index=False)
pd.read_csv(csv).head()

# %% [markdown]
# ## Read the table
# `read_two_step_csv` checks every row (a missing column, a value out of range, a duplicate
# trial: all listed at once with their line numbers); an empty behavioural cell marks a
# missed trial. `table_to_recording` lays it out in the recording schema, one episode per
# subject (or subject and session), so every analysis serves it like an agent's recording.
# A DataFrame you already hold goes the same way with `nm.from_dataframe(frame, "two_step")`.

# %%
table = nm.read_two_step_csv(csv)
lab = nm.table_to_recording(table)
nm.validate_recording(lab)
lab

# %% [markdown]
# ## Stay probabilities and the stay regression
# A model-free learner repeats a rewarded first-stage choice whatever the transition; a
# model-based one repeats it after a common transition and switches after a rare one.

# %%
trials = nm.two_step_trials(lab)
stay = nm.stay_probabilities(trials)
fig, ax = plt.subplots(figsize=(4.6, 3.4), layout="constrained")
nm.plotting.plot_stay_probabilities(stay, ax=ax, title="six simulated subjects")
nm.stay_regression(trials).round(3)

# %% [markdown]
# ## The hybrid model, fitted per subject
# Maximum likelihood over both stages' choices with bounded parameters and random restarts
# (`prior="weak"` for MAP, `prior="empirical"` for empirical Bayes across subjects). Compare
# the fitted `w` with the simulated one: a few hundred trials carry little information
# about `w` (at the quick settings, 150 trials, single subjects can be far off; the
# behavioural-models guide measures recovery by number of trials and fitting method).

# %%
fits = nm.fit_model(
    "hybrid", trials, family="two_step", num_restarts=2 if QUICK else 5, seed=0, progress=False
)
fits["true_w"] = fits["subject"].map(true_w)
print(f"correlation of fitted and simulated w: {fits['w'].corr(fits['true_w']):.2f}")
fits[["subject", "true_w", "w", "alpha1", "beta1", "nll"]].round(2)

# %% [markdown]
# ## RPE regressors
# Under each subject's fitted parameters the model gives per-trial prediction errors; the
# decomposition regresses a signal on the model-free RPE and on the model-based minus
# model-free difference (Daw et al. 2011). Our dopamine column is one value per trial, so
# its outcome coefficient is the meaningful one here; at outcome the two systems share their
# second-stage values, the difference regressor is zero, and its coefficient is undefined.

# %%
rpe = nm.rpe_decomposition(lab, signal="dopamine", fits=fits)
nm.plotting.plot_rpe_decomposition(rpe.sel(event=["outcome"]), title="dopamine at outcome")
rpe["coef"].sel(event="outcome").to_series().round(3)

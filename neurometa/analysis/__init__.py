"""Torch-free analyses of recordings (agent or lab): xarray in, xarray / DataFrame out.

Modules (import the one you need; nothing heavy is imported here):

- :mod:`~neurometa.analysis.coding`: single-unit coding regression, all units in one solve,
  fractions of coding units with shuffle chance levels (Tsutsui 2016; Wang 2018).
- :mod:`~neurometa.analysis.two_step`: trial tables from two-step recordings, stay
  probabilities, ``stay ~ reward × transition``, Miller 2017 and Akam 2015 regressions.
- behavioural models (Q-learning family, Daw 2011 hybrid) and their fits live in the
  torch-free :mod:`neurometa.behaviour`.
- :mod:`~neurometa.analysis.rpe`: RPE decomposition into model-free and (MB − MF) parts.
- :mod:`~neurometa.analysis.bandits`: regret curves, P(better arm) by difficulty,
  win-stay/lose-shift, Harlow accuracy by trial.
- :mod:`~neurometa.analysis.population`: decoding with folds grouped by episode; RDMs.
- :mod:`~neurometa.analysis.plotting`: figures (kept apart from computing).
- :mod:`~neurometa.analysis.compare` / :mod:`~neurometa.analysis.compare_rsa`: agent vs
  neurons (coding fractions, stays, representational similarity).
- :mod:`~neurometa.analysis.runners`: each analysis as a function over recording files that
  writes NetCDF + CSV + PNG (:mod:`~neurometa.analysis.report`) and returns a summary; what
  ``neurometa analyze NAME`` and the ``analyses/`` pipelines run.
"""

"""Named task presets: the literature's settings, built with :func:`make`.

A preset id is ``<family>/<setting>`` (e.g. ``bandit/independent``, ``two_step/daw2011``);
``gym:<env-id>`` runs a registered Gymnasium environment through
:class:`neurometa.tasks.gym_adapter.GymTask`. Keyword overrides replace fields of the
preset's frozen config and are validated strictly (a misspelt key is an error naming the
valid ones).

Examples
--------
>>> from neurometa.tasks import make
>>> task = make("bandit/independent", 4, num_trials=10)
>>> obs, info = task.reset(seed=0)
>>> tuple(obs.shape), task.episode_length
((4, 1), 10)
"""

from __future__ import annotations

import difflib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import torch

from neurometa.config import Config
from neurometa.tasks.bandit import BanditConfig, BanditTask
from neurometa.tasks.base import BatchedTask
from neurometa.tasks.contextual_bandit import ContextualBanditConfig, ContextualBanditTask
from neurometa.tasks.foraging import FORAGING_PRESETS, ForagingTask
from neurometa.tasks.gridworld import GridworldConfig, GridworldTask
from neurometa.tasks.harlow import HarlowConfig, HarlowTask
from neurometa.tasks.two_step import TwoStepConfig, TwoStepTask

__all__ = ["GYM_PREFIX", "Preset", "PRESETS", "UnknownTaskError", "list_presets", "make"]

#: Prefix of preset ids that name a Gymnasium environment (``gym:<env-id>``).
GYM_PREFIX = "gym:"


class UnknownTaskError(ValueError):
    """A preset id that is not registered."""


@dataclass(frozen=True)
class Preset:
    """One registered task setting."""

    id: str
    """Registry id, ``<family>/<setting>``."""
    task_class: Callable[..., BatchedTask]
    """Task class, called as ``task_class(config, num_envs, device)``."""
    config: Config
    """The setting's parameters (the literature's defaults)."""
    description: str
    """One line saying what the setting is."""
    paper: str
    """The paper whose parameters the setting follows."""
    paper_url: str
    """Link to that paper."""


def _bandit(setting: str, description: str, **fields: Any) -> Preset:
    meta = BanditTask.metadata
    return Preset(
        f"bandit/{setting}",
        BanditTask,
        BanditConfig(**fields),
        description,
        meta["paper"],
        meta["paper_url"],
    )


def _from_meta(
    preset_id: str,
    cls: Any,
    config: Config,
    description: str,
    paper: tuple[str, str] | None = None,
) -> Preset:
    title, url = paper if paper else (cls.metadata["paper"], cls.metadata["paper_url"])
    return Preset(preset_id, cls, config, description, title, url)


_DAW2011 = ("Daw et al. 2011, Neuron 69:1204", "https://doi.org/10.1016/j.neuron.2011.02.027")
_WANG2018 = (
    "Wang et al. 2018, Nat Neurosci 21:860 (after Miller et al. 2017)",
    "https://doi.org/10.1038/s41593-018-0147-8",
)


def _build_presets() -> dict[str, Preset]:
    presets = [
        _bandit("independent", "2-armed bandit, p1, p2 ~ U(0,1) independently, 100 trials"),
        _bandit("correlated", "2-armed bandit, p1 ~ U(0,1), p2 = 1 - p1, 100 trials",
                distribution="correlated"),
        _bandit("fixed_0.1_0.9", "2-armed bandit, probabilities {0.1, 0.9} in random order",
                distribution="fixed", fixed_probs=(0.1, 0.9)),
        _bandit("fixed_0.25_0.75", "2-armed bandit, probabilities {0.25, 0.75} in random order",
                distribution="fixed", fixed_probs=(0.25, 0.75)),
        _bandit("fixed_0.4_0.6", "2-armed bandit, probabilities {0.4, 0.6} in random order",
                distribution="fixed", fixed_probs=(0.4, 0.6)),
        _bandit("independent_10arm", "10-armed bandit, p_i ~ U(0,1) independently, 100 trials",
                num_arms=10),
        _from_meta("harlow/wang2018", HarlowTask, HarlowConfig(),
                   "Harlow learning-to-learn: two novel feature-vector objects, 6 trials"),
        _from_meta("two_step/daw2011", TwoStepTask, TwoStepConfig.daw2011(),
                   "two-step task, common 0.7, drifting reward probabilities in [0.25, 0.75]",
                   _DAW2011),
        _from_meta("two_step/wang2018", TwoStepTask, TwoStepConfig.wang2018(),
                   "two-step task, common 0.8, rewards 0.9/0.1 reversing w.p. 0.025 per trial",
                   _WANG2018),
        *(_from_meta(f"foraging/{name}", ForagingTask, cfg, desc)
          for name, (cfg, desc) in FORAGING_PRESETS.items()),
        _from_meta("contextual_bandit/ritter2018", ContextualBanditTask, ContextualBanditConfig(),
                   "episodic contextual bandits: barcode contexts recur across episodes"),
        _from_meta("gridworld/5x5", GridworldTask, GridworldConfig(),
                   "5x5 open gridworld, fixed start and goal (episodic control vs A2C)"),
    ]  # fmt: skip
    return {p.id: p for p in presets}


#: Every registered preset by id.
PRESETS: dict[str, Preset] = _build_presets()


def list_presets() -> list[tuple[str, str, str]]:
    """Every registered preset as ``(id, one-line description, paper)``, sorted by id.

    Examples
    --------
    >>> import neurometa as nm
    >>> name, paper, description = nm.list_tasks()[0]
    >>> name
    'bandit/correlated'
    """
    return [(p.id, p.description, p.paper) for p in sorted(PRESETS.values(), key=lambda p: p.id)]


def _unknown(preset_name: str) -> UnknownTaskError:
    close = difflib.get_close_matches(preset_name, PRESETS, n=1, cutoff=0.5)
    hint = f" (did you mean {close[0]!r}?)" if close else ""
    return UnknownTaskError(
        f"unknown task preset {preset_name!r}{hint}; valid presets: {', '.join(sorted(PRESETS))}"
        f", or {GYM_PREFIX}<gymnasium env id>"
    )


def make(
    preset_name: str, num_envs: int, device: str | torch.device = "cpu", **overrides: Any
) -> BatchedTask:
    """Build a batched task from a preset id.

    Parameters
    ----------
    preset_name : str
        A registered id (see :func:`list_presets`) or ``gym:<env-id>``.
    num_envs : int
        Batch size B.
    device : str or torch.device
        Device of the task's tensors.
    **overrides
        Fields of the preset's config to replace (validated strictly); for ``gym:`` ids the
        fields of :class:`neurometa.tasks.gym_adapter.GymConfig` except ``env_id``.

    Returns
    -------
    BatchedTask
        The task, not yet reset.

    Raises
    ------
    UnknownTaskError
        For an id that is not registered (listing the valid ones).
    neurometa.config.ConfigError
        For an unknown override key or a value out of range.

    Examples
    --------
    >>> import neurometa as nm
    >>> task = nm.make_task("two_step/daw2011", 4, num_trials=20)
    >>> obs, info = task.reset(seed=0)
    >>> tuple(obs.shape), task.num_actions, task.episode_length
    ((4, 3), 2, 40)
    """
    if not isinstance(preset_name, str):
        raise UnknownTaskError(f"task preset must be a string, got {preset_name!r}")
    if preset_name.startswith(GYM_PREFIX):
        from neurometa.tasks.gym_adapter import make_gym_task

        return make_gym_task(preset_name[len(GYM_PREFIX) :], num_envs, device, **overrides)
    if preset_name not in PRESETS:
        raise _unknown(preset_name)
    preset = PRESETS[preset_name]
    config = preset.config.replace(**overrides) if overrides else preset.config
    return preset.task_class(config, num_envs, device)


def preset_config(preset_name: str) -> Config:
    """The default config of a registered preset (raises :class:`UnknownTaskError`)."""
    if preset_name not in PRESETS:
        raise _unknown(preset_name)
    return PRESETS[preset_name].config

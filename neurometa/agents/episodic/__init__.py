"""Agents built on the episodic store (:mod:`neurometa.agents.memory`).

- :mod:`~neurometa.agents.episodic.lstm`: episodic meta-RL (Ritter et al. 2018), an LSTM
  whose cell state is reinstated from memory through a learned gate; trained by the A2C
  trainer as the network kind ``episodic_lstm``;
- :mod:`~neurometa.agents.episodic.control`: episodic valuation (Botvinick et al. 2019
  Box 2; MFEC, Blundell et al. 2016; NEC, Pritzel et al. 2017), agents that learn online
  while they act;
- :mod:`~neurometa.agents.episodic.replay`: NEC's replay buffer.
"""

from neurometa.agents.episodic.control import (
    EPISODIC_CONTROL_PRESETS,
    EpisodicControlAgent,
    EpisodicControlConfig,
)
from neurometa.agents.episodic.lstm import EpisodicLSTMAgent, EpisodicLSTMNetwork

__all__ = [
    "EPISODIC_CONTROL_PRESETS",
    "EpisodicControlAgent",
    "EpisodicControlConfig",
    "EpisodicLSTMAgent",
    "EpisodicLSTMNetwork",
]

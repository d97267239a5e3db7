"""neurometa: fast and slow reinforcement learning as biologically mapped agents.

Prefrontal LSTM (inner loop), dopamine-like TD error (outer loop), hippocampal episodic
store; the tasks of the meta-RL literature; recordings as xarray datasets; and the
regression analyses labs use to compare agents with neurons and behaviour.
"""

__version__ = "0.1.0"

__all__ = ["__version__"]

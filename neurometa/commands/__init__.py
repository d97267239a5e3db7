"""Subcommands of the ``neurometa`` CLI, one module each (see :mod:`neurometa.cli`)."""

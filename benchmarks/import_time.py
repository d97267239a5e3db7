"""How long ``import neurometa`` takes, beside references measured in the same run.

The top-level package imports its public names lazily (PEP 562), so importing it should cost
about as much as starting Python; the first use of a name then pays for its own module
(torch for training and recording, xarray/pandas/scipy for the analyses). Each figure is the
median wall time of ``--repeats`` fresh interpreters (``python -c ...``); the references are
an empty interpreter, ``import numpy`` and ``import torch``.

Run: ``flock /work/wt/bench.lock python benchmarks/import_time.py``.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time

CASES = {
    "python (empty)": "pass",
    "import numpy": "import numpy",
    "import torch": "import torch",
    "import neurometa": "import neurometa",
    "neurometa + first analysis name": "import neurometa as nm; nm.coding_fractions",
    "neurometa + first training name": "import neurometa as nm; nm.train",
}


def wall_time(code: str, repeats: int) -> float:
    """Median seconds of ``repeats`` fresh interpreters running ``code``."""
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        subprocess.run([sys.executable, "-c", code], check=True)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=7)
    args = parser.parse_args()
    for label, code in CASES.items():
        print(f"{label:35s} {1000 * wall_time(code, args.repeats):8.0f} ms", flush=True)


if __name__ == "__main__":
    main()

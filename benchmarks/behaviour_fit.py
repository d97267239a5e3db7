"""Two-step hybrid fits: the behaviour engine against the fitter it replaced, side by side.

100 simulated subjects × 200 trials of the Daw et al. (2011) two-step task (parameters
uniform in α1, α2, λ ∈ (0.2, 0.8), β1 ∈ (3, 8), β2 ∈ (2, 6), p ∈ (0, 0.3), w ∈ (0, 1)),
5 restarts. Fits by maximum likelihood and by empirical Bayes with
:func:`neurometa.behaviour.fit` and with the previous fitter
(``neurometa/analysis/hybrid_fit.py`` and ``hybrid_em.py`` as of commit ``128d5c1``, read
from git history into a temporary package: it is not kept in the source tree), in one run.
Prints each fit's time, the ratio, the summed NLL (ML) / summed NLL and iBIC (empirical
Bayes) and the largest per-subject NLL difference. Run it under the bench lock::

    flock /work/wt/bench.lock python benchmarks/behaviour_fit.py [--skip-old-eb]
"""

from __future__ import annotations

import argparse
import importlib
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

from neurometa import behaviour

ROOT = Path(__file__).resolve().parents[1]
#: The commit whose hybrid fitter is the reference.
REFERENCE = "128d5c1"
_FILES = ("hybrid_model", "hybrid_fit", "hybrid_em")


def load_reference(folder: Path):  # noqa: ANN201 - the reference modules
    """Import the previous fitter from git history as the package ``legacy_hybrid``."""
    pkg = folder / "legacy_hybrid"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("")
    for name in _FILES:
        text = subprocess.run(
            ["git", "show", f"{REFERENCE}:neurometa/analysis/{name}.py"],
            cwd=ROOT if (ROOT / ".git").exists() else None,  # else: run from the checkout
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        for other in _FILES:
            text = text.replace(f"neurometa.analysis.{other}", f"legacy_hybrid.{other}")
        (pkg / f"{name}.py").write_text(text)
    sys.path.insert(0, str(folder))
    return importlib.import_module("legacy_hybrid.hybrid_fit")


def simulated_table(num_subjects: int, num_trials: int, seed: int) -> pd.DataFrame:
    """Hybrid learners on the Daw 2011 task (the behaviour package's simulator)."""
    rng = np.random.default_rng(seed)
    lo = np.array([0.2, 0.2, 0.2, 3.0, 2.0, 0.0, 0.0])
    hi = np.array([0.8, 0.8, 0.8, 8.0, 6.0, 0.3, 1.0])
    params = rng.uniform(lo, hi, size=(num_subjects, 7))
    table = behaviour.simulate("hybrid", params, "two_step/daw2011", num_trials, seed=seed)
    table["subject"] = [f"s{int(s):03d}" for s in table["subject"]]
    return table.rename(columns={"session": "episode"})


def _timed(label: str, fn):  # noqa: ANN001, ANN202
    t0 = time.perf_counter()
    out = fn()
    seconds = time.perf_counter() - t0
    print(f"{label:32s} {seconds:8.1f} s", flush=True)
    return out, seconds


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--subjects", type=int, default=100)
    parser.add_argument("--trials", type=int, default=200)
    parser.add_argument("--restarts", type=int, default=5)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--skip-old-eb",
        action="store_true",
        help="do not run the previous empirical-Bayes fitter (slow)",
    )
    parser.add_argument(
        "--skip-ml", action="store_true", help="only the empirical-Bayes comparison"
    )
    args = parser.parse_args(argv)
    table = simulated_table(args.subjects, args.trials, args.seed)
    print(f"hybrid, {args.subjects} subjects x {args.trials} trials, {args.restarts} restarts")
    with tempfile.TemporaryDirectory() as tmp:
        old = load_reference(Path(tmp))
        kw = dict(num_restarts=args.restarts, seed=args.seed)
        if not args.skip_ml:
            new_ml, t_new = _timed(
                "behaviour.fit ML",
                lambda: behaviour.fit("hybrid", table, family="two_step", progress=False, **kw),
            )
            old_ml, t_old = _timed("previous fit_hybrid ML", lambda: old.fit_hybrid(table, **kw))
            diff = new_ml["nll"].to_numpy() - old_ml["nll"].to_numpy()
            print(
                f"ML: {t_old / t_new:.1f}x faster; summed NLL new {new_ml['nll'].sum():.3f} "
                f"previous {old_ml['nll'].sum():.3f}; per subject mean diff {diff.mean():+.4f}, "
                f"max {diff.max():+.4f}",
                flush=True,
            )
        new_eb, t_new_eb = _timed(
            "behaviour.fit empirical Bayes",
            lambda: behaviour.fit(
                "hybrid", table, family="two_step", prior="empirical", progress=False, **kw
            ),
        )
        print(
            f"EB new: summed NLL {new_eb['nll'].sum():.3f}, iBIC {new_eb['ibic'].iloc[0]:.3f},"
            f" {new_eb.attrs['em_iterations']} E-steps",
            flush=True,
        )
        if not args.skip_old_eb:
            old_eb, t_old_eb = _timed(
                "previous empirical Bayes", lambda: old.fit_hybrid(table, prior="empirical", **kw)
            )
            print(
                f"EB: {t_old_eb / t_new_eb:.1f}x faster; summed NLL new "
                f"{new_eb['nll'].sum():.3f} previous {old_eb['nll'].sum():.3f}; iBIC new "
                f"{new_eb['ibic'].iloc[0]:.3f} previous {old_eb['ibic'].iloc[0]:.3f}; "
                f"E-steps previous {old_eb.attrs['em_iterations']}",
                flush=True,
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())

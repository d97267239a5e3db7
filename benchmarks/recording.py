"""Recording benchmark: throughput, file size per million steps, peak memory.

Records ``--episodes`` episodes of the 100-trial two-armed bandit (``bandit/independent``
with the meta-RL inputs) with a 48-unit PFC LSTM agent (``neurometa.learn`` network with
freshly initialised weights: the same computation as a trained agent; ``--agent synthetic``
uses a cheap random-unit agent instead), streaming to a NetCDF (or Zarr) file, and prints:

- recording throughput (steps/s, wall clock, including compression and writing);
- file size per million steps;
- peak resident memory of the recording process (``VmHWM``) and, in a fresh
  process, of a lazy out-of-core read (mean of ``h`` over episodes with Dask chunks).

The target: 100,000 episodes x 100 steps x 48 units under 2 GB::

    python benchmarks/recording.py                 # the full 100,000-episode case
    python benchmarks/recording.py --quick         # 2,000 episodes
"""

from __future__ import annotations

import argparse
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import torch

from neurometa.record import open_recording, record
from neurometa.seeding import RunSeeds
from neurometa.tasks import MetaRLInputs, make


class SyntheticAgent:
    """A cheap agent with ``num_units`` random units, a random policy and a value."""

    name = "synthetic"
    discount = 0.9

    def __init__(self, num_units: int) -> None:
        self.num_units = num_units

    def begin(self, task, generator: torch.Generator) -> None:  # noqa: ANN001, D102
        self.generator, self.num_envs, self.num_actions = (
            generator,
            task.num_envs,
            task.num_actions,
        )

    def act(self, obs: torch.Tensor, info: dict) -> tuple[torch.Tensor, dict]:  # noqa: D102
        shape = (self.num_envs, self.num_units)
        h = torch.rand(shape, generator=self.generator) * 2 - 1
        policy = torch.full((self.num_envs, self.num_actions), 1.0 / self.num_actions)
        action = torch.multinomial(policy, 1, generator=self.generator).squeeze(1)
        return action, {"policy": policy, "value": h[:, 0], "h": h, "c": h * 2}

    def observe(self, action, reward, terminated, info) -> dict:  # noqa: ANN001, D102
        return {}


def make_agent(kind: str, task, num_units: int):  # noqa: ANN001, ANN201
    """The benchmark agent: ``pfc`` (untrained PFC LSTM, sampled actions) or ``synthetic``."""
    if kind == "synthetic":
        return SyntheticAgent(num_units)
    from neurometa.agents.base import FrozenAgent
    from neurometa.learn import NetworkConfig, build_network

    generator = RunSeeds(0).torch("weights")
    network = build_network(NetworkConfig(num_units=num_units), task.obs_dim, task.num_actions,
                            generator)  # fmt: skip
    return FrozenAgent(network, discount=0.9, greedy=False, name=f"pfc{num_units}-untrained")


def peak_rss_mib() -> float:
    """Peak resident set size of this process image in MiB.

    Linux: ``VmHWM`` from ``/proc/self/status`` (``ru_maxrss`` would include the parent's
    peak in a child started by fork + exec); elsewhere ``resource.getrusage``.
    """
    status = Path("/proc/self/status")
    if status.is_file():
        for line in status.read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    scale = 2**20 if sys.platform == "darwin" else 1024  # bytes on macOS, KiB on Linux
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / scale


def read_benchmark(path: Path, chunk: int) -> None:
    """Lazy out-of-core read: mean unit activity over all episodes, Dask chunks."""
    start = time.perf_counter()
    with open_recording(path, chunks={"episode": chunk}) as ds:
        mean_h = ds.h.mean("episode").compute()
        steps = ds.sizes["episode"] * ds.sizes["step"]
    seconds = time.perf_counter() - start
    rate = steps / seconds
    print(f"read: mean of h over {steps:,} steps, shape {tuple(mean_h.shape)}, {seconds:.1f} s "
          f"({rate:,.0f} steps/s), peak RSS {peak_rss_mib():.0f} MiB")  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--episodes", type=int, default=100_000)
    parser.add_argument("--batch-size", type=int, default=1000)
    parser.add_argument("--units", type=int, default=48)
    parser.add_argument("--agent", choices=("pfc", "synthetic"), default="pfc")
    parser.add_argument("--format", choices=("nc", "zarr"), default="nc")
    parser.add_argument("--dir", type=Path, help="folder for the file (default: a temp dir)")
    parser.add_argument("--keep", action="store_true", help="keep the file")
    parser.add_argument("--quick", action="store_true", help="2,000 episodes")
    parser.add_argument("--read-only", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    torch.set_num_threads(1)
    if args.read_only is not None:
        read_benchmark(args.read_only, args.batch_size)
        return
    episodes = 2_000 if args.quick else args.episodes
    folder = Path(args.dir or tempfile.mkdtemp(prefix="neurometa-bench-"))
    out = folder / f"recording_bench.{args.format}"
    task = MetaRLInputs(make("bandit/independent", min(args.batch_size, episodes)))
    agent = make_agent(args.agent, task, args.units)
    print(f"recording {episodes:,} episodes x {task.episode_length} steps x {args.units} units "
          f"({agent.name}, batch {task.num_envs}) to {out}")  # fmt: skip
    baseline = peak_rss_mib()
    start = time.perf_counter()
    ds = record(agent, task, episodes, seed=0, out=out, progress=sys.stderr.isatty())
    seconds = time.perf_counter() - start
    steps = ds.sizes["episode"] * ds.sizes["step"]
    ds.close()
    size = sum(p.stat().st_size for p in out.rglob("*")) if out.is_dir() else out.stat().st_size
    print(f"throughput: {steps:,} steps in {seconds:.1f} s = {steps / seconds:,.0f} steps/s")
    print(f"file: {size / 2**20:,.1f} MiB = {size / 2**20 / (steps / 1e6):,.1f} MiB per million "
          f"steps ({args.format})")  # fmt: skip
    print(f"peak RSS (recording process): {peak_rss_mib():,.0f} MiB "
          f"(after imports and setup: {baseline:,.0f} MiB)")  # fmt: skip
    subprocess.run([sys.executable, __file__, "--read-only", str(out), "--batch-size",
                    str(args.batch_size)], check=True)  # fmt: skip
    if not args.keep:
        import shutil

        shutil.rmtree(out) if out.is_dir() else out.unlink()


if __name__ == "__main__":
    main()

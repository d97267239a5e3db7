"""Synchronous data-parallel A2C: one single-thread process per core, gradients averaged.

``TrainConfig.workers = W`` splits each update's ``batch_size`` episodes over ``W``
processes. Every process holds an identical copy of the network and optimiser; after its
backward pass each process's gradient (the mean over its ``batch_size / W`` episodes) is
summed across processes with one ``all_reduce`` and divided by ``W``, which is the gradient
of the mean loss over the whole batch. Clipping and the optimiser step then run on identical
numbers everywhere, so the copies never drift apart. Process ``r`` draws its episodes and
action samples from its own generators (rank 0 keeps the single-process streams, so
``workers = 1`` is the plain trainer), and rank 0 alone evaluates, logs and writes the run
folder; checkpoints hold every rank's generator states, so ``--resume`` reproduces the run.

Why processes: on a CPU, torch's intra-op threads cannot speed up the small per-step
products of a 48-unit LSTM, while two single-thread processes side by side run at nearly
twice the throughput of one (measured on the 2-core development machine).
"""

from __future__ import annotations

import multiprocessing.util
import os
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.distributed as dist
from torch import nn

from neurometa.atomic import remove_stale_temps

__all__ = ["Sync", "worker_seed", "spawn_workers"]


def worker_seed(seed: int, rank: int) -> int:
    """Seed of rank ``rank``'s generator derived from the single-process ``seed``.

    Rank 0 keeps ``seed`` itself; rank ``r > 0`` gets ``SeedSequence([seed, r])``'s first
    63-bit word.
    """
    if rank == 0:
        return int(seed)
    words = np.random.SeedSequence([int(seed), int(rank)]).generate_state(2, dtype=np.uint32)
    return (int(words[0]) + (int(words[1]) << 32)) >> 1


class Sync:
    """The collective operations of one worker (a no-op object when ``world_size == 1``).

    Parameters
    ----------
    rank, world_size : int
        This process's index and the number of processes.
    init_file : str, optional
        Rendezvous file of ``torch.distributed``'s gloo backend (needed when
        ``world_size > 1``).
    """

    def __init__(self, rank: int = 0, world_size: int = 1, init_file: str | None = None) -> None:
        self.rank, self.world_size = rank, world_size
        self._parent = os.getppid()
        if world_size > 1:
            dist.init_process_group(
                "gloo", init_method=f"file://{init_file}", rank=rank, world_size=world_size
            )

    @property
    def is_main(self) -> bool:
        """Whether this process writes the run folder (rank 0)."""
        return self.rank == 0

    def average_gradients(self, network: nn.Module, stats: torch.Tensor) -> torch.Tensor:
        """Average every parameter's ``.grad`` and the vector ``stats`` over the processes.

        Parameters
        ----------
        network : nn.Module
            Its gradients are replaced by their mean over processes (in place).
        stats : Tensor, shape (S,)
            Per-process scalars (loss, regret, ...) to average alongside.

        Returns
        -------
        Tensor, shape (S,)
            The averaged ``stats``.
        """
        if self.world_size == 1:
            return stats
        params = [p for p in network.parameters() if p.grad is not None]
        flat = torch.cat([p.grad.reshape(-1) for p in params] + [stats.reshape(-1)])
        dist.all_reduce(flat)
        flat /= self.world_size
        offset = 0
        for p in params:
            n = p.grad.numel()
            p.grad.copy_(flat[offset : offset + n].view_as(p.grad))
            offset += n
        return flat[offset:]

    def check_launcher(self) -> None:
        """Stop this worker if the process that launched it has gone (killed, Ctrl-C).

        Without this, a killed ``neurometa train`` would leave its workers training on.
        """
        if self.world_size > 1 and os.getppid() != self._parent:
            raise SystemExit(f"worker {self.rank}: the launching process exited; stopping")

    def gather(self, obj: Any) -> list[Any]:
        """Every process's ``obj`` in rank order (all processes must call it)."""
        if self.world_size == 1:
            return [obj]
        out: list[Any] = [None] * self.world_size
        dist.all_gather_object(out, obj)
        return out

    def close(self) -> None:
        """Leave the process group."""
        if self.world_size > 1 and dist.is_initialized():
            dist.destroy_process_group()


def _entry(rank: int, world_size: int, init_file: str, fn: Callable, args: tuple) -> None:
    torch.set_num_threads(1)
    sync = Sync(rank, world_size, init_file)
    try:
        fn(*args, sync=sync)
    except BaseException:
        sync.close()
        raise
    _exit_together(sync)


def _exit_together(sync: Sync) -> None:
    """End a worker whose work succeeded: wait for every rank, then leave at once.

    Rank 0 finishes later than the others (it evaluates and writes ``done.json``). A rank
    that tore down its gloo process group while a peer still held its end, or let the
    interpreter destroy it at exit, was seen to die with SIGABRT ("terminate called without
    an active exception", a gloo thread destroyed while joinable) in 2 of ~20 CI runs. So
    every rank waits at a barrier, runs Python's multiprocessing finalisers (which release
    its semaphores, e.g. tqdm's lock; skipped, the launcher warns of leaked semaphores), flushes
    its output and exits with ``os._exit(0)``, which skips the C++ destructors (the kernel
    closes the sockets).
    """
    if sync.world_size > 1:
        dist.barrier()
    multiprocessing.util._exit_function()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(0)


def spawn_workers(fn: Callable, world_size: int, args: tuple, scratch: Path) -> None:
    """Run ``fn(*args, sync=Sync(rank, world_size, ...))`` in ``world_size`` processes.

    The processes are started with ``spawn`` (safe with torch) and joined; an exception in
    any of them is raised here. ``scratch`` holds the rendezvous file (removed afterwards).
    """
    if multiprocessing.current_process().daemon:
        raise RuntimeError(
            f"training with workers = {world_size} needs to start {world_size} processes, but "
            "this is a daemonic process (e.g. a Dask worker), which may not have children: "
            "use workers = 1 here (sweeps run one process per run)"
        )
    scratch.mkdir(parents=True, exist_ok=True)
    remove_stale_temps(scratch / "rendezvous", prefix=".rendezvous-")  # of killed launchers
    fd, init_file = tempfile.mkstemp(prefix=f".rendezvous-{os.getpid()}-", dir=scratch)
    os.close(fd)
    os.unlink(init_file)  # gloo's file store creates it
    context = torch.multiprocessing.spawn(
        _entry, args=(world_size, init_file, fn, args), nprocs=world_size, join=False
    )
    try:
        while not context.join():
            pass
    except BaseException:
        # Ctrl-C or SIGINT/SIGTERM to this process alone: stop the workers now (their last
        # checkpoint is complete), instead of letting the interpreter wait for them to
        # train to the end (they are not daemonic).
        for process in context.processes:
            if process.is_alive():
                process.terminate()
        for process in context.processes:
            process.join()
        raise
    finally:
        if os.path.exists(init_file):
            os.unlink(init_file)

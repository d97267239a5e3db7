"""Data-parallel training: averaged gradients, identical copies, bit-identical resume."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch

from neurometa.config import ConfigError
from neurometa.learn import trainer as trainer_mod
from neurometa.learn.checkpoint import load_checkpoint, load_network
from neurometa.learn.config import EvalConfig, NetworkConfig, OptimConfig, TaskConfig, TrainConfig
from neurometa.learn.parallel import spawn_workers, worker_seed
from neurometa.learn.run_folder import prepare_run_dir
from neurometa.learn.trainer import train


def _config(
    workers: int = 2, updates: int = 6, network: NetworkConfig | None = None
) -> TrainConfig:
    return TrainConfig(
        task=TaskConfig(preset="bandit/independent", overrides={"num_trials": 8}),
        network=network or NetworkConfig(num_units=8),
        optim=OptimConfig(num_updates=updates, batch_size=16, learning_rate=1e-2),
        eval=EvalConfig(interval=2, episodes=40),
        checkpoint_interval=2,
        log_interval=2,
        workers=workers,
    )


def _average_worker(out_dir, sync) -> None:  # noqa: ANN001
    net = torch.nn.Linear(2, 1)
    for p in net.parameters():
        p.grad = torch.full_like(p, float(sync.rank + 1))  # rank 0: 1, rank 1: 2
    stats = sync.average_gradients(net, torch.tensor([10.0 * sync.rank]))
    grads = [p.grad.tolist() for p in net.parameters()]
    (out_dir / f"rank{sync.rank}.json").write_text(json.dumps([grads, stats.tolist()]))


def test_gradients_and_stats_are_averaged_over_processes(tmp_path) -> None:
    spawn_workers(_average_worker, 2, (tmp_path,), scratch=tmp_path)
    for rank in (0, 1):
        grads, stats = json.loads((tmp_path / f"rank{rank}.json").read_text())
        assert grads == [[[1.5, 1.5]], [1.5]]
        assert stats == [5.0]


def _interrupted_worker(config, run_dir, seed, resuming, device, progress, sync) -> None:  # noqa: ANN001
    real, calls = trainer_mod.Trainer.step, {"n": 0}

    def stop_before_update_4(trainer):  # noqa: ANN001, ANN202
        calls["n"] += 1
        if calls["n"] == 4:  # the checkpoint holds update 2; update 3 is lost
            raise KeyboardInterrupt
        return real(trainer)

    trainer_mod.Trainer.step = stop_before_update_4
    try:
        trainer_mod._run(config, run_dir, seed, resuming, device, progress, sync)
    except KeyboardInterrupt:
        pass


EPISODIC = NetworkConfig(kind="episodic_lstm", num_units=8, options={"context_dim": 3})


@pytest.mark.parametrize("network", [None, EPISODIC], ids=["pfc", "episodic_lstm"])
def test_two_workers_resume_to_identical_weights(tmp_path, network) -> None:
    # an episodic network resumes exactly only if each rank gets back its own store
    config = _config(network=network)
    full = train(config, tmp_path / "full", seed=5, progress=False)
    cut = tmp_path / "cut"
    prepare_run_dir(config, cut, 5, resume=False)
    spawn_workers(_interrupted_worker, 2, (config, cut, 5, False, torch.device("cpu"), False), cut)
    assert load_checkpoint(cut / "checkpoint.pt")["update"] == 2
    assert not (cut / "done.json").exists()
    train(config, cut, seed=5, resume=True, progress=False)
    want, got = load_checkpoint(full / "checkpoint.pt"), load_checkpoint(cut / "checkpoint.pt")
    assert len(want["ranks"]) == 2
    weights = [k for k in want["network"] if k != "_extra_state"]
    assert all(torch.equal(want["network"][k], got["network"][k]) for k in weights)
    if network is not None:
        rank_stores = [r["store"]["memory"]["keys"] for r in want["ranks"]]
        assert not torch.equal(*rank_stores)  # one store per rank
        for r_want, r_got in zip(want["ranks"], got["ranks"], strict=True):
            assert torch.equal(r_want["store"]["memory"]["keys"], r_got["store"]["memory"]["keys"])
    else:
        assert [r["store"] for r in want["ranks"]] == [None, None]
    for r_want, r_got in zip(want["ranks"], got["ranks"], strict=True):
        assert torch.equal(r_want["task_generator"], r_got["task_generator"])
        assert torch.equal(r_want["sampling_generator"], r_got["sampling_generator"])
    done = json.loads((full / "done.json").read_text())
    assert done["episodes"] == 6 * 16  # both workers' episodes are counted
    if network is not None:
        return
    # rank 1 ran other episodes than a single process would have: the weights differ
    one = load_network(train(_config(1), tmp_path / "one", seed=5, progress=False))[0]
    two = load_network(full)[0]
    w = "core.weight_hh"
    assert not torch.equal(one.state_dict()[w], two.state_dict()[w])


def test_worker_seeds_are_distinct_and_rank0_keeps_the_seed() -> None:
    assert worker_seed(123, 0) == 123
    assert len({worker_seed(123, r) for r in range(4)}) == 4


def test_workers_must_divide_the_batch() -> None:
    with pytest.raises(ConfigError, match="workers = 3 must divide optim.batch_size = 16"):
        _config(3)


def _children(pid: int) -> list[int]:
    out = []
    for status in Path("/proc").glob("[0-9]*/status"):
        try:
            fields = dict(line.split(":\t", 1) for line in status.read_text().splitlines())
        except (OSError, ValueError):
            continue
        if fields.get("PPid", "").strip() == str(pid):
            out.append(int(status.parent.name))
    return out


@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="needs Linux /proc")
def test_workers_stop_when_the_launcher_is_killed(tmp_path) -> None:
    config = _config(updates=100_000)
    config.save(tmp_path / "config.json")
    code = (
        "import sys; from neurometa.learn import TrainConfig, train; "
        "train(TrainConfig.load(sys.argv[1]), sys.argv[2], seed=0, progress=False)"
    )
    run = tmp_path / "run"
    launcher = subprocess.Popen(
        [sys.executable, "-c", code, str(tmp_path / "config.json"), str(run)]
    )
    try:
        deadline = time.monotonic() + 120
        while not (run / "checkpoint.pt").exists():  # both workers are training
            assert time.monotonic() < deadline, "the workers never wrote a checkpoint"
            time.sleep(0.2)
        workers = _children(launcher.pid)
        assert len(workers) >= 2
    finally:
        launcher.send_signal(signal.SIGKILL)
        launcher.wait()
    deadline = time.monotonic() + 60
    while any(Path(f"/proc/{pid}").exists() for pid in workers):
        assert time.monotonic() < deadline, "workers kept running after the launcher died"
        time.sleep(0.2)


def test_a_finished_two_worker_run_exits_cleanly(tmp_path) -> None:
    # the workers leave through parallel._exit_together: a barrier, Python's multiprocessing
    # finalisers, then os._exit(0); skipping the finalisers made the launcher warn of leaked
    # semaphores, a worker dying at teardown made it raise ProcessExitedException
    config = _config(updates=2)
    config.save(tmp_path / "config.json")
    code = (
        "import sys; from neurometa.learn import TrainConfig, train; "
        "train(TrainConfig.load(sys.argv[1]), sys.argv[2], seed=0, progress=False)"
    )
    done = subprocess.run(
        [sys.executable, "-c", code, str(tmp_path / "config.json"), str(tmp_path / "run")],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "run" / "done.json").is_file()
    assert "leaked" not in done.stderr
    assert "Terminating process" not in done.stderr

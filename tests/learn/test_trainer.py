"""The trainer: one update, run folder, bit-identical resume, NaN stop, seeding, load_agent."""

from __future__ import annotations

import csv
import json
import shutil
from pathlib import Path

import pytest
import torch

from neurometa.config import ConfigError
from neurometa.learn import trainer as trainer_mod
from neurometa.learn.checkpoint import load_checkpoint, load_network
from neurometa.learn.config import EvalConfig, NetworkConfig, OptimConfig, TaskConfig, TrainConfig
from neurometa.learn.parallel import Sync
from neurometa.learn.trainer import Trainer, TrainingDivergedError, train
from neurometa.seeding import RunSeeds

#: Run folders written by the previous version (checkpoint format 1), stopped after the
#: checkpoint at update 2 of 4: a bandit run and an episodic-LSTM run with life-times.
FORMAT_1 = Path(__file__).parent / "data" / "format1"

NUM_TRIALS, BATCH = 8, 16


def _config(updates: int = 6, **optim) -> TrainConfig:
    return TrainConfig(
        task=TaskConfig(preset="bandit/independent", overrides={"num_trials": NUM_TRIALS}),
        network=NetworkConfig(num_units=8),
        optim=OptimConfig(
            num_updates=updates,
            batch_size=BATCH,
            learning_rate=1e-2,
            lr_schedule="linear",
            reward_shift=0.5,
            **optim,
        ),
        eval=EvalConfig(interval=2, episodes=40),
        checkpoint_interval=3,
        log_interval=2,
    )


def _train_interrupted(config: TrainConfig, run_dir, seed: int, monkeypatch, at: int = 4) -> None:
    """Train ``config`` and kill it (KeyboardInterrupt) as update number ``at`` starts."""
    real_step, calls = Trainer.step, {"n": 0}

    def interrupt(trainer):
        calls["n"] += 1
        if calls["n"] == at:
            raise KeyboardInterrupt
        return real_step(trainer)

    monkeypatch.setattr(Trainer, "step", interrupt)
    with pytest.raises(KeyboardInterrupt):
        train(config, run_dir, seed=seed, progress=False)
    monkeypatch.setattr(Trainer, "step", real_step)


def test_run_folder_contents(tmp_path):
    run = train(_config(), tmp_path / "run", seed=0, progress=False)
    assert sorted(p.name for p in run.iterdir()) == [
        "best.pt",
        "checkpoint.pt",
        "config.json",
        "done.json",
        "metrics.csv",
    ]
    assert TrainConfig.load(run / "config.json") == _config()
    done = json.loads((run / "done.json").read_text())
    assert done["updates"] == 6
    assert done["env_steps"] == 6 * BATCH * NUM_TRIALS
    assert done["episodes"] == 6 * BATCH
    rows = list(csv.DictReader((run / "metrics.csv").open()))
    assert [int(r["update"]) for r in rows] == [2, 4, 6]
    assert all(r["eval_regret"] != "" for r in rows)  # eval every 2 updates
    # lr decays linearly from 1e-2 to 0: mean over updates 4, 5 (0-based) = 1e-2 · (1 − 4.5/6)
    assert float(rows[2]["lr"]) == pytest.approx(1e-2 * (1 - 4.5 / 6))
    best = load_checkpoint(run / "best.pt")
    assert -best["score"] == pytest.approx(min(float(r["eval_regret"]) for r in rows), rel=1e-5)
    assert done["final_eval"]["regret"] == pytest.approx(float(rows[-1]["eval_regret"]), rel=1e-5)


def test_select_from_keeps_early_evaluations_out_of_best(tmp_path):
    def run_with(select_from: float) -> tuple[dict, list[dict]]:
        evals = EvalConfig(interval=2, episodes=40, greedy=False, select_from=select_from)
        run = train(_config(8).replace(eval=evals), tmp_path / f"{select_from}", seed=1,
                    progress=False)  # fmt: skip
        return load_checkpoint(run / "best.pt"), list(csv.DictReader((run / "metrics.csv").open()))

    best_all, rows = run_with(0.0)
    regret = {int(r["update"]): float(r["eval_regret"]) for r in rows if r["eval_regret"]}
    assert list(regret) == [2, 4, 6, 8]
    assert best_all["update"] == 2  # this seed's best selection regret comes early
    best_late, rows_late = run_with(0.75)
    assert [r["eval_regret"] for r in rows_late] == [r["eval_regret"] for r in rows]  # all logged
    late = {u: r for u, r in regret.items() if u >= 6}
    assert best_late["update"] == min(late, key=late.get)  # chosen among updates 6 and 8
    assert -best_late["score"] == pytest.approx(min(late.values()), rel=1e-5)
    with pytest.raises(ConfigError, match="select_from"):
        EvalConfig(select_from=1.5)


def _weights(run_dir, which: str = "last") -> dict[str, torch.Tensor]:
    return load_network(run_dir, which=which)[0].state_dict()


def test_same_seed_same_weights_and_different_seed_differs(tmp_path):
    a = _weights(train(_config(4), tmp_path / "a", seed=3, progress=False))
    b = _weights(train(_config(4), tmp_path / "b", seed=3, progress=False))
    c = _weights(train(_config(4), tmp_path / "c", seed=4, progress=False))
    assert all(torch.equal(a[k], b[k]) for k in a)
    assert not torch.equal(a["core.weight_hh"], c["core.weight_hh"])


#: A task with a life-time (a context pool drawn once and kept across episodes).
CONTEXTS = TaskConfig(
    preset="contextual_bandit/ritter2018", overrides={"num_trials": 5, "num_contexts": 3}
)


def test_one_update_changes_the_weights_and_counts_the_episodes() -> None:
    trainer = Trainer(_config(), seed=0)
    before = {k: v.clone() for k, v in trainer.network.state_dict().items()}
    stats = trainer.step()
    assert trainer.update == 1
    assert trainer.episodes == BATCH
    assert trainer.env_steps == stats["steps"] == BATCH * NUM_TRIALS
    assert 0.0 <= stats["train_regret"] <= NUM_TRIALS
    assert stats["lr"] == pytest.approx(1e-2)  # linear decay starts at the initial rate
    after = trainer.network.state_dict()
    assert not torch.equal(before["core.weight_hh"], after["core.weight_hh"])
    again = Trainer(_config(), seed=0)
    assert again.step() | {"wall": 0, "cpu": 0} == stats | {"wall": 0, "cpu": 0}


def test_lifetime_reseeds_the_task_every_lifetime_updates() -> None:
    config = _config().replace(task=CONTEXTS.replace(lifetime=2))
    trainer = Trainer(config, seed=7)
    pools, seeds = [], []
    for _ in range(5):
        seeds.append(trainer.lifetime_seed())
        trainer.step()
        pools.append(trainer.task.state_dict()["pool_probs"].clone())
    assert seeds[1] is None
    assert seeds[3] is None
    assert len({seeds[0], seeds[2], seeds[4]}) == 3
    assert torch.equal(pools[0], pools[1])  # one life-time: the same contexts
    assert torch.equal(pools[2], pools[3])
    assert not torch.equal(pools[1], pools[2])  # a new life-time: new contexts
    assert not torch.equal(pools[3], pools[4])
    assert Trainer(config, seed=7).lifetime_seed() == seeds[0]  # a function of the seed
    assert Trainer(config, seed=7, sync=Sync(rank=1)).lifetime_seed() != seeds[0]
    assert Trainer(_config(), seed=7).lifetime_seed() is None  # lifetime 0: one life-time


def test_negative_lifetime_is_refused() -> None:
    with pytest.raises(ConfigError, match="lifetime"):
        TaskConfig(lifetime=-1)


@pytest.mark.parametrize(
    "task",
    [None, CONTEXTS, CONTEXTS.replace(lifetime=3)],
    ids=["bandit", "contextual_bandit", "contextual_bandit_lifetime_3"],
)
def test_interrupted_run_resumes_to_identical_weights(tmp_path, monkeypatch, task):
    config = _config().replace(checkpoint_interval=2)  # metrics windows align with checkpoints
    if task is not None:
        config = config.replace(task=task)
    full = train(config, tmp_path / "full", seed=7, progress=False)

    # the checkpoint holds update 2; update 3 is lost with the kill
    _train_interrupted(config, tmp_path / "cut", 7, monkeypatch)
    assert load_checkpoint(tmp_path / "cut" / "checkpoint.pt")["update"] == 2
    assert not (tmp_path / "cut" / "done.json").exists()
    cut = train(config, tmp_path / "cut", seed=7, resume=True, progress=False)

    want, got = load_checkpoint(full / "checkpoint.pt"), load_checkpoint(cut / "checkpoint.pt")
    assert all(torch.equal(want["network"][k], got["network"][k]) for k in want["network"])
    for s_want, s_got in zip(
        want["optimizer"]["state"].values(), got["optimizer"]["state"].values(), strict=False
    ):
        assert torch.equal(s_want["exp_avg_sq"], s_got["exp_avg_sq"])
    for rank_want, rank_got in zip(want["ranks"], got["ranks"], strict=True):
        assert torch.equal(rank_want["task_generator"], rank_got["task_generator"])
        assert torch.equal(rank_want["sampling_generator"], rank_got["sampling_generator"])
        pool_want, pool_got = rank_want["task_state"], rank_got["task_state"]
        assert pool_want.keys() == pool_got.keys()
        assert all(torch.equal(pool_want[k], pool_got[k]) for k in pool_want)

    def strip(rows):
        return [
            {k: v for k, v in r.items() if "per_" not in k and "seconds" not in k} for r in rows
        ]

    assert strip(want["metrics"]) == strip(got["metrics"])
    assert json.loads((cut / "done.json").read_text())["updates"] == 6


def test_nan_loss_stops_and_keeps_last_good_checkpoint(tmp_path, monkeypatch):
    real_loss, calls = trainer_mod.a2c_loss, {"n": 0}

    def nan_at_update_5(rollout, config, entropy_cost):
        calls["n"] += 1
        loss, parts = real_loss(rollout, config, entropy_cost)
        return (loss * float("nan") if calls["n"] == 5 else loss), parts

    monkeypatch.setattr(trainer_mod, "a2c_loss", nan_at_update_5)
    with pytest.raises(TrainingDivergedError, match=r"loss became nan at update 5.*update 3"):
        train(_config(), tmp_path / "run", seed=0, progress=False)
    ckpt = load_checkpoint(tmp_path / "run" / "checkpoint.pt")
    assert ckpt["update"] == 3
    assert all(torch.isfinite(v).all() for v in ckpt["network"].values())
    assert not (tmp_path / "run" / "done.json").exists()


def test_existing_run_needs_resume_and_matching_config(tmp_path):
    run = train(_config(2), tmp_path / "run", seed=0, progress=False)
    before = (run / "checkpoint.pt").read_bytes()
    # a finished run of the same config and seed (a notebook cell run again): returned as is
    assert train(_config(2), run, seed=0, progress=False) == run
    assert (run / "checkpoint.pt").read_bytes() == before
    (run / "done.json").unlink()  # as if stopped before the end: an unfinished run
    with pytest.raises(FileExistsError, match="resume=True"):
        train(_config(2), run, seed=0, progress=False)
    train(_config(2), run, seed=0, resume=True, progress=False)  # finishes it again
    with pytest.raises(ConfigError, match="optim.learning_rate"):
        train(
            _config(2).replace(optim=_config(2).optim.replace(learning_rate=0.5)),
            run,
            seed=0,
            resume=True,
            progress=False,
        )
    with pytest.raises(ConfigError, match="seed 0"):
        train(_config(2), run, seed=1, resume=True, progress=False)
    before = (run / "checkpoint.pt").read_bytes()
    assert train(_config(2), run, seed=0, resume=True, progress=False) == run  # finished
    assert (run / "checkpoint.pt").read_bytes() == before


def test_cuda_request_without_gpu_is_a_clear_error(tmp_path):
    if torch.cuda.is_available():
        pytest.skip("a GPU is present; the error path is for machines without one")
    with pytest.raises(RuntimeError, match="cuda"):
        train(_config(1), tmp_path / "run", seed=0, device="cuda", progress=False)


def test_load_agent_reproduces_the_final_evaluation(tmp_path):
    from neurometa.learn import load_agent

    run = train(_config(), tmp_path / "run", seed=2, progress=False)
    agent = load_agent(run, which="last")
    assert agent.discount == 1.0
    assert agent.greedy
    episodes = _config().eval.episodes
    task = agent.make_task(episodes)
    obs, info = task.reset(seed=RunSeeds(2).int("eval"))
    agent.begin(task, torch.Generator().manual_seed(0))
    regret = torch.zeros(episodes)
    for _ in range(task.episode_length):
        action, out = agent.act(obs, info)
        obs, _, _, _, info = task.step(action)
        p = info["arm_probs"]
        regret += p.max(1).values - p.gather(1, action[:, None]).squeeze(1)
    done = json.loads((run / "done.json").read_text())
    assert regret.mean().item() == pytest.approx(done["final_eval"]["regret"], rel=1e-5)


def test_resume_after_kill_between_last_checkpoint_and_done(tmp_path):
    run = train(_config(2), tmp_path / "run", seed=0, progress=False)
    done = json.loads((run / "done.json").read_text())
    (run / "done.json").unlink()
    assert train(_config(2), run, seed=0, resume=True, progress=False) == run
    again = json.loads((run / "done.json").read_text())
    assert again["updates"] == 2
    assert again["final_eval"] == done["final_eval"]


@pytest.mark.slow
def test_cli_run_killed_with_sigkill_resumes_to_identical_weights(tmp_path):
    import os
    import signal
    import subprocess
    import sys
    import time

    sets = [
        "optim.batch_size=16",
        "optim.num_updates=200",
        "checkpoint_interval=20",
        "eval.interval=50",
        "eval.episodes=20",
        'task.overrides={"num_trials": 8}',
    ]
    args = [
        sys.executable,
        "-m",
        "neurometa",
        "train",
        "bandit/independent",
        "--seed",
        "5",
        "--no-progress",
        *[x for s in sets for x in ("--set", s)],
    ]
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    subprocess.run([*args, "--out", str(tmp_path / "full")], check=True, env=env)
    proc = subprocess.Popen([*args, "--out", str(tmp_path / "cut")], env=env)
    ckpt = tmp_path / "cut" / "checkpoint.pt"
    while not ckpt.exists() and proc.poll() is None:
        time.sleep(0.05)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert not (tmp_path / "cut" / "done.json").exists(), "the run finished before the kill"
    subprocess.run([*args, "--out", str(tmp_path / "cut"), "--resume"], check=True, env=env)
    want = load_checkpoint(tmp_path / "full" / "checkpoint.pt")["network"]
    got = load_checkpoint(ckpt)["network"]
    assert all(torch.equal(want[k], got[k]) for k in want)


@pytest.mark.parametrize("run", ["bandit", "episodic"])
def test_runs_of_the_earlier_checkpoint_format_resume_to_identical_weights(tmp_path, run):
    old = shutil.copytree(FORMAT_1 / run, tmp_path / "old")
    assert torch.load(old / "checkpoint.pt", weights_only=True)["format"] == 1
    config = TrainConfig.load(old / "config.json")  # it holds the removed options, off
    train(config, old, seed=7, resume=True, progress=False)
    full = train(config, tmp_path / "full", seed=7, progress=False)
    want, got = load_checkpoint(full / "checkpoint.pt"), load_checkpoint(old / "checkpoint.pt")
    assert got["update"] == 4
    for name, value in want["network"].items():
        if name != "_extra_state":
            assert torch.equal(value, got["network"][name]), name
    assert want["ranks"][0]["task_state"].keys() == got["ranks"][0]["task_state"].keys()
    assert torch.equal(
        want["ranks"][0]["sampling_generator"], got["ranks"][0]["sampling_generator"]
    )


def test_the_first_checkpoint_layout_reads_as_the_current_one(tmp_path):
    """Before data-parallel workers, checkpoints held one task/sampling generator by name."""
    payload = torch.load(FORMAT_1 / "bandit" / "checkpoint.pt", weights_only=True)
    task_generator, sampling_generator, _ = payload.pop("generators")[0]
    payload.pop("rank_stores")
    payload.update(task_generator=task_generator, sampling_generator=sampling_generator)
    torch.save(payload, tmp_path / "checkpoint.pt")
    (rank,) = load_checkpoint(tmp_path / "checkpoint.pt")["ranks"]
    assert torch.equal(rank["task_generator"], task_generator)
    assert torch.equal(rank["sampling_generator"], sampling_generator)
    assert rank["task_state"] == {}
    assert rank["store"] is None


def test_a_checkpoint_of_an_unknown_format_is_a_clear_error(tmp_path):
    torch.save({"format": 99}, tmp_path / "checkpoint.pt")
    with pytest.raises(ValueError, match="unsupported checkpoint format 99"):
        load_checkpoint(tmp_path / "checkpoint.pt")


def test_short_training_beats_chance(tmp_path):
    """The trainer learns: win-stay, lose-shift on {0.1, 0.9} bandits within 200 updates.

    Random play, or any fixed arm, loses 0.4 per trial on 10-trial episodes: regret 4.0 per
    episode (a trainer that does not learn stays there; one with the policy gradient's sign
    flipped does worse). The Bayes-optimal player loses about 0.4. 500 test episodes
    (standard error of the regret about 0.1): under 1.5 is far out of chance's reach.
    """
    torch.set_num_threads(1)
    cfg = TrainConfig(
        task=TaskConfig(preset="bandit/fixed_0.1_0.9", overrides={"num_trials": 10}),
        optim=OptimConfig(
            num_updates=150, batch_size=64, learning_rate=3e-3, reward_shift=0.5, entropy_final=0.0
        ),
        eval=EvalConfig(interval=0, episodes=500),
    )
    run = train(cfg, tmp_path / "run", seed=0, progress=False)
    regret = json.loads((run / "done.json").read_text())["final_eval"]["regret"]
    assert regret < 1.5

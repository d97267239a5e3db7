"""Regret by context encounter: episodic meta-RL (epLSTM) vs plain meta-RL (LSTM).

Ritter et al. 2018: on the recurring-context bandit (``contextual_bandit/ritter2018``: 10
contexts per life-time, 10 trials per episode, 2 arms), an agent that reinstates stored cell
states should explore only on the first encounter of a context and exploit on later ones,
while a plain meta-RL agent must re-explore every time.

Both networks are trained by :func:`neurometa.learn.train` (the same A2C outer loop) with the
same settings (presets ``ritter2018/episodic`` and ``ritter2018/plain``); every
``--lifetime`` updates the task is reseeded (a new pool of contexts) and the episodic memory
emptied (``TaskConfig.lifetime``). The last weights are evaluated.
Evaluation runs fresh life-times with greedy actions and prints the mean cumulative
expected regret per episode by encounter number (1 = first time the context is seen), plus
the epLSTM's mean reinstatement gate and its largest retrieval weight.

Usage: ``python benchmarks/episodic_meta_rl.py [--quick] [--updates N] [--seed S]`` (default:
the presets' 16,000 updates, about 6 minutes per seed on one core).
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import torch

from neurometa.agents.base import FrozenAgent
from neurometa.learn import get_preset, load_network, train
from neurometa.learn.rollout import make_task
from neurometa.seeding import RunSeeds


def train_network(kind: str, args: argparse.Namespace):
    """Train (or resume, or reuse) one agent with :func:`neurometa.learn.train`; last weights."""
    config = get_preset(f"ritter2018/{kind}")
    if kind == "episodic" and args.null_similarity is not None:
        options = {**config.network.options, "null_similarity": args.null_similarity}
        if args.null_similarity < 0:  # plain softmax read (no null neighbour)
            options.pop("null_similarity")
        config = config.replace(network=config.network.replace(options=options))
    config = config.replace(
        task=config.task.replace(lifetime=args.lifetime),
        optim=config.optim.replace(num_updates=args.updates, batch_size=args.batch),
    )
    name = f"{kind}_seed{args.seed}_u{args.updates}_b{args.batch}_life{args.lifetime}"
    if kind == "episodic" and args.null_similarity is not None:
        name += f"_null{args.null_similarity:g}"
    start = time.perf_counter()
    run = train(config, Path(args.runs) / name, seed=args.seed, resume=True)
    print(f"  {kind}: run folder {run} ({time.perf_counter() - start:.0f} s this call)")
    net, config, _ = load_network(run, which="last")
    return net, config


def evaluate(net, config, args: argparse.Namespace) -> dict[str, torch.Tensor]:
    task = make_task(config.task, args.eval_batch)
    agent = FrozenAgent(net, discount=config.optim.discount, greedy=True)
    gen = RunSeeds(args.seed).torch("eval")
    out: dict[str, list[torch.Tensor]] = {"encounter": [], "regret": [], "gate": [], "wmax": []}
    for life in range(args.eval_lifetimes):
        if hasattr(net, "reset_memory"):
            net.reset_memory()
        for episode in range(args.lifetime):
            seed = 10_000 + life if episode == 0 else None
            obs, info = task.reset(seed=seed)
            agent.begin(task, gen)
            regret, gates, wmax = torch.zeros(task.num_envs), [], []
            for _ in range(task.episode_length):
                action, act_out = agent.act(obs, info)
                obs, _, _, _, info = task.step(action)
                p = info["arm_probs"]
                regret += p.max(1).values - p.gather(1, action[:, None])[:, 0]
                if "gate" in act_out:
                    gates.append(act_out["gate"].mean(1))
                    wmax.append(act_out["retrieval_weights"].max(1).values)
            out["encounter"].append(info["encounter"].clone())
            out["regret"].append(regret)
            out["gate"].append(
                torch.stack(gates).mean(0) if gates else torch.full_like(regret, float("nan"))
            )
            out["wmax"].append(
                torch.stack(wmax).mean(0) if wmax else torch.full_like(regret, float("nan"))
            )
    return {k: torch.cat(v) for k, v in out.items()}


def summarise(name: str, res: dict[str, torch.Tensor]) -> None:
    enc = res["encounter"]
    for label, sel in [("1", enc == 1), ("2", enc == 2), ("3", enc == 3), (">=4", enc >= 4)]:
        r = res["regret"][sel]
        sem = r.std() / max(r.numel(), 1) ** 0.5
        line = (
            f"  {name:9s} encounter {label:>3s}: regret/episode {r.mean():.3f} ± {sem:.3f} "
            f"(n={r.numel()})"
        )
        if not torch.isnan(res["gate"]).all():
            line += (
                f"  gate {res['gate'][sel].mean():.3f}  max weight {res['wmax'][sel].mean():.3f}"
            )
        print(line)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a minutes-long run (few updates)")
    parser.add_argument(
        "--updates", type=int, default=None, help="A2C updates per agent (default: the preset's)"
    )
    parser.add_argument("--batch", type=int, default=32, help="episodes per update")
    parser.add_argument(
        "--lifetime", type=int, default=20, help="episodes per life-time (training and test)"
    )
    parser.add_argument(
        "--runs",
        default="results/episodic_meta_rl",
        help="folder of the run folders (an interrupted benchmark resumes; a finished run is "
        "reused)",
    )
    parser.add_argument("--eval-batch", type=int, default=64)
    parser.add_argument("--eval-lifetimes", type=int, default=4)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--agents", default="plain,episodic")
    parser.add_argument(
        "--null-similarity",
        type=float,
        default=None,
        help="override the epLSTM read's null neighbour (preset: 0.9; negative: none)",
    )
    args = parser.parse_args()
    if args.quick:
        args.updates, args.eval_lifetimes = 200, 1
    if args.updates is None:  # both presets train for the same number of updates
        args.updates = get_preset("ritter2018/plain").optim.num_updates
    torch.set_num_threads(1)
    print(
        f"contextual_bandit/ritter2018, {args.updates} updates x {args.batch} episodes, "
        f"life-time {args.lifetime} episodes, seed {args.seed}"
    )
    results = {}
    for kind in args.agents.split(","):
        net, config = train_network(kind, args)
        results[kind] = evaluate(net, config, args)
    print("evaluation (greedy, fresh life-times): cumulative expected regret per 10-trial episode")
    for kind, res in results.items():
        summarise(kind, res)


if __name__ == "__main__":
    main()

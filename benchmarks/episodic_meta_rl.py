"""Regret by context encounter: episodic meta-RL (epLSTM) vs plain meta-RL (LSTM).

Ritter et al. 2018: on the recurring-context bandit (``contextual_bandit/ritter2018``: 10
contexts per life-time, 10 trials per episode, 2 arms), an agent that reinstates stored cell
states should explore only on the first encounter of a context and exploit on later ones,
while a plain meta-RL agent must re-explore every time.

Both networks are trained by the same A2C outer loop (``neurometa.learn.a2c``) with the same
settings (preset ``ritter2018/episodic`` and ``ritter2018/plain``); every ``--lifetime``
updates the task is reseeded (a new pool of contexts) and the episodic memory emptied.
Evaluation runs fresh life-times with greedy actions and prints the mean cumulative
expected regret per episode by encounter number (1 = first time the context is seen), plus
the epLSTM's mean reinstatement gate and its largest retrieval weight.

Usage: ``python benchmarks/episodic_meta_rl.py [--quick] [--updates N] [--seed S]``
"""

from __future__ import annotations

import argparse
import time

import torch

from neurometa.agents.pfc import FrozenAgent
from neurometa.learn import get_preset
from neurometa.learn.a2c import a2c_loss, entropy_cost_at
from neurometa.learn.networks import build_network
from neurometa.learn.rollout import make_task, run_episodes
from neurometa.seeding import RunSeeds


def train_network(kind: str, args: argparse.Namespace):
    config = get_preset(f"ritter2018/{kind}")
    if kind == "episodic" and args.null_similarity is not None:
        options = {**config.network.options, "null_similarity": args.null_similarity}
        if args.null_similarity < 0:  # plain softmax read (no null neighbour)
            options.pop("null_similarity")
        config = config.replace(network=config.network.replace(options=options))
    optim = config.optim.replace(num_updates=args.updates, batch_size=args.batch)
    seeds = RunSeeds(args.seed)
    task = make_task(config.task, args.batch)
    net = build_network(config.network, task.obs_dim, task.num_actions, seeds.torch("weights"))
    opt = torch.optim.Adam(net.parameters(), lr=optim.learning_rate, eps=optim.adam_eps)
    sampler, life_seeds = seeds.torch("sampling"), seeds.numpy("task")
    start, recent = time.perf_counter(), []
    for update in range(args.updates):
        seed = int(life_seeds.integers(2**31)) if update % args.lifetime == 0 else None
        rollout = run_episodes(net, task, sampler, seed=seed)
        loss, _ = a2c_loss(rollout, optim, entropy_cost_at(optim, update))
        opt.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(net.parameters(), optim.max_grad_norm)
        opt.step()
        recent.append(float(rollout.regrets.sum(0).mean()))
        if (update + 1) % max(args.updates // 10, 1) == 0:
            window = recent[-max(args.updates // 10, 1) :]
            print(
                f"  {kind} update {update + 1}: train regret/episode "
                f"{sum(window) / len(window):.3f} ({time.perf_counter() - start:.0f} s)"
            )
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
    parser.add_argument("--updates", type=int, default=3000, help="A2C updates per agent")
    parser.add_argument("--batch", type=int, default=32, help="episodes per update")
    parser.add_argument("--lifetime", type=int, default=20, help="episodes per life-time")
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

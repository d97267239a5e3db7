"""Task statistics against their definitions, with fixed seeds and stated tolerances.

Tolerances are several standard errors of the estimate at the stated sample size (the SE is
given beside each check), so a correct task fails with negligible probability while a
wrong parameter (e.g. common 0.7 vs 0.8) fails for sure.
"""

from __future__ import annotations

import math

import pytest
import torch

from neurometa.tasks import make
from neurometa.tasks.two_step import reflect


@pytest.mark.parametrize(
    ("preset", "common"),
    [("two_step/daw2011", 0.7), ("two_step/wang2018", 0.8)],
    ids=["daw", "wang"],
)
def test_common_transition_rate(preset, common, rollout):
    # 100 envs x 100 trials = 10,000 trials; SE = sqrt(.21/1e4) ~ 0.0046, tolerance 0.02
    task = make(preset, 100, num_trials=100)
    ep = rollout(task, seed=7)
    first = ep.infos["stage"][:, 0] == 0
    is_common = ep.infos["common_transition"][first]
    assert abs(is_common.float().mean().item() - common) < 0.02
    # state2 follows choice1 exactly on common transitions
    state2, choice1 = ep.infos["state2"][first], ep.infos["choice1"][first]
    assert torch.equal(choice1, ep.actions[first])
    assert torch.equal(state2 == choice1, is_common)
    # the second-stage observation shows state2
    assert torch.equal(ep.obs[1:][first].argmax(dim=-1), 1 + state2)
    assert torch.equal(ep.reset_info["choice1"], torch.full((100,), -1))


def test_reflect_hand_values():
    # 0.8 reflects at 0.75 -> 0.7; 0.2 at 0.25 -> 0.3; 1.3 -> 0.2 (at 0.75) -> 0.3 (at 0.25)
    x = torch.tensor([0.8, 0.2, 1.3, 0.5, 0.25, 0.75])
    expected = torch.tensor([0.7, 0.3, 0.3, 0.5, 0.25, 0.75])
    assert torch.allclose(reflect(x, 0.25, 0.75), expected, atol=1e-6)


def test_daw_probabilities_stay_in_bounds_and_drift_with_sd():
    task = make("two_step/daw2011", 200)
    task.reset(seed=3)
    probs = task._probs  # [T, B, 2, 2], the trajectory drawn at reset
    assert probs.min() >= 0.25
    assert probs.max() <= 0.75
    # increments from interior points (>= 4 SD from a bound) are the unreflected Gaussian
    # steps; n ~ 160k increments, SE(sd) ~ 0.025 / sqrt(2n) ~ 5e-5, tolerance 5e-4
    start, diff = probs[:-1], probs[1:] - probs[:-1]
    interior = (start > 0.35) & (start < 0.65)
    assert interior.sum() > 50_000
    assert abs(diff[interior].std().item() - 0.025) < 5e-4
    assert abs(diff[interior].mean().item()) < 5e-4
    # the start is uniform on [0.25, 0.75]: mean 0.5, SE = 0.144 / sqrt(800) ~ 0.005
    assert abs(probs[0].mean().item() - 0.5) < 0.02


def test_daw_walk_near_a_bound_matches_a_per_step_reflection():
    """Next-trial probabilities near 0.75 match reflect(p + N(0, 0.025)) drawn afresh."""
    task = make("two_step/daw2011", 400)
    task.reset(seed=4)
    probs = task._probs
    start, nxt = probs[:-1], probs[1:]
    near = start > 0.73
    assert near.sum() > 5000
    gen = torch.Generator().manual_seed(0)
    noise = 0.025 * torch.randn(int(near.sum()), generator=gen)
    reference = reflect(start[near] + noise, 0.25, 0.75)
    # n > 5000 each; SE of each mean ~ 0.02 / sqrt(5000) ~ 3e-4, tolerance 1.5e-3
    assert abs(nxt[near].mean().item() - reference.mean().item()) < 1.5e-3
    assert abs(nxt[near].std().item() - reference.std().item()) < 1.5e-3


def test_daw_rewards_follow_the_chosen_probability(rollout):
    task = make("two_step/daw2011", 200)
    ep = rollout(task, seed=9)
    second = ep.infos["stage"][:, 0] == 1
    probs = ep.infos["reward_probs"][second].reshape(-1, 2, 2)  # [N, 2, 2]
    state2, choice2 = ep.infos["state2"][second].flatten(), ep.actions[second].flatten()
    p = probs[torch.arange(len(probs)), state2, choice2]
    # N = 40,200 rewards; SE of the mean residual ~ sqrt(.23 / N) ~ 0.0024
    assert abs((ep.rewards[second].flatten() - p).mean().item()) < 0.01
    assert (ep.rewards[~second] == 0).all()


def test_wang_reversal_rate_and_reward_probabilities(rollout):
    task = make("two_step/wang2018", 400)
    ep = rollout(task, seed=2)
    second = ep.infos["stage"][:, 0] == 1
    probs = ep.infos["reward_probs"][0::2]  # [T, B, 2], one row per trial
    assert torch.allclose(probs.sum(-1), torch.ones(()))
    assert (((probs - 0.9).abs() < 1e-6) | ((probs - 0.1).abs() < 1e-6)).all()
    # 400 x 99 = 39,600 trial boundaries; SE = sqrt(.025*.975/39600) ~ 0.0008
    reversals = (probs[1:, :, 0] != probs[:-1, :, 0]).float().mean().item()
    assert abs(reversals - 0.025) < 0.004
    good = probs[..., 1] > probs[..., 0]  # state 1 pays 0.9
    state2 = ep.infos["state2"][second]
    rewarded_good = ep.rewards[second][(state2 == 1) == good]
    assert abs(rewarded_good.mean().item() - 0.9) < 0.01  # SE ~ 0.002


@pytest.mark.parametrize(
    "pair", [(0.1, 0.9), (0.25, 0.75), (0.4, 0.6)], ids=["0.1_0.9", "0.25_0.75", "0.4_0.6"]
)
def test_fixed_pairs_are_shuffled_onto_arms(pair):
    task = make(f"bandit/fixed_{pair[0]}_{pair[1]}", 10_000)
    _, info = task.reset(seed=0)
    probs = info["arm_probs"]
    expected = torch.tensor(pair).expand(10_000, 2)
    assert torch.allclose(probs.sort(dim=1).values, expected)
    # which arm gets the high probability: 50 % +- 0.02 (SE 0.005)
    assert abs((probs[:, 1] > probs[:, 0]).float().mean().item() - 0.5) < 0.02
    assert torch.equal(info["best_arm"], probs.argmax(dim=1))


def test_correlated_bandit_probabilities_sum_to_one():
    _, info = make("bandit/correlated", 10_000).reset(seed=1)
    probs = info["arm_probs"]
    assert torch.allclose(probs.sum(dim=1), torch.ones(10_000))
    # p1 ~ U(0,1): mean 1/2 (SE 0.003), variance 1/12 (SE ~ 0.0008)
    assert abs(probs[:, 0].mean().item() - 0.5) < 0.015
    assert abs(probs[:, 0].var().item() - 1 / 12) < 0.004


def test_independent_bandit_probabilities_are_uniform_and_uncorrelated():
    _, info = make("bandit/independent", 10_000).reset(seed=2)
    probs = info["arm_probs"]
    assert abs(probs.mean().item() - 0.5) < 0.01
    corr = torch.corrcoef(probs.T)[0, 1].item()
    assert abs(corr) < 0.04  # SE 0.01


def test_bandit_rewards_are_bernoulli_of_the_chosen_arm(rollout):
    task = make("bandit/independent_10arm", 2000)
    ep = rollout(task, seed=4)
    probs = ep.infos["arm_probs"]  # [T, B, K], constant within the episode
    assert torch.equal(probs[0], probs[-1])
    p = probs.gather(2, ep.actions.unsqueeze(2)).squeeze(2)
    # 200,000 rewards; SE of the mean residual ~ 0.001
    assert abs((ep.rewards - p).mean().item()) < 0.005
    assert set(ep.rewards.unique().tolist()) == {0.0, 1.0}


def test_foraging_baiting_persists_until_collected(rollout):
    task = make("foraging/coupled_baiting", 200)
    ep = rollout(task, seed=5)
    baited, probs = ep.infos["baited"], ep.infos["bait_probs"]  # [T, B, 2]
    chosen = torch.nn.functional.one_hot(ep.actions, 2).bool()
    # reward iff the chosen option was baited
    assert torch.equal(ep.rewards.bool(), (baited & chosen).any(-1))
    # a bait that was not collected is still there on the next trial
    kept = baited[:-1] & ~chosen[:-1]
    assert baited[1:][kept].all()
    # an empty (or just emptied) option is baited next trial with its bait probability
    empty = ~(baited[:-1] & ~chosen[:-1])
    rate = baited[1:][empty].float().mean().item()
    expected = probs[1:][empty].mean().item()
    assert abs(rate - expected) < 0.01  # n ~ 150k, SE ~ 0.001


def test_foraging_blocks_follow_the_schedule(rollout):
    task = make("foraging/coupled_baiting", 100)
    ep = rollout(task, seed=6)
    probs, block = ep.infos["bait_probs"], ep.infos["block"]
    assert torch.allclose(probs.sum(-1), torch.full((), 0.45))
    ratios = (probs.max(-1).values / probs.min(-1).values).unique()
    assert all(
        any(math.isclose(r, q, rel_tol=1e-4) for q in (8, 6, 3, 1)) for r in ratios.tolist()
    )
    for b in range(100):
        starts = torch.nonzero(block[1:, b] != block[:-1, b]).flatten() + 1
        lengths = starts[1:] - starts[:-1]
        assert ((lengths >= 20) & (lengths <= 60)).all()
        assert starts[0] <= 60
        # probabilities change only at block boundaries
        same_block = block[1:, b] == block[:-1, b]
        assert torch.equal(probs[1:, b][same_block], probs[:-1, b][same_block])


def test_foraging_every_block_change_changes_the_probabilities():
    task = make("foraging/coupled_baiting", 2000)
    task.reset(seed=7)
    ratio, rich = task._block_ratios(40)
    even = ratio == 1.0
    assert not (even[:, 1:] & even[:, :-1]).any()  # no 1:1 block after a 1:1 block
    # stationary share p = (1 - p) / 4 = 0.2 (a 1:1 draw is kept only after an uneven block)
    assert abs(even.float().mean().item() - 0.2) < 0.01
    # the rich side alternates across uneven blocks and is a coin flip after an even one
    after_uneven = ~even[:, :-1]
    assert torch.equal(rich[:, 1:][after_uneven], 1 - rich[:, :-1][after_uneven])
    around = even[:, 1:-1] & ~even[:, :-2]  # an even block with an uneven one before it
    same_side = (rich[:, 2:] == rich[:, :-2])[around].float().mean().item()
    assert abs(same_side - 0.5) < 0.05  # n ~ 15,000


def test_foraging_without_baiting_forgets_uncollected_rewards(rollout):
    task = make("foraging/coupled_baiting", 200, baiting=False)
    ep = rollout(task, seed=8)
    baited, probs = ep.infos["baited"], ep.infos["bait_probs"]
    # without baiting each trial's availability is a fresh Bernoulli(bait_prob)
    assert abs(baited.float().mean().item() - probs.mean().item()) < 0.01


def test_contextual_bandit_contexts_recur_with_correct_encounter_counts():
    num_envs, episodes = 64, 40
    task = make("contextual_bandit/ritter2018", num_envs, num_contexts=5, num_trials=3)
    seen = torch.zeros(num_envs, 5, dtype=torch.long)
    barcodes, probs = {}, {}
    for episode in range(episodes):
        obs, info = task.reset(seed=21 if episode == 0 else None)
        ctx = info["context_id"]
        seen[torch.arange(num_envs), ctx] += 1
        assert torch.equal(info["encounter"], seen[torch.arange(num_envs), ctx])
        for b, c in enumerate(ctx.tolist()):
            key = (b, c)
            barcodes.setdefault(key, obs[b].clone())
            probs.setdefault(key, info["arm_probs"][b].clone())
            assert torch.equal(barcodes[key], obs[b])  # the same barcode on every encounter
            assert torch.equal(probs[key], info["arm_probs"][b])  # tied to the same bandit
    # contexts are drawn uniformly: 64 x 40 = 2560 draws, SE per context ~ 0.008
    assert (seen.sum(0).float() / seen.sum() - 0.2).abs().max() < 0.04
    # barcodes of one member's different contexts differ
    for b in range(num_envs):
        codes = [barcodes[k] for k in barcodes if k[0] == b]
        assert len({tuple(c.tolist()) for c in codes}) == len(codes)
    # a seeded reset starts a new life-time: every encounter is the first again
    _, info = task.reset(seed=22)
    assert (info["encounter"] == 1).all()


def test_harlow_reward_always_on_the_same_object(rollout):
    task = make("harlow/wang2018", 500)
    ep = rollout(task, seed=3)
    dim = task.config.feature_dim
    obs = ep.obs[:-1]  # [T, B, 2F], the objects shown for each trial
    side = ep.infos["correct_side"]
    left, right = obs[..., :dim], obs[..., dim:]
    rewarded = torch.where(side.unsqueeze(-1) == 0, left, right)
    other = torch.where(side.unsqueeze(-1) == 0, right, left)
    assert torch.equal(rewarded, rewarded[:1].expand_as(rewarded))  # same object all episode
    assert torch.equal(other, other[:1].expand_as(other))
    assert not torch.equal(rewarded, other)
    assert torch.equal(ep.rewards.bool(), ep.actions == side)
    assert torch.equal(ep.infos["correct"], ep.actions == side)
    # positions are random: 3000 trials, SE ~ 0.009
    assert abs(ep.infos["object_left"].float().mean().item() - 0.5) < 0.04
    assert (ep.obs[-1] == 0).all()

"""Seed splitting: determinism and independence of the named streams."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from neurometa.seeding import STREAMS, RunSeeds, child_seed


def test_same_seed_same_streams():
    a, b = RunSeeds(123), RunSeeds(123)
    for stream in STREAMS:
        assert a.int(stream) == b.int(stream)
        np.testing.assert_array_equal(a.numpy(stream).random(5), b.numpy(stream).random(5))
        assert torch.equal(
            torch.rand(5, generator=a.torch(stream)), torch.rand(5, generator=b.torch(stream))
        )


def test_streams_differ_from_each_other_and_across_seeds():
    seeds = RunSeeds(0)
    ints = {seeds.int(s) for s in STREAMS}
    assert len(ints) == len(STREAMS)
    assert RunSeeds(0).int("task") != RunSeeds(1).int("task")


def test_child_seed_matches_seedsequence_spawn():
    # The split is numpy's SeedSequence.spawn: child i of SeedSequence(seed).
    child = np.random.SeedSequence(42).spawn(len(STREAMS))[STREAMS.index("weights")]
    words = child.generate_state(2, dtype=np.uint32).astype(np.uint64)
    expected = int((int(words[0]) + (int(words[1]) << 32)) >> 1)
    assert child_seed(42, "weights") == expected
    assert 0 <= expected < 2**63


@pytest.mark.parametrize("bad", [-1, 1.5, "3", True], ids=["negative", "float", "str", "bool"])
def test_bad_seed_is_rejected(bad):
    with pytest.raises(ValueError, match="seed must be a non-negative integer"):
        RunSeeds(bad)


def test_unknown_stream_names_the_valid_ones():
    with pytest.raises(KeyError, match="valid streams: task, sampling"):
        RunSeeds(0).int("tsak")

"""The benchmark's corpus and scoring, on a small corpus: planted campaigns are found, nothing else is joined.

Timing belongs to `make bench`; this checks only that the figures it prints mean what they say.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[3] / "bench"))

import grouping_bench  # noqa: E402


def test_pairwise_scores_count_pairs():
    truth = {"a": 0, "b": 0, "c": 0, "d": -1, "e": 1, "f": 1}
    predicted = {"a": "g1", "b": "g1", "c": "g2", "d": "g2", "e": "g3", "f": "g3"}
    scores = grouping_bench.pairwise_scores(predicted, truth)
    # planted pairs: ab ac bc ef (4); predicted pairs: ab cd ef (3), of which ab and ef are planted
    assert scores["recall"] == 2 / 4 and scores["precision"] == 2 / 3


def test_the_corpus_plants_the_requested_share_of_campaign_copies():
    comments, truth = grouping_bench.make_corpus(1000, 0.2, seed=1)
    assert len(comments) == 1000 and len({c[0] for c in comments}) == 1000
    assert sum(1 for campaign in truth.values() if campaign >= 0) == 200


def test_incremental_grouping_finds_the_planted_campaigns_on_a_small_corpus():
    comments, truth = grouping_bench.make_corpus(3000, 0.2, seed=5)
    _, predicted = grouping_bench.incremental_grouping(comments)
    scores = grouping_bench.pairwise_scores(predicted, truth)
    assert scores["recall"] >= 0.95 and scores["precision"] >= 0.95, scores
    _, baseline = grouping_bench.exact_hash_baseline(comments)
    assert grouping_bench.pairwise_scores(baseline, truth)["recall"] < scores["recall"]

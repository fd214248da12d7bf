"""Section 03's findings: every claim on both sides of its rule (on the hand-made records of
test_answers_autoregressive_gpt), the templates free of arithmetic, and a uniform attention row
named as such."""

from __future__ import annotations

import re

import pytest
from genmod.sections.autoregressive_gpt import findings as G
from test_answers_autoregressive_gpt import _hist, _summary, full, outcomes, rec

# Each claim on both sides: (question, claim, a record where it holds, one where it does not).
_H = {
    "overfit": _hist([10.8, 6.5, 6.8], [10.8, 6.0, 5.0]),
    "rose": _hist([10.8, 6.5, 6.8], [10.8, 6.0, 6.2]),
    "flat": _hist([10.8, 6.5, 6.505], [10.8, 6.0, 6.005]),
    "last": _hist([10.8, 7.0, 6.5], [10.8, 6.9, 6.4]),
    "untrained": _hist([10.8, 10.9, 11.0], [10.8, 10.9, 11.0]),
    "single": _hist([10.8], [10.8]),
}
BOTH_SIDES = [
    ("data", "checksum_known", {}, {"data": {"course_checksum_known": False}}),
    ("data", "course_copy", {}, {"data": {"course_copy": False}}),
    ("data", "label_smoothing", {}, {"settings": {"label_smoothing": 0.0}}),
    ("data", "val_unseen", {}, {"data": {"val_unseen_fraction": 0.0}}),
    ("A1", "untrained", {"train": _H["untrained"]}, {}),
    ("A1", "best_last", {"train": _H["last"]}, {}),
    ("A1", "best_after_first", {"train": _H["last"]}, {"train": _H["single"]}),
    ("A1", "val_rose", {}, {"train": _H["flat"]}),
    ("A1", "train_fell", {}, {"train": _H["rose"]}),
    ("A1", "train_rose", {"train": _H["rose"]}, {}),
    ("A1", "gap_grew", {"train": _hist([10.8, 6.5, 6.505], [10.8, 6.0, 5.0])}, {"train": _H["flat"]}),
    ("A1", "ema", {"train": {"config": {"ema_decay": 0.99}}}, {}),
    ("A1", "stopped_early", {"train": {"stopped_early": True}}, {}),
    ("A1", "patience", {"train": {"config": {"patience": 2}}}, {}),
    ("A1", "from_cache", {"train": {"from_cache": True}}, {}),
    ("A1", "whole_passes", {}, {"data": {"train_tokens": 9000}}),
    ("A1", "unseen_measured", {}, {"train": {"val_loss_unseen_tokens": None}}),
    ("A1", "label_smoothing", {"train": {"config": {"label_smoothing": 0.1}}}, {}),
    ("A3", "sums_to_one", {}, {"attention": {"last_block": {"sum": 1.001}}}),
    ("A3", "uniform", {"attention": {"last_summary": _summary(2.0, eff=4.96)}}, {}),
    ("A3", "reached_min_words", {}, {"attention": {"reached_min_words": False}}),
    ("A3", "cropped", {"attention": {"context_start": 3}}, {}),
    ("A3", "sampled_prob", {}, {"attention": {"word11_sample_prob": None}}),
    ("A3", "top_k", {}, {"attention": {"top_k": None}}),
    ("A3", "in_train", {"attention": {"continuation_in_train": True}}, {}),
    ("A3", "in_book", {"attention": {"continuation_in_book": True}}, {}),
    ("A4", "sums_to_one", {}, {"attention": {"first_block": {"sum": 0.99}}}),
    ("A4", "uniform", {"attention": {"first_summary": _summary(1.0, eff=5.0)}}, {}),
    ("A4", "lookback_close", {"attention": {"first_summary": _summary(1.96)}}, {}),
    ("A4", "lookback_shown_equal", {"attention": {"first_summary": _summary(1.951)}},
     {"attention": {"first_summary": _summary(1.94)}}),
    ("A4", "first_more_local", {}, {"attention": {"first_summary": _summary(3.0)}}),
    ("A4", "rows_identical", {"attention": {"total_variation": 0.004}}, {}),
    ("A5", "sentence_end", {}, {"logprob": {"stop": "length bound"}}),
    ("A5", "length_bound", {"logprob": {"stop": "length bound"}}, {}),
    ("A5", "earlier", {"logprob": {"earlier_stops": ["length bound"]}}, {}),
    ("A5", "one_earlier", {"logprob": {"earlier_stops": ["length bound"]}},
     {"logprob": {"earlier_stops": ["length bound"] * 2}}),
    ("A5", "earlier_bound", {"logprob": {"earlier_stops": ["length bound"]}}, {}),
    ("A5", "earlier_eot", {"logprob": {"earlier_stops": ["end-of-text token"]}}, {}),
    ("A5", "cropped", {"logprob": {"cropped": True}}, {}),
    ("A5", "cooled", {}, {"logprob": {"temperature": 1.0}}),
    ("A5", "top_k", {}, {"logprob": {"top_k": None}}),
]  # fmt: skip


@pytest.mark.parametrize("qid,name,holds,fails", BOTH_SIDES, ids=lambda x: str(x)[:20])
def test_every_claim_on_both_sides(qid, name, holds, fails):
    assert outcomes(qid, rec(**holds))[name] is True
    assert outcomes(qid, rec(**fails))[name] is False
    full(qid, rec(**holds)), full(qid, rec(**fails))  # both render; their claims re-derive


def test_both_sides_covers_every_claim():
    for qid in G.FINDINGS:
        named = {name for q, name, *_ in BOTH_SIDES if q == qid}
        assert set(outcomes(qid, rec())) <= named | SIDED.get(qid, set()), qid


#: The claims decided by ``differs`` (more | less | same | untestable): tested per side below.
SIDED: dict[str, set] = {"A5": {"per_token"}}


def test_templates_never_compute():
    """A template only prints figures and branches on claims and verdicts: no arithmetic."""
    for t in G.TEMPLATES.glob("*.j2"):
        for expr in re.findall(r"{[{%]-?(.*?)-?[%}]}", t.read_text(), flags=re.S):
            code = re.sub(r"'[^']*'|\"[^\"]*\"", "", expr)  # string literals aside
            assert not re.search(r"[-+*/%]|\bsum\b|\bmax\b|\bmin\b|\babs\b", code), (t.name, expr)


def test_a_uniform_row_names_no_largest_scores():
    """e^entropy equal to the number of tokens: the row is uniform and no score is largest."""
    eff = {"first_summary": _summary(1.0, eff=5.0), "last_summary": _summary(2.0, eff=4.99)}
    t3, t4 = full("A3", rec(attention=eff)), full("A4", rec(attention=eff))
    assert "largest scores" not in t3 and "largest scores" not in t4
    assert (
        "about evenly over all 5 tokens of its context (e^entropy ≈ 5.0; scores 0.100–0.300)" in t3
    )
    assert (
        "about evenly over all 5 tokens (e^entropy ≈ 5.0, last block: 5.0; scores 0.100–0.500)"
        in t4
    )
    assert "largest scores are on ' cat' (0.300)" in full("A3", rec())

"""Section 03's short answers (rendered from the findings) on the hand-made records of
test_answers_autoregressive_gpt: the verdict on each side of every comparison, the key words
of the one-line answer, its agreement with the full answer, and the figure read from the
record."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from genmod.sections.autoregressive_gpt import answers as A
from genmod.sections.autoregressive_gpt import findings as G
from genmod.sections.findings import render
from genmod.sections.summary import headline, value_at
from test_answers_autoregressive_gpt import _hist, _summary, full, rec

EXERCISE = Path(__file__).resolve().parents[1] / "docs" / "exercise.md"


def _check(qid: str, r: dict, verdict: str, *words: str):
    f = G.FINDINGS[qid](r)  # the short answer rendered from the finding, as the run records it
    answer = render(G.TEMPLATES, f, "short")
    h = headline(r, f.path, f.figure, answer, f.verdict, f.fmt, f.reduce)
    assert h.verdict == verdict
    for w in words:
        assert w in h.answer, (w, h.answer)
    assert "\n" not in h.answer and len(h.answer) <= 260
    assert h.value == value_at(r, h.path, h.reduce)
    return h


def test_headline_ids_are_the_question_ids():
    ids = {"A1", "A2", "A3", "A4", "A5"}
    assert set(A.QUESTIONS) == set(G.FINDINGS) - {"data"} == ids and A.HEADLINES == {}
    assert ids == {q for q in G.FINDINGS if re.fullmatch(r"A\d", q)}


def test_headline_A1_overfitting():
    r = rec(train=_hist([10.8, 6.5, 6.8], [10.8, 6.0, 5.0]))
    h = _check("A1", r, "overfitting", "fell from 10.800 to **6.500**", "at step 25",
               "rose to 6.800 by step 50", "fell from 6.000 to 5.000")  # fmt: skip
    assert h.value == 6.5 and h.path == "train.val_loss"
    assert "overfits" in full("A1", r)


def test_headline_A1_val_rising():
    r = rec(train=_hist([10.8, 6.5, 6.8], [10.8, 6.0, 6.2]))
    h = _check("A1", r, "val rising", "rose to 6.800", "did not fall (6.000 → 6.200)")
    assert "overfitting" not in h.answer and "overfits" not in full("A1", r)


def test_headline_A1_plateau():
    r = rec(train=_hist([10.8, 6.5, 6.505], [10.8, 6.0, 5.0]))
    h = _check("A1", r, "plateau", "stayed within 0.01 of it to step 50")
    assert "rose" not in h.answer and "stayed within 0.01 of its best" in full("A1", r)


def test_headline_A1_still_falling():
    r = rec(train=_hist([10.8, 7.0, 6.5], [10.8, 6.9, 6.4]))
    h = _check("A1", r, "still falling", "**6.500**", "at step 50, the last evaluation")
    assert "no rise" in full("A1", r) and "rose" not in h.answer


def test_headline_A1_untrained():
    r = rec(train=_hist([10.8, 10.9, 11.0], [10.8, 10.9, 11.0]))
    h = _check("A1", r, "untrained", "never fell below", "10.800", "untrained model")
    assert h.value == 10.8 and "untrained model" in full("A1", r)


# ---------------------------------------------------------------------------- A3
def test_headline_A3_not_in_book():
    r = rec()
    h = _check("A3", r, "not in book", "'ran' was drawn with probability 0.188",
               "(model's own 0.0625)", "follows 'dog' 3 times in the training split",
               "does not occur verbatim in the book", "sum to 1.000000.")  # fmt: skip
    assert h.value == 0.0625 and "bound" not in h.answer


def test_headline_A3_verbatim_in_train():
    r = rec(attention={"continuation_in_book": True, "continuation_in_train": True})
    _check("A3", r, "verbatim in train", "occurs verbatim in the training split")
    assert "verbatim in the training split" in full("A3", r)


def test_headline_A3_verbatim_in_book():
    r = rec(attention={"continuation_in_book": True, "continuation_in_train": False})
    _check("A3", r, "verbatim in book", "verbatim in the book, not in the training split")
    # a record without the training-split flag is an error naming it, not a guess
    r["attention"].pop("continuation_in_train")
    with pytest.raises(KeyError, match="continuation_in_train"):
        G.a3(r)


def test_headline_A3_sum_beyond_rounding_and_other_branches():
    r = rec(attention={"last_block": {"sum": 1.001}, "word11_sample_prob": None,
                       "bigram_count_train": 1, "reached_min_words": False, "min_words": 30})  # fmt: skip
    h = _check("A3", r, "not in book", "sum to 1.001000, not 1", "The model gave 'ran' "
               "probability 0.0625", "follows 'dog' 1 time in", "200-token bound came before 30")  # fmt: skip
    assert "drawn with" not in h.answer and "not a probability distribution" in full("A3", r)


# ---------------------------------------------------------------------------- A4
def test_headline_A4_more_local():
    r = rec()
    h = _check("A4", r, "more local", "More local", "looks back 1.0 tokens", "the last 2.0",
               "total variation of 0.20", "sum to 1.000000.")  # fmt: skip
    assert h.value == 0.2 and "more locally" in full("A4", r)


def test_headline_A4_further_back():
    r = rec(attention={"first_summary": _summary(3.0)})
    _check("A4", r, "further back", "Further back", "looks back 3.0 tokens", "the last 2.0")
    assert "further back" in full("A4", r)


@pytest.mark.parametrize("first,last", [(6.506, 6.498), (1.951, 2.049), (2.0, 2.0)])
def test_headline_A4_about_the_same(first, last):
    r = rec(attention={"first_summary": _summary(first), "last_summary": _summary(last)})
    _check("A4", r, "about the same", "About the same")
    assert "about the same distance" in full("A4", r)


def test_headline_A4_just_apart_and_sum_beyond_rounding():
    r = rec(attention={"first_summary": _summary(1.94), "last_summary": _summary(2.06),
                       "first_block": {"sum": 0.99}})  # fmt: skip
    _check("A4", r, "more local", "1.9 tokens", "the last 2.1", "sum to 0.990000, not 1")


# ---------------------------------------------------------------------------- A5
def test_headline_A5_more_likely():
    r = rec(train={"val_loss": 4.0})
    h = _check("A5", r, "more likely", "log p = **-6.500 nats**", "4-token sentence",
               "per token 1.625 nats against a validation loss of 4.000",
               "more likely than held-out text")  # fmt: skip
    assert h.value == -6.5 and h.path == "logprob.total"
    assert "more likely than held-out text" in full("A5", r)


def test_headline_A5_less_likely():
    r = rec(train={"val_loss": 0.3})
    _check("A5", r, "less likely", "less likely than held-out text")
    assert "less likely than held-out text" in full("A5", r)


def test_headline_A5_within_noise():
    r = rec(train={"val_loss": 2.2})
    h = _check("A5", r, "within noise", "within the noise")
    assert "likely" not in h.answer and "within the noise" in full("A5", r)


def test_headline_A5_too_few():
    r = rec(logprob={"tokens": [" Hi"], "token_logprobs": [-2.0], "total": -2.0,
                     "per_token_sd": float("nan"), "sample_logprobs": [-1.0]})  # fmt: skip
    _check("A5", r, "too few", "1-token sentence", "one token is too few to compare")
    assert "one token is too few" in full("A5", r)


def test_headline_A5_fragments():
    r = rec(logprob={"stop": "length bound", "ended": False, "max_tokens": 4})
    h = _check("A5", r, "more likely", "4-token fragment (no sentence end within the 4-token")
    assert "sentence;" not in h.answer
    r = rec(logprob={"stop": "end-of-text token", "ended": False})
    _check("A5", r, "more likely", "fragment (the model drew `<|endoftext|>` first)")

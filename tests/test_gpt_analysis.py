"""Generation, attention rows, painting, inversion and log-probabilities (tiny model)."""

import math
from dataclasses import replace

import pytest
import torch
from genmod.gpt.data import make_splits
from genmod.gpt.generate import (
    attention_row,
    attention_study,
    count_words,
    sample,
    token_char_spans,
    word_spans,
    word_token_indices,
)
from genmod.gpt.inversion import InversionConfig, invert
from genmod.gpt.logprob import (
    ids_logprob,
    sample_sentence,
    sentence_end,
    sentence_logprob,
    sliding_token_logprobs,
    token_logprobs,
)
from genmod.gpt.paint import paint_tokens, score_table
from genmod.gpt.tokenizer import EOT, EOT_ID, decode, encode, token_strings
from genmod.gpt.train import evaluate
from gpt_fixtures import TEST_TEXT, tiny_trained


def test_training_learns_and_keeps_best():
    model, p = tiny_trained()
    h = p["history"]
    assert h["val"][0] > 10.0  # ≈ ln 50257 at step 0
    assert p["val_loss"] == min(h["val"]) < 6.0
    assert p["best_step"] == h["eval_step"][h["val"].index(min(h["val"]))]
    assert len(h["step_loss"]) == p["steps_done"] == 60
    # the saved (best) weights give the recorded validation loss
    s = make_splits(TEST_TEXT)
    assert evaluate(model, s.val, 32) == pytest.approx(p["val_loss"], abs=1e-5)
    from genmod.gpt.train import token_losses

    per = token_losses(model, s.val, 32)
    assert len(per) == len(s.val) - 1
    assert float(per.mean()) == pytest.approx(p["val_loss"], abs=1e-5)


def test_word_and_token_spans():
    text = "Alice didn't see the rabbit-hole, said the Queen."
    assert [text[a:b] for a, b in word_spans(text)] == [
        "Alice", "didn't", "see", "the", "rabbit-hole", "said", "the", "Queen",
    ]  # fmt: skip
    ids = encode(text)
    spans = token_char_spans(ids)
    assert "".join(text[a:b] for a, b in spans) == text
    idx = word_token_indices(ids, 5)
    assert "rabbit" in decode([ids[i] for i in idx]).strip()
    with pytest.raises(ValueError, match="9 words|has 8 words"):
        word_token_indices(ids, 9)


def test_sample_reaches_min_words_and_is_reproducible():
    model, _ = tiny_trained()
    g1 = sample(model, "The little robot", min_words=12, seed=3)
    g2 = sample(model, "The little robot", min_words=12, seed=3)
    assert g1.ids == g2.ids
    assert count_words(g1.text) >= 12
    assert g1.text.startswith("The little robot")


def test_attention_study_rows_sum_to_one():
    model, _ = tiny_trained()
    gen = sample(model, "The robot said good", min_words=12, seed=0)
    st = attention_study(model, gen)
    p = st.predict_index
    assert st.word12_tokens[0] == p and st.word11_tokens[-1] < p
    assert len(st.last_block) == len(st.first_block) == len(st.tokens) == p
    assert abs(sum(st.last_block) - 1) < 1e-5 and abs(sum(st.first_block) - 1) < 1e-5
    assert all(s >= 0 for s in st.last_block)
    # the row is the query row of the full sequence's attention (causality)
    full = attention_row(model, gen.ids, len(gen.ids), -1)
    assert full.shape[0] == len(gen.ids)
    with pytest.raises(ValueError, match="must be generated"):
        long_prompt = "one two three four five six seven eight nine ten eleven twelve"
        attention_study(model, sample(model, long_prompt, min_words=12))


def test_paint_keeps_print_colours():
    html = paint_tokens(["a", " b", "\n"], [0.2, 0.7, 0.1], title="t")
    assert html.count("print-color-adjust:exact") >= 3 + 11
    assert "background-color:rgb(" in html and "↵" in html
    table = score_table(["a", " b"], [0.25, 0.75])
    assert "1.000000" in table and "| 1 | ` b` | 0.7500 |" in table
    with pytest.raises(ValueError):
        paint_tokens(["a"], [0.1, 0.2])


def test_logprob_is_sum_and_matches_training_loss():
    model, _ = tiny_trained()
    s = "The robot bought three red apples."
    r = sentence_logprob(model, s)
    assert r.start == "<|endoftext|>"
    assert len(r.token_logprobs) == len(encode(s))
    assert r.total == pytest.approx(sum(r.token_logprobs), abs=1e-9)
    assert all(lp <= 0 for lp in r.token_logprobs)
    # mean negative log-prob == the cross-entropy the validation loss averages
    ce = evaluate(model, torch.tensor([EOT_ID] + encode(s)), model.config.block_size)
    assert -r.total / len(r.token_logprobs) == pytest.approx(ce, abs=1e-5)
    # longer than block_size: windows, like the validation loss
    long_ids = encode(TEST_TEXT)[:80]
    lps = token_logprobs(model, long_ids)
    ce = evaluate(model, torch.tensor([EOT_ID] + long_ids), model.config.block_size)
    assert -sum(lps) / len(lps) == pytest.approx(ce, abs=1e-5)
    assert "total" in r.table()


def test_sample_sentence_ends_a_sentence():
    model, _ = tiny_trained()
    s = sample_sentence(model, seed=0)
    assert s.text and s.text == decode(s.ids)
    assert math.isfinite(sentence_logprob(model, s.text).total)
    assert s.stop in ("sentence end", "length bound", "end-of-text token")
    if s.ended:
        assert sentence_end(token_strings(s.ids) + [s.next_token], s.min_words) == len(s.ids)
    else:
        assert len(s.ids) == s.max_tokens or s.stop == "end-of-text token"


def test_sample_sentence_draws_again_until_a_sentence_ends():
    """A draw that reaches the bound is dropped and the next one (same generator) is taken;
    the first draw is what ``draws=1`` returns; when no draw ends a sentence the last one is
    returned with its own stop."""
    model, _ = tiny_trained()
    one = sample_sentence(model, seed=0, max_tokens=24, min_words=3)
    many = sample_sentence(model, seed=0, max_tokens=24, min_words=3, draws=6)
    assert one.stop == "length bound" and one.draw == 1 and one.earlier_stops == []
    assert many.ended and many.draw > 1 and many.draws == 6
    assert many.earlier_stops == ["length bound"] * (many.draw - 1)
    assert sentence_end(token_strings(many.ids) + [many.next_token], 3) == len(many.ids)
    assert many.ids != one.ids[: len(many.ids)]  # a later draw, not a prefix of the first
    lp = ids_logprob(model, many.ids)
    assert lp.total == pytest.approx(sum(many.model_logprobs), abs=1e-4)
    ended = sample_sentence(model, seed=1, max_tokens=24, min_words=3, draws=6)
    assert ended.draw == 1 and ended.ended  # a first draw that ends is kept
    none = sample_sentence(model, seed=2, max_tokens=8, min_words=3, draws=3)
    assert none.stop == "length bound" and none.draw == 3 and len(none.earlier_stops) == 2
    with pytest.raises(ValueError, match="draws=0"):
        sample_sentence(model, draws=0)


def test_sampling_then_scoring_gives_the_samplers_logprobs():
    """The drawn ids are scored as they are (the first conditioned on <|endoftext|>), and the
    scores are the log-probabilities the sampler recorded while drawing."""
    model, _ = tiny_trained()
    for seed, max_tokens in ((0, 48), (1, 48), (2, 40)):  # 40 > block_size: cropped contexts
        s = sample_sentence(model, seed=seed, max_tokens=max_tokens)
        lp = ids_logprob(model, s.ids)
        assert lp.ids == s.ids and lp.tokens == token_strings(s.ids) and lp.start == EOT
        assert lp.token_logprobs == pytest.approx(s.model_logprobs, abs=1e-4)
        assert lp.total == pytest.approx(sum(s.model_logprobs), abs=1e-4)
        # log q (sampling distribution: temperature 0.8, top-40) ≥ log p for drawn tokens
        # that are the most likely; every drawn token has a finite log q
        assert all(math.isfinite(q) for q in s.sample_logprobs)
    # a long draw: contexts cropped to block_size, scored with the same crop
    long = sample_sentence(model, seed=5, min_words=200, max_tokens=40)
    assert long.stop == "length bound" and len(long.ids) == 40 and long.cropped
    lp = ids_logprob(model, long.ids)
    assert lp.total == pytest.approx(sum(long.model_logprobs), abs=1e-4)
    # within one window the sliding contexts are the validation windows
    short = long.ids[:20]
    assert sliding_token_logprobs(model, short) == pytest.approx(
        token_logprobs(model, short), abs=1e-9
    )


@pytest.mark.parametrize(
    "tokens,k",
    [
        (["I", " know", ".'", " Then"], 3),
        (["that", "?'", " said", " the"], 2),
        (["(", "no", "!)", " And"], 3),
        ([" know", ".", "'", "\n"], 3),  # the closing quote drawn as a token of its own
        (["It", " is", ".", "<|endoftext|>"], 3),
        (["no", " end", " here", " at", " all"], None),
        (["Mr", ".", "Smith"], None),  # no whitespace after the stop
        (["we", " know", ".'"], None),  # what follows is not drawn yet
        (["`", "Yes", ".',", " said"], None),  # a comma after the quote: not an end
    ],
)
def test_sentence_end_on_token_streams(tokens, k):
    assert sentence_end(tokens) == k


def test_sentence_end_waits_for_min_words():
    tokens = ["Oh", "!'", " said", " Alice", ",", " and", " ran", " off", ".", " The"]
    assert sentence_end(tokens) == 2
    assert sentence_end(tokens, min_words=5) == 9
    assert sentence_end(tokens, min_words=8) is None


def test_sample_records_both_probabilities():
    model, _ = tiny_trained()
    g = sample(model, "The little robot", min_words=12, seed=3, temperature=0.8, top_k=40)
    n = len(g.ids) - g.n_prompt
    assert len(g.sample_probs) == len(g.model_probs) == n and g.reached_min_words
    assert all(0 < p <= 1 for p in g.sample_probs + g.model_probs)
    st = attention_study(model, g)
    k = st.word11_tokens[0] - g.n_prompt
    assert st.word11_prob == pytest.approx(g.model_probs[k], rel=1e-5)
    assert st.word11_sample_prob == g.sample_probs[k]
    assert st.word11_sample_top[0][1] >= st.word11_top[0][1]  # T < 1 sharpens the top
    short = sample(model, "The little robot", min_words=40, seed=3, max_new_tokens=5)
    assert not short.reached_min_words and len(short.ids) - short.n_prompt == 5


@pytest.mark.parametrize("init", ["shifted", "random"])
def test_inversion_reaches_sentence(init):
    model, _ = tiny_trained()
    target = " the robot ate purple squirrel"  # "purple squirrel" never occurs in the text
    r = invert(model, target, InversionConfig(steps=300, lr=0.1, init=init))
    assert r.success and r.decoded == target
    assert r.steps is not None and r.steps <= 300
    assert r.n_correct[r.steps] == len(r.target_ids)
    assert r.losses[-1] < r.losses[0]
    # the minimised loss is its two recorded terms; every final margin is positive
    assert [c + h for c, h in zip(r.ce_losses, r.hinge_losses)] == pytest.approx(r.losses)
    assert len(r.final_margins) == len(r.target_ids) and min(r.final_margins) > 0
    assert len(r.nearest_tokens) == len(r.target_ids)
    assert r.hard_prompt_decoded  # the hard-prompt check ran
    # the model is left trainable
    assert all(p.requires_grad for p in model.parameters())


def test_output_reachable_for_a_token_the_model_predicts():
    """A token that is the argmax for some real input lies in the reachable set."""
    from genmod.gpt.inversion import output_reachable

    model, _ = tiny_trained()
    with torch.no_grad():
        logits, _, _ = model(torch.tensor(encode(TEST_TEXT[:60]))[None])
    tok = int(logits[0, -1].argmax())
    ok, margin = output_reachable(model, tok, steps=200)
    assert ok and margin > 0


def test_early_stopping_after_patience_evaluations():
    from genmod.gpt.train import TrainConfig, train

    cfg = TrainConfig(
        n_layer=1, n_head=1, n_embd=16, block_size=16, batch_size=2, max_iters=50,
        lr=0.0, min_lr=0.0, warmup_iters=1, eval_interval=5, train_eval_tokens=64, patience=2,
    )  # fmt: skip
    p = train(make_splits(TEST_TEXT), cfg, progress=False)
    # with lr = 0 nothing improves on step 0: stop after two more evaluations
    assert p["best_step"] == 0 and p["steps_done"] == 10


def test_ema_weights_are_scored_and_kept():
    """With ema_decay > 0 the evaluations score the moving average of the weights, and the
    kept checkpoint is that average (it reproduces the recorded validation loss)."""
    from genmod.gpt.train import TrainConfig, model_from_payload, train

    cfg = TrainConfig(
        n_layer=1, n_head=1, n_embd=16, block_size=16, batch_size=4, max_iters=30,
        lr=1e-2, warmup_iters=2, eval_interval=10, train_eval_tokens=64,
    )  # fmt: skip
    s = make_splits(TEST_TEXT)
    plain = train(s, cfg, progress=False)
    ema = train(s, replace(cfg, ema_decay=0.9), progress=False)
    # the same training run (identical per-step losses), scored through different weights
    assert ema["history"]["step_loss"] == plain["history"]["step_loss"]
    assert ema["history"]["val"][1:] != plain["history"]["val"][1:]
    model = model_from_payload(ema)
    assert evaluate(model, s.val, 16) == pytest.approx(ema["val_loss"], abs=1e-5)
    # a faster ramp (1 + k)/(ema_ramp + k) averages more steps: other scores, same training
    fast = train(s, replace(cfg, ema_decay=0.9, ema_ramp=2.0), progress=False)
    assert fast["history"]["step_loss"] == plain["history"]["step_loss"]
    assert fast["history"]["val"][1:] != ema["history"]["val"][1:]
    assert "ema_ramp" not in cfg.to_dict() and replace(cfg, ema_ramp=3.0).to_dict()["ema_ramp"] == 3

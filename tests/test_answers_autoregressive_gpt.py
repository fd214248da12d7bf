"""Section 03's answers on small hand-made records: the words chosen on each side of every
comparison, and the numbers that appear."""

from __future__ import annotations

import copy
import math

import pytest
from genmod.sections import findings as F
from genmod.sections.autoregressive_gpt import answers as A
from genmod.sections.autoregressive_gpt import config as C
from genmod.sections.autoregressive_gpt import findings as G


def _merge(base: dict, over: dict) -> dict:
    for k, v in over.items():
        if isinstance(v, dict) and isinstance(base.get(k), dict):
            _merge(base[k], v)
        else:
            base[k] = v
    return base


def _summary(lookback: float, eff: float = 4.0, first: float = 0.2, own: float = 0.3) -> dict:
    return {"sum": 1.0, "entropy": math.log(eff), "effective_tokens": eff,
            "last_token_mass": own, "first_token_mass": first, "mean_lookback": lookback,
            "top": [[4, " cat", 0.3], [0, "The", 0.2], [2, " sat", 0.15]]}  # fmt: skip


BASE = {
    "section": "autoregressive_gpt",
    "runtime": {"device": "cpu"},
    "settings": {"label_smoothing": 0.05},
    "data": {
        "chars": 1000, "sha256": "ab" * 32, "course_copy": True, "course_checksum_known": True,
        "train_tokens": 900, "val_tokens": 100, "vocab_size": 50257, "distinct_tokens": 300,
        "distinct_train_tokens": 257, "split_char": 900, "val_unseen_fraction": 0.05,
    },
    "train": {
        "loss_history": {
            "step": [1, 2, 3, 4], "step_loss": [10.0, 9.0, 8.0, 7.0],
            "step_seconds": [1.0, 2.0, 3.0, 4.0], "eval_step": [0, 2, 4],
            "eval_seconds": [0.0, 2.0, 4.0], "train": [10.8, 6.0, 5.0],
            "val": [10.8, 6.5, 6.8], "lr": [1e-3] * 4,
        },
        "val_loss": 6.5, "best_step": 2, "tokens_per_second": 1000.0, "train_seconds": 4.0,
        "wall_seconds": 6.0, "n_params": 1_000_000, "from_cache": False,
        "config": {
            "n_layer": 2, "n_head": 2, "n_embd": 16, "block_size": 8, "batch_size": 4,
            "dropout": 0.0, "lr": 1e-3, "min_lr": 1e-4, "warmup_iters": 2, "max_iters": 4,
            "beta2": 0.99, "weight_decay": 0.1, "label_smoothing": 0.0, "grad_clip": 1.0,
            "ema_decay": 0.0, "patience": 0,
        },
        "val_loss_seen_tokens": 6.2, "val_loss_unseen_tokens": 11.0, "steps_done": 4,
        "evals_after_best": 1, "stopped_early": False, "loss_tolerance": 0.01,
        "val_window_sums": [160.0, 165.0, 160.0, 158.5], "val_window_tokens": [25, 25, 25, 24],
        "val_loss_se": 0.0583, "tokens_to_best": 64, "evaluations": 3,
    },
    "inversion": {
        "target": "the cat sat", "target_tokens": ["the", " cat", " sat"],
        "target_ids": [1169, 3797, 3332], "decoded": "the cat sat",
        "pred_tokens": ["the", " cat", " sat"], "success": True, "steps": 7, "steps_run": 7,
        "max_steps": 40, "loss_history": [3.0, 2.0, 1.0], "ce_history": [2.0, 1.5, 0.9],
        "hinge_history": [1.0, 0.5, 0.1], "correct_history": [0, 2, 3],
        "decoded_history": [[0, "a a a"], [1, "the a sat"], [2, "the cat sat"]],
        "final_margins": [1.2, 0.8, 1.5], "init": "shifted", "optimizer": "Adam", "lr": 0.1,
        "max_norm": None, "margin": 1.0, "start_token": "<|endoftext|>",
        "nearest_tokens": ["the", " dog", " sat"], "nearest_cosine": [0.9, 0.5, 0.7],
        "hard_prompt_decoded": "a a a", "hard_prompt_success": False,
        "inp_norms": [1.0, 2.0, 3.0], "embedding_norm_median": 0.3,
        "random_init": {"success": True, "steps": 12, "decoded": "the cat sat",
                        "loss_history": [3.0, 1.0], "ce_history": [2.0, 0.9],
                        "hinge_history": [1.0, 0.1], "correct_history": [0, 3], "n_correct": 3,
                        "final_margins": [1.0, 1.0, 1.0]},
        "unreachable_tokens": [], "reachability": [], "reach_steps": 40,
        "word_counts": {"the": 50, "cat": 3, "sat": 2}, "seconds": 1.0,
    },
    "attention": {
        "text": "The cat sat on the mat and then a dog ran far off", "prompt": "The cat sat",
        "n_words": 13, "min_words": 12, "max_new_tokens": 200, "n_generated": 10,
        "reached_min_words": True, "word10": "dog", "word11": "ran", "word12": "far",
        "word11_tokens": [10], "word12_tokens": [11], "predict_index": 11,
        "query_token": " ran", "predicted_token": " far", "predicted_sample_prob": 0.25,
        "predicted_model_prob": 0.125, "context_start": 0, "block_size": 64,
        "last_block": {"tokens": ["The", " cat", " sat", " on", " the"],
                       "scores": [0.2, 0.1, 0.15, 0.25, 0.3], "sum": 1.0},
        "first_block": {"tokens": ["The", " cat", " sat", " on", " the"],
                        "scores": [0.1, 0.1, 0.1, 0.2, 0.5], "sum": 1.0},
        "last_summary": _summary(2.0), "first_summary": _summary(1.0),
        "total_variation": 0.2, "word11_prob": 0.0625, "word11_sample_prob": 0.1875,
        "word11_top": [[" ran", 0.0625], [" sat", 0.03]],
        "word11_sample_top": [[" ran", 0.1875], [" sat", 0.05]],
        "next_token_top": [[" far", 0.125], [" away", 0.1]], "bigram_count": 4,
        "word11_count": 9, "bigram_count_train": 3, "word11_count_train": 7,
        "continuation": "on the mat and then a dog ran far off", "continuation_words": 10,
        "continuation_in_book": False, "continuation_in_train": False, "temperature": 0.8,
        "top_k": 40,
    },
    "logprob": {
        "sentence": " The cat sat.'", "tokens": [" The", " cat", " sat", ".'"],
        "token_ids": [383, 3797, 3332, 2637], "token_logprobs": [-2.0, -3.0, -1.0, -0.5],
        "total": -6.5, "start": "<|endoftext|>", "per_token_mean": -1.625,
        "per_token_sd": 1.03, "sampler_logprobs": [-2.0, -3.0, -1.0, -0.5],
        "sampler_total": -6.5, "max_abs_diff_sampler": 1e-7,
        "sample_logprobs": [-1.0, -2.0, -0.5, -0.2], "sample_total": -3.7,
        "stop": "sentence end", "ended": True, "n_drawn": 5, "next_token": " Then",
        "n_words": 3, "min_words": 3, "max_tokens": 48, "temperature": 0.8, "top_k": 40,
        "cropped": False, "block_size": 64, "draws": 5, "earlier_stops": [],
    },
    "answers": {},
}  # fmt: skip


def rec(**over) -> dict:
    """A copy of BASE with nested overrides: ``rec(train={"val_loss": 1.0})``."""
    return _merge(copy.deepcopy(BASE), over)


def _hist(val, train, steps=None):
    steps = steps or [25 * i for i in range(len(val))]
    return {"loss_history": {**BASE["train"]["loss_history"], "eval_step": steps,
                             "val": val, "train": train},
            "best_step": steps[val.index(min(val))], "val_loss": min(val)}  # fmt: skip


def full(qid: str, r: dict) -> str:
    """``qid``'s full answer for ``r``, rendered from its finding; its claims re-derive."""
    f = G.FINDINGS[qid](r)
    assert F.check_claims({"claims": {qid: [c.to_json() for c in f.claims]}}) == []
    return F.render(G.TEMPLATES, f, "full")


def outcomes(qid: str, r: dict) -> dict:
    return G.FINDINGS[qid](r).outcomes()


def test_answer_ids_are_the_recorded_ones():
    assert set(G.FINDINGS) == {"data", "A1", "A2", "A3", "A4", "A5"} and A.ANSWERS == {}
    for qid in G.FINDINGS:
        assert full(qid, rec())


def test_answer_a1_single_evaluation_is_untrained_and_last():
    t = full("A1", rec(train=_hist([10.8], [10.8])))
    assert "the checkpoint kept is the untrained model" in t
    assert "last evaluation, step 0, so this run shows no rise" in t and "before it" not in t


# ------------------------------------------------------------------------------ data
def test_answer_data_course_copy():
    t = full("data", rec())
    assert "the course copy" in t and "1,000 characters" in t
    assert "50,000 ids (99.5%) never occur in the training split" in t and "5.0%" in t


def test_answer_data_no_unseen_validation_tokens():
    t = full("data", rec(data={"val_unseen_fraction": 0.0}))
    assert "None of the validation tokens is such an id" in t and "A1 gives" not in t
    assert "A1 gives the validation loss on them separately" in full("data", rec())


def test_answer_data_unseen_rows_gradient_follows_label_smoothing():
    t = full("data", rec())
    assert "normalisation and the label smoothing (ε = 0.05)" in t
    t = full("data", rec(settings={"label_smoothing": 0.0}))
    assert "only through the normalisation of the output softmax" in t and "smoothing" not in t


def test_answer_data_other_copy_and_unknown():
    assert "not the course copy" in full("data", rec(data={"course_copy": False}))
    t = full("data", rec(data={"course_copy": False, "course_checksum_known": False}))
    assert "no course checksum" in t and "not the course copy" not in t


# ---------------------------------------------------------------------------- A1
def test_answer_a1_overfits_on_a_clear_rise_with_training_falling():
    t = full("A1", rec(train=_hist([10.8, 6.5, 6.8], [10.8, 6.0, 5.0])))
    assert "rose to 6.800 (+0.300" in t and "kept falling, from 6.000 to 5.000" in t
    assert "overfits" in t and "gap validation − training 0.50 nats at the kept step, 1.80" in t


def test_answer_a1_rise_without_training_falling_is_not_overfitting():
    t = full("A1", rec(train=_hist([10.8, 6.5, 6.8], [10.8, 6.0, 6.2])))
    assert "rose to 6.800" in t and "rose from 6.000 to 6.200" in t and "overfits" not in t


def test_answer_a1_flat_validation_with_growing_gap():
    t = full("A1", rec(train=_hist([10.8, 6.5, 6.505], [10.8, 6.0, 5.0])))
    assert "stayed within 0.01 of its best" in t and "overfits" not in t
    assert "kept falling" in t and "the gap grew by 1.00" in t


def test_answer_a1_flat_validation_flat_or_rising_training():
    t = full("A1", rec(train=_hist([10.8, 6.5, 6.505], [10.8, 6.0, 6.005])))
    assert "stayed within 0.01 of 6.000" in t and "gap grew" not in t
    t = full("A1", rec(train=_hist([10.8, 6.5, 6.505], [10.8, 6.0, 6.3])))
    assert "rose from 6.000 to 6.300" in t and "gap grew" not in t


def test_answer_a1_best_at_the_last_evaluation():
    t = full("A1", rec(train=_hist([10.8, 7.0, 6.5], [10.8, 6.9, 6.4])))
    assert "last evaluation, step 50 (0.500 below the evaluation before it, at step 25)" in t
    assert "no rise" in t and "overfits" not in t and "flatten" not in t


def test_answer_a1_never_below_initialisation():
    t = full("A1", rec(train=_hist([10.8, 10.9, 11.0], [10.8, 10.9, 11.0])))
    assert "never fell below its value at initialisation, 10.800" in t
    assert "untrained model" in t and "fell from" not in t


def test_answer_a1_settings_branches():
    t = full("A1", rec())
    assert "moving average" not in t and "Early stopping" not in t and "cache" not in t
    assert "fell from 10.800" in t and "**6.500** at step 2" in t and "perplexity 665" in t
    assert (
        "warms up linearly to 0.001 over 2 steps" in t
        and "on cpu" in t
        and "(contributing 0.55 nats" in t
    )
    t = full("A1", rec(train={"config": {"ema_decay": 0.995, "patience": 3, "label_smoothing": 0.05,
                                   "warmup_iters": 1},
                        "stopped_early": True, "steps_done": 3, "evals_after_best": 3,
                        "from_cache": True}))  # fmt: skip
    assert "d = min(0.995, (1 + k)/(10 + k)) (0.182 at the kept step)" in t  # step 2: k = 1
    assert "over 1 step, then decays along a cosine to 0.0001 at step 4" in t
    assert "Early stopping ended the run at step 3 of 4, 3 evaluations after" in t
    assert "loaded from the cache" in t and "−ln(ε/V) = 13.8" in t
    t = full("A1", rec(train={"config": {"patience": 1}, "stopped_early": True, "steps_done": 3,
                        "evals_after_best": 1}))  # fmt: skip
    assert "at step 3 of 4, 1 evaluation after the best one" in t
    t = full("A1", rec(train={"config": {"patience": 3}}))
    assert "did not trigger: the run used all 4 steps" in t


def test_answer_a1_standard_error_tokens_and_evaluations():
    t = full("A1", rec())
    assert "Over the 4 validation windows of up to 8 tokens the kept checkpoint's loss is" in t
    assert "6.500 ± 0.058 nats/token (± one standard error over the windows" in t
    assert "reached after 64 training tokens (step 2 × batch 4 × block 8)" in t
    assert "evaluated the validation loss 3 times." in t and "single window" not in t
    one = {"val_loss_se": float("nan"), "val_window_sums": [643.5], "val_window_tokens": [99],
           "evaluations": 1}  # fmt: skip
    t = full("A1", rec(train=one))
    assert "fills a single window of up to 8 tokens, too few to give its loss a standard" in t
    assert "±" not in t and "evaluated the validation loss 1 time." in t


def test_answer_a1_no_unseen_tokens_and_short_runs():
    t = full("A1", rec(train={"val_loss_unseen_tokens": None}))
    assert "Split by target" not in t
    assert "(0.014 of a pass over" in full("A1", rec(data={"train_tokens": 9000}))  # 4·4·8 tokens
    assert "1.1 passes" in full("A1", rec(data={"train_tokens": 120}))


# ---------------------------------------------------------------------------- A3
def test_answer_a3_probabilities_are_labelled():
    t = full("A3", rec())
    assert (
        "sampling distribution (temperature 0.8, top-k 40) gave its first token probability 0.188"
        in t
    )
    assert "and the model's own distribution (temperature 1, no top-k) gave it 0.0625" in t
    assert "' far' was drawn from (probability 0.25 under that sampling distribution, 0.125" in t
    assert (
        "training split 'ran' occurs as a whole word (any case) 7 times" in t
        and "3 of them right after 'dog'" in t
    )
    assert "whole book 9 times and 4 times" in t and "does not occur verbatim" in t
    assert "cropped" not in t and "bound" not in t and "first token of its context ('The')" in t


def test_answer_a3_sum_within_and_beyond_rounding():
    assert "up to float32 rounding" in full("A3", rec())
    t = full("A3", rec(attention={"last_block": {"sum": 1.001}}))
    assert "|sum − 1| = 1.0e-03" in t and "not a probability distribution" in t


def test_answer_a3_verbatim_continuation():
    t = full("A3", rec(attention={"continuation_in_book": True, "continuation_in_train": True}))
    assert "(10 words) occurs verbatim in the training split" in t
    t = full("A3", rec(attention={"continuation_in_book": True, "continuation_in_train": False}))
    assert "verbatim in the book, but not in the training split" in t


def test_answer_a3_cropped_context_and_bound():
    t = full("A3", rec(attention={"context_start": 3, "block_size": 8, "predict_index": 11,
                            "reached_min_words": False, "max_new_tokens": 200,
                            "min_words": 30}))  # fmt: skip
    assert "cropped to the model's 8-token window: the row covers positions 3–10" in t
    assert "The 200-token bound came before 30 words were complete" in t


def test_answer_a3_without_sampler_probability():
    t = full("A3", rec(attention={"word11_sample_prob": None}))
    assert (
        "gave its first token probability 0.0625" in t
        and "sampling distribution (temperature" not in t
    )


def test_generated_text_and_attention_table():
    t = A.generated_text(rec())
    assert t.endswith("> **The cat sat** on the mat and then a dog ran far off")
    t = A.attention_table(rec(), "first_block")
    assert "| 4 | ` the` | 0.5000 |" in t and "**sum (all 5 tokens)**" in t


# ---------------------------------------------------------------------------- A4
def test_answer_a4_first_block_more_local():
    t = full("A4", rec())
    assert "looks more locally than the last (mean look-back 1.0 against 2.0" in t
    assert "division of labour" in t and "total-variation distance of 0.20" in t
    assert "identical to two decimals" not in t


def test_answer_a4_first_block_further_back():
    t = full("A4", rec(attention={"first_summary": _summary(3.0)}))
    assert "further back on average than the last (mean look-back 3.0 against 2.0" in t
    assert "division of labour" not in t


@pytest.mark.parametrize("first,last", [(6.506, 6.498), (1.951, 2.049), (2.0, 2.0)])
def test_answer_a4_equal_lookbacks(first, last):
    t = full(
        "A4", rec(attention={"first_summary": _summary(first), "last_summary": _summary(last)})
    )
    assert "about the same distance" in t
    assert "further back" not in t and "more locally" not in t and "division of labour" not in t


def test_answer_a4_just_apart_lookbacks_and_identical_rows():
    t = full("A4", rec(attention={"first_summary": _summary(1.94), "last_summary": _summary(2.06),
                            "total_variation": 0.004}))  # fmt: skip
    assert "more locally" in t and "1.9 against 2.1" in t
    assert "distance of 0.00" in t and "identical to two decimals" in t
    t = full("A4", rec(attention={"first_block": {"sum": 0.99}}))
    assert "not a probability distribution" in t


# ---------------------------------------------------------------------------- A5
def test_answer_a5_sentence_end_and_both_probabilities():
    t = full("A5", rec())
    assert (
        "(4 tokens drawn at temperature 0.8, top-k 40, the first conditioned on `<|endoftext|>`"
        in t
    )
    assert "first sentence end after at least 3 words: \".'\" followed by ' Then'" in t
    assert "**log p = -6.500 nats** under the model (temperature 1, no top-k)" in t
    assert "recorded while drawing, sum to -6.500" in t and "log q = -3.700" in t
    assert "fragment" not in t and "window" not in t
    assert "least likely token is ' cat' (-3.00), the most likely \".'\" (-0.500)" in t


def test_answer_a5_length_bound_and_end_of_text():
    t = full("A5", rec(logprob={"stop": "length bound", "ended": False, "next_token": None,
                          "max_tokens": 4, "cropped": True, "block_size": 2}))  # fmt: skip
    assert "within the 4-token bound, so this is a 4-token fragment, not a sentence" in t
    assert t.startswith("Sampled text: ") and full("A5", rec()).startswith("Sampled sentence: ")
    assert "sentence end after" not in t and "beyond the 2-token window" in t
    t = full("A5", rec(logprob={"stop": "end-of-text token", "ended": False}))
    assert "drew `<|endoftext|>` before a sentence end" in t


def test_answer_a5_draws_dropped_or_none_ended():
    assert "It is draw" not in full("A5", rec()) and "dropped" not in full(
        "A5", rec()
    )  # the first draw
    t = full("A5", rec(logprob={"draws": 5, "earlier_stops": ["length bound"],
                          "max_tokens": 4}))  # fmt: skip
    assert (
        "It is draw 2 of at most 5: 1 earlier draw ended no sentence (1 reached the 4-token "
        "bound) and was dropped, so the sentence is a sample of the sampling distribution "
        "conditioned on a sentence ending within the bound" in t
    )
    t = full("A5", rec(logprob={"draws": 5, "max_tokens": 4, "earlier_stops": [
        "length bound", "end-of-text token", "length bound"]}))  # fmt: skip
    assert "3 earlier draws ended no sentence (2 reached the 4-token bound, 1 drew " in t
    assert "and were dropped" in t
    t = full("A5", rec(logprob={"stop": "length bound", "ended": False, "next_token": None,
                          "max_tokens": 4, "draws": 3,
                          "earlier_stops": ["length bound"] * 2}))  # fmt: skip
    assert "None of the 3 draws ended a sentence (the 2 earlier ones: 2 reached the 4-token" in t
    assert "conditioned on a sentence" not in t and "this is the last" in t


def test_answer_a5_quotes_the_books_backquote_as_itself():
    """The book opens its quotes with a backtick; quoted in prose it must not start a code
    span (nor ``*`` emphasis) in the rendered answer."""
    import mistune

    sent = "`I've a *little* thing,' said Alice."
    html = mistune.create_markdown()(full("A5", rec(logprob={"sentence": sent})))
    assert "<em>" not in html and "<code>&lt;|endoftext|&gt;</code>" in html
    assert "&quot;`I've a *little* thing,' said Alice.&quot;" in html


def test_answer_a5_more_likely_less_likely_within_noise():
    # per-token mean −log p 1.625 ± 1.03/2 (one standard error 0.515)
    t = full("A5", rec(train={"val_loss": 4.0}))
    assert "more likely than held-out text" in t and "shifts probability" in t
    t = full("A5", rec(train={"val_loss": 0.3}))
    assert "less likely than held-out text" in t
    t = full("A5", rec(train={"val_loss": 2.2}))
    assert "within the noise (at most two standard errors of the mean, ±0.52 each)" in t
    assert "more likely" not in t and "less likely" not in t
    t = full("A5", rec(train={"val_loss": 4.0}, logprob={"temperature": 1.0, "top_k": None}))
    assert "more likely" in t and "shifts probability" not in t and "no top-k" in t


def test_answer_a5_single_token():
    t = full("A5", rec(logprob={"tokens": [" Hi"], "token_logprobs": [-2.0], "total": -2.0,
                          "per_token_sd": float("nan"), "sample_logprobs": [-1.0]}))  # fmt: skip
    assert "one token is too few to compare" in t and "likely than held-out" not in t


def test_a5_table_shows_the_drawn_tokens():
    t = A.a5_table(rec())
    assert "| 0 | `<\\|endoftext\\|>` | (start, not scored)" in t
    assert "| 1 | ` The` | -2.0000 | 0.135 | -1.0000 | -2.0000 |" in t
    assert "| 4 | `.'` | -0.5000 |" in t and "**-6.5000**" in t and "-3.7000" in t


# ------------------------------------------------------------------------- config
def test_generation_bound_grows_with_min_words():
    p = {"profile": "smoke", "min_words": 12}
    assert C.generation_max_tokens(p) == 200
    assert C.generation_max_tokens({**p, "min_words": 100}) == 400


# ----------------------------------------------------------- workflow → record → answers
def test_workflow_records_render_every_answer():
    """The workflow's records (tiny model, the test text) are plain JSON and every answer
    renders from the record read back; A5 scores exactly the drawn ids."""
    import json

    from genmod.gpt.data import make_splits
    from genmod.gpt.train import TrainConfig
    from genmod.io import to_jsonable
    from genmod.sections.autoregressive_gpt import workflow as W
    from gpt_fixtures import TEST_TEXT, tiny_trained

    model, payload = tiny_trained()
    book = W.Book({}, TEST_TEXT, make_splits(TEST_TEXT))
    trained = W.Trained({}, model, payload, False, TrainConfig(**payload["config"]))
    params = {"profile": "smoke", "seed": 0, "prompt": "The robot said good", "min_words": 12,
              "inversion_sentence": " the robot ate"}  # fmt: skip
    st = C.settings("smoke")
    r = {"runtime": {"device": "cpu"}, "settings": st.to_json(), "data": W.data_record(book),
         "train": W.train_record(trained, book)}  # fmt: skip
    for step in (W.inversion(params, st, trained, book), W.attention(params, st, trained, book),
                 W.logprob(params, st, trained)):  # fmt: skip
        r.update(step.records)
    r = json.loads(json.dumps(to_jsonable(r)))
    for qid in G.FINDINGS:
        assert full(qid, r), qid
    assert A.a2_history_table(r) and A.a2_nearest_table(r)
    lp = r["logprob"]
    assert lp["sentence"] == "".join(lp["tokens"])  # the drawn tokens, not re-tokenised text
    assert lp["total"] == pytest.approx(sum(lp["sampler_logprobs"]), abs=1e-4)
    a = r["attention"]
    assert 0 < a["word11_prob"] <= 1 and 0 < a["word11_sample_prob"] <= 1
    assert abs(a["last_block"]["sum"] - 1) < 1e-5
    inv = r["inversion"]
    assert len(inv["ce_history"]) == len(inv["loss_history"]) == len(inv["hinge_history"])
    assert inv["word_counts"]["robot"] > 0

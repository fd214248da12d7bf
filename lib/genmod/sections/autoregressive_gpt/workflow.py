"""Section 03's computations, in the notebook's order.

Each step is a function of explicit inputs (the parameters ``p``, the settings ``st``, the
device and the outcomes of earlier steps) returning a :class:`~genmod.sections.common.Step`:
its results.json records (plain numbers, lists, strings) and the objects later steps use (the
book, the trained model). Random draws come from the run's named streams (:data:`STREAMS`).
The answers are rendered from the records alone (:mod:`.answers`), so every value a sentence
uses is stored here; the figures (:mod:`.figures`) draw from the records too.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch

from genmod.gpt.corpus import course_checksum, load_text
from genmod.gpt.data import Splits, make_splits, unseen_fraction
from genmod.gpt.generate import (
    attention_study,
    count_words,
    sample,
    whole_word_count,
    word_evidence,
    word_spans,
)
from genmod.gpt.inversion import invert, output_reachable
from genmod.gpt.logprob import ids_logprob, sample_sentence
from genmod.gpt.model import GPT
from genmod.gpt.plots import attention_summary, total_variation
from genmod.gpt.tokenizer import EOT, VOCAB_SIZE, decode, encode, token_strings
from genmod.gpt.train import TrainConfig, model_from_payload, token_losses, train_or_load
from genmod.gpt.windows import ratio_se, window_sums
from genmod.runtime import Streams
from genmod.sections.autoregressive_gpt import config
from genmod.sections.common import Step

#: A clear rise (or fall) of a loss between two evaluations, in nats (the losses are exact
#: averages over fixed token sets, so this is a resolution, not a noise level).
LOSS_TOL = 0.01

#: The section's random streams: name → offset from the run's seed (A3's continuation, A5's
#: sentence).
STREAMS = {"generation": 0, "sentence": 1}


# ------------------------------------------------------------------------------ data
@dataclass
class Book(Step):
    text: str
    splits: Splits

    @property
    def train_text(self) -> str:
        return self.text[: self.splits.split_char]


def load_book(p: dict) -> Book:
    """The book at ``alice_path``, split 90 / 10 % by characters."""
    text = load_text(p["alice_path"])
    book = Book({}, text=text, splits=make_splits(text, 0.1))
    book.records["data"] = data_record(book)
    return book


def data_record(book: Book) -> dict:
    s = book.splits
    known = course_checksum()
    return {
        "chars": len(book.text),
        "sha256": s.sha256,
        "course_copy": s.sha256 == known,
        "course_checksum_known": known is not None,
        "train_tokens": len(s.train),
        "val_tokens": len(s.val),
        "vocab_size": VOCAB_SIZE,
        "distinct_tokens": len(set(encode(book.text))),
        "distinct_train_tokens": len(set(s.train.tolist())),
        "split_char": s.split_char,
        "val_unseen_fraction": unseen_fraction(s),
    }


# ----------------------------------------------------------------------------- train
@dataclass
class Trained(Step):
    model: GPT
    payload: dict
    from_cache: bool
    config: TrainConfig


def train(p: dict, book: Book, device: torch.device) -> Trained:
    """Train the profile's GPT on the training split (or load it from the cache)."""
    tcfg = config.train_config(p)
    payload, from_cache = train_or_load(
        book.text, tcfg, device, cache_dir=p["cache_dir"], retrain=p["retrain"]
    )
    trained = Trained({}, model_from_payload(payload, device), payload, from_cache, tcfg)
    trained.records["train"] = train_record(trained, book)
    return trained


def train_record(trained: Trained, book: Book) -> dict:
    """A1's record: the loss history, the kept checkpoint (and the tokens trained on to reach
    it: kept step × batch × block), the number of evaluations, timings, the validation loss
    split by targets seen / never seen in the training split, and per validation window the
    kept model's summed −log p (:mod:`genmod.gpt.windows`: the loss's standard error over
    windows, and paired comparisons of two runs)."""
    p, h, tcfg = trained.payload, trained.payload["history"], trained.config
    per_token = token_losses(trained.model, book.splits.val, tcfg.block_size)
    seen_ids = set(book.splits.train.tolist())
    unseen = torch.tensor([t not in seen_ids for t in book.splits.val[1:].tolist()])
    i_best = h["eval_step"].index(p["best_step"])
    sums, counts = window_sums(per_token.tolist(), tcfg.block_size)
    return {
        "loss_history": {
            "step": h["step"],
            "step_loss": h["step_loss"],
            "step_seconds": h["step_time"],
            "eval_step": h["eval_step"],
            "eval_seconds": h["eval_time"],
            "train": h["train"],
            "val": h["val"],
            "lr": h["lr"],
        },
        "val_loss": p["val_loss"],
        "best_step": p["best_step"],
        "tokens_per_second": p["tokens_per_second"],
        "train_seconds": p["train_seconds"],
        "wall_seconds": p["wall_seconds"],
        "n_params": p["n_params"],
        "from_cache": trained.from_cache,
        "config": p["config"],
        "val_loss_seen_tokens": float(per_token[~unseen].mean()),
        "val_loss_unseen_tokens": float(per_token[unseen].mean()) if unseen.any() else None,
        "steps_done": p["steps_done"],
        "evals_after_best": len(h["eval_step"]) - 1 - i_best,
        "stopped_early": p["steps_done"] < tcfg.max_iters,
        "loss_tolerance": LOSS_TOL,
        # the kept model's −log p summed per validation window (and the window's targets):
        # its standard error over windows, and a paired comparison with another run
        "val_window_sums": sums,
        "val_window_tokens": counts,
        "val_loss_se": ratio_se(sums, counts),
        "tokens_to_best": p["best_step"] * tcfg.batch_size * tcfg.block_size,
        "evaluations": len(h["eval_step"]),
    }


# ------------------------------------------------------------------------- inversion
def _run_record(r) -> dict:
    return {
        "success": r.success,
        "steps": r.steps,
        "decoded": r.decoded,
        "loss_history": r.losses,
        "ce_history": r.ce_losses,
        "hinge_history": r.hinge_losses,
        "correct_history": r.n_correct,
        "n_correct": r.n_correct[-1],
        "final_margins": r.final_margins,
    }


def inversion(p: dict, st, trained: Trained, book: Book) -> Step:
    """A2: invert the frozen model for ``inversion_sentence`` from the shifted embeddings and
    from a random start; where the first run fails, search the final LayerNorm's output set
    for each wrong target token (:func:`genmod.gpt.inversion.output_reachable`)."""
    model, sentence = trained.model, p["inversion_sentence"]
    icfg = config.inversion_config(p)
    inv = invert(model, sentence, icfg)
    inv_random = invert(model, sentence, config.inversion_config(p, init="random"))
    reach_steps = st.reach_steps
    reach, unreached = [], []
    if not inv.success:
        wrong = sorted({t for t, p in zip(inv.target_ids, inv.pred_ids) if t != p})
        for t in wrong:
            ok, margin = output_reachable(model, t, steps=reach_steps)
            tok = token_strings([t])[0]
            positions = [
                i for i, (a, b) in enumerate(zip(inv.target_ids, inv.pred_ids)) if a == t != b
            ]
            reach.append({"token": tok, "token_id": t, "positions": positions, "found": ok,
                          "best_margin": margin})  # fmt: skip
            if not ok:
                unreached.append((tok, margin))
    words = sorted({sentence[a:b].lower() for a, b in word_spans(sentence)})
    record = {
        "target": sentence,
        "target_tokens": token_strings(inv.target_ids),
        "target_ids": inv.target_ids,
        "decoded": inv.decoded,
        "pred_tokens": token_strings(inv.pred_ids),
        "success": inv.success,
        "steps": inv.steps,
        "steps_run": inv.steps_run,
        "max_steps": icfg.steps,
        "loss_history": inv.losses,
        "ce_history": inv.ce_losses,
        "hinge_history": inv.hinge_losses,
        "correct_history": inv.n_correct,
        "decoded_history": inv.decoded_history,
        "final_margins": inv.final_margins,
        "init": icfg.init,
        "optimizer": "Adam",
        "lr": icfg.lr,
        "max_norm": icfg.max_norm,
        "margin": icfg.margin,
        "start_token": EOT,
        "nearest_tokens": inv.nearest_tokens,
        "nearest_cosine": inv.nearest_cosine,
        "hard_prompt_decoded": inv.hard_prompt_decoded,
        "hard_prompt_success": inv.hard_prompt_success,
        "inp_norms": inv.inp_norms,
        "embedding_norm_median": inv.embedding_norm_median,
        "random_init": _run_record(inv_random),
        "unreachable_tokens": unreached,
        "reachability": reach,
        "reach_steps": reach_steps,
        "word_counts": {w: whole_word_count(book.text, w) for w in words},
        "seconds": inv.seconds,
    }
    return Step({"inversion": record})


# ------------------------------------------------------------------------- attention
def _book_evidence(book: Book, text: str, continuation: str) -> dict:
    """How often the 11th word of ``text`` occurs in the book and its training split (and
    right after the 10th), and whether the generated continuation occurs there verbatim."""
    ev = word_evidence(book.text, text, 11)
    ev_train = word_evidence(book.train_text, text, 11)
    return {
        "word10": ev["prev"],
        "bigram_count": ev["bigram"],
        "word11_count": ev["count"],
        "bigram_count_train": ev_train["bigram"],
        "word11_count_train": ev_train["count"],
        "continuation": continuation,
        "continuation_words": count_words(continuation),
        "continuation_in_book": bool(continuation) and continuation in book.text,
        "continuation_in_train": bool(continuation) and continuation in book.train_text,
    }


def attention(p: dict, st, trained: Trained, book: Book) -> Step:
    """A3/A4: continue ``prompt`` by sampling until ``min_words`` words, then the last and
    first blocks' head-averaged attention rows at the prediction of the 12th word."""
    model = trained.model
    bound = config.generation_max_tokens(p)
    seed = Streams(p["seed"], STREAMS).seed_of("generation")
    gen = sample(model, p["prompt"], p["min_words"], st.temperature, st.top_k,
                 max_new_tokens=bound, seed=seed)  # fmt: skip
    study = attention_study(model, gen)
    last = attention_summary(study.last_block, study.tokens)
    first = attention_summary(study.first_block, study.tokens)
    continuation = decode(gen.ids[gen.n_prompt :]).strip()
    k12 = study.predict_index - gen.n_prompt
    record = {
        "text": study.text,
        "prompt": p["prompt"],
        "n_words": count_words(study.text),
        "min_words": p["min_words"],
        "max_new_tokens": bound,
        "n_generated": len(gen.ids) - gen.n_prompt,
        "reached_min_words": gen.reached_min_words,
        "word11": study.word11,
        "word12": study.word12,
        "word11_tokens": study.word11_tokens,
        "word12_tokens": study.word12_tokens,
        "predict_index": study.predict_index,
        "query_token": token_strings([study.ids[study.predict_index - 1]])[0],
        "predicted_token": token_strings([study.ids[study.predict_index]])[0],
        "predicted_sample_prob": gen.sample_probs[k12],
        "predicted_model_prob": gen.model_probs[k12],
        "context_start": study.context_start,
        "block_size": model.config.block_size,
        "last_block": {
            "tokens": study.tokens,
            "scores": study.last_block,
            "sum": sum(study.last_block),
        },
        "first_block": {
            "tokens": study.tokens,
            "scores": study.first_block,
            "sum": sum(study.first_block),
        },
        "last_summary": last,
        "first_summary": first,
        "total_variation": total_variation(study.last_block, study.first_block),
        "word11_prob": study.word11_prob,
        "word11_sample_prob": study.word11_sample_prob,
        "word11_top": study.word11_top,
        "word11_sample_top": study.word11_sample_top,
        "next_token_top": study.next_token_top,
        **_book_evidence(book, study.text, continuation),
        "temperature": st.temperature,
        "top_k": st.top_k,
    }
    return Step({"attention": record})


# -------------------------------------------------------------------------- logprob
def logprob(p: dict, st, trained: Trained) -> Step:
    """A5: sample a sentence from ``<|endoftext|>`` and score exactly the drawn ids."""
    model = trained.model
    seed = Streams(p["seed"], STREAMS).seed_of("sentence")
    sent = sample_sentence(model, seed=seed, temperature=st.temperature, top_k=st.top_k,
                           min_words=st.sentence_min_words, max_tokens=st.sentence_max_tokens,
                           draws=st.sentence_draws)  # fmt: skip
    lp = ids_logprob(model, sent.ids)
    n = len(lp.ids)
    nll = [-x for x in lp.token_logprobs]
    mean = sum(nll) / n
    sd = math.sqrt(sum((x - mean) ** 2 for x in nll) / (n - 1)) if n > 1 else float("nan")
    record = {
        "sentence": lp.sentence,
        "tokens": lp.tokens,
        "token_ids": lp.ids,
        "token_logprobs": lp.token_logprobs,
        "total": lp.total,
        "start": lp.start,
        "per_token_mean": lp.total / n,
        "per_token_sd": sd,
        "sampler_logprobs": sent.model_logprobs,
        "sampler_total": sum(sent.model_logprobs),
        "max_abs_diff_sampler": max(
            abs(a - b) for a, b in zip(lp.token_logprobs, sent.model_logprobs)
        ),
        "sample_logprobs": sent.sample_logprobs,
        "sample_total": sum(sent.sample_logprobs),
        "stop": sent.stop,
        "ended": sent.ended,
        "n_drawn": sent.n_drawn,
        "next_token": sent.next_token,
        "n_words": count_words(sent.text),
        "min_words": sent.min_words,
        "max_tokens": sent.max_tokens,
        "temperature": sent.temperature,
        "top_k": sent.top_k,
        "cropped": sent.cropped,
        "draws": sent.draws,
        "earlier_stops": sent.earlier_stops,
        "block_size": model.config.block_size,
    }
    return Step({"logprob": record})

"""Section 03's computations, as the notebook calls them.

Each step returns a plain record (numbers, lists, strings) for ``run.record``; the objects a
later step needs (the book, the trained model) are returned alongside. The answers are
rendered from the records alone (:mod:`.answers`), so every value a sentence uses is stored
here. Figures and painted tokens are drawn from the records too.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import matplotlib.pyplot as plt
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
from genmod.gpt.paint import paint_tokens
from genmod.gpt.plots import attention_summary, plot_inversion, plot_losses, total_variation
from genmod.gpt.tokenizer import EOT, VOCAB_SIZE, decode, encode, token_strings
from genmod.gpt.train import TrainConfig, model_from_payload, token_losses, train_or_load
from genmod.sections.autoregressive_gpt import config

#: A clear rise (or fall) of a loss between two evaluations, in nats (the losses are exact
#: averages over fixed token sets, so this is a resolution, not a noise level).
LOSS_TOL = 0.01


# ------------------------------------------------------------------------------ data
@dataclass
class Book:
    text: str
    splits: Splits

    @property
    def train_text(self) -> str:
        return self.text[: self.splits.split_char]


def load_book(params: dict) -> Book:
    """The book at ``alice_path``, split 90 / 10 % by characters."""
    text = load_text(params["alice_path"])
    return Book(text=text, splits=make_splits(text, 0.1))


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
class Trained:
    model: GPT
    payload: dict
    from_cache: bool
    config: TrainConfig


def train(params: dict, book: Book, device: torch.device) -> Trained:
    """Train the profile's GPT on the training split (or load it from the cache)."""
    tcfg = config.train_config(params)
    payload, from_cache = train_or_load(
        book.text,
        tcfg,
        device,
        cache_dir=params["cache_dir"],
        retrain=params["retrain"],
    )
    return Trained(model_from_payload(payload, device), payload, from_cache, tcfg)


def train_record(trained: Trained, book: Book) -> dict:
    """A1's record: the loss history, the kept checkpoint, timings, and the validation loss
    split by targets seen / never seen in the training split."""
    p, h, tcfg = trained.payload, trained.payload["history"], trained.config
    per_token = token_losses(trained.model, book.splits.val, tcfg.block_size)
    seen_ids = set(book.splits.train.tolist())
    unseen = torch.tensor([t not in seen_ids for t in book.splits.val[1:].tolist()])
    i_best = h["eval_step"].index(p["best_step"])
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
    }


def loss_figure(rec: dict):
    """The training/validation loss curves of ``rec["train"]``."""
    t = rec["train"]
    lh, c = t["loss_history"], t["config"]
    hist = {**lh, "step_time": lh["step_seconds"]}
    fig, ax = plt.subplots(figsize=(7, 3.8))
    plot_losses(ax, hist, t["best_step"])
    ax.set_title(
        f"{c['n_layer']} layers × {c['n_head']} heads × {c['n_embd']} wide, "
        f"block {c['block_size']}, batch {c['batch_size']}, dropout {c['dropout']}"
    )
    return fig


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


def inversion(params: dict, model: GPT, book: Book) -> dict:
    """A2: invert the frozen model for ``inversion_sentence`` from the shifted embeddings and
    from a random start; where the first run fails, search the final LayerNorm's output set
    for each wrong target token (:func:`genmod.gpt.inversion.output_reachable`)."""
    sentence = params["inversion_sentence"]
    icfg = config.inversion_config(params)
    inv = invert(model, sentence, icfg)
    inv_random = invert(model, sentence, config.inversion_config(params, init="random"))
    reach_steps = config.settings(params["profile"]).reach_steps
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
    return {
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


def inversion_figure(rec: dict):
    """The minimised loss (and its cross-entropy term) and the correct positions per step."""
    r = rec["inversion"]
    runs = {}
    for label, x in (("init = embeddings of the shifted sentence", r),
                     ("init = random", r["random_init"])):  # fmt: skip
        runs[label] = {"loss": x["loss_history"], "ce": x["ce_history"],
                       "hinge": x["hinge_history"], "n_correct": x["correct_history"],
                       "steps": x["steps"]}  # fmt: skip
    fig, (a1, a2) = plt.subplots(1, 2, figsize=(7, 2.8))
    plot_inversion(a1, a2, runs, len(r["target_ids"]))
    return fig


# ------------------------------------------------------------------------- attention
def attention(params: dict, model: GPT, book: Book) -> dict:
    """A3/A4: continue ``prompt`` by sampling until ``min_words`` words, then the last and
    first blocks' head-averaged attention rows at the prediction of the 12th word."""
    s = config.settings(params["profile"])
    bound = config.generation_max_tokens(params)
    gen = sample(model, params["prompt"], params["min_words"], s.temperature, s.top_k,
                 max_new_tokens=bound, seed=params["seed"])  # fmt: skip
    st = attention_study(model, gen)
    last = attention_summary(st.last_block, st.tokens)
    first = attention_summary(st.first_block, st.tokens)
    ev = word_evidence(book.text, st.text, 11)
    ev_train = word_evidence(book.train_text, st.text, 11)
    continuation = decode(gen.ids[gen.n_prompt :]).strip()
    k12 = st.predict_index - gen.n_prompt
    return {
        "text": st.text,
        "prompt": params["prompt"],
        "n_words": count_words(st.text),
        "min_words": params["min_words"],
        "max_new_tokens": bound,
        "n_generated": len(gen.ids) - gen.n_prompt,
        "reached_min_words": gen.reached_min_words,
        "word10": ev["prev"],
        "word11": st.word11,
        "word12": st.word12,
        "word11_tokens": st.word11_tokens,
        "word12_tokens": st.word12_tokens,
        "predict_index": st.predict_index,
        "query_token": token_strings([st.ids[st.predict_index - 1]])[0],
        "predicted_token": token_strings([st.ids[st.predict_index]])[0],
        "predicted_sample_prob": gen.sample_probs[k12],
        "predicted_model_prob": gen.model_probs[k12],
        "context_start": st.context_start,
        "block_size": model.config.block_size,
        "last_block": {"tokens": st.tokens, "scores": st.last_block, "sum": sum(st.last_block)},
        "first_block": {"tokens": st.tokens, "scores": st.first_block, "sum": sum(st.first_block)},
        "last_summary": last,
        "first_summary": first,
        "total_variation": total_variation(st.last_block, st.first_block),
        "word11_prob": st.word11_prob,
        "word11_sample_prob": st.word11_sample_prob,
        "word11_top": st.word11_top,
        "word11_sample_top": st.word11_sample_top,
        "next_token_top": st.next_token_top,
        "bigram_count": ev["bigram"],
        "word11_count": ev["count"],
        "bigram_count_train": ev_train["bigram"],
        "word11_count_train": ev_train["count"],
        "continuation": continuation,
        "continuation_words": count_words(continuation),
        "continuation_in_book": bool(continuation) and continuation in book.text,
        "continuation_in_train": bool(continuation) and continuation in book.train_text,
        "temperature": s.temperature,
        "top_k": s.top_k,
    }


def painted(rec: dict, block: str) -> str:
    """HTML: the context tokens painted by ``block``'s (``"last_block"``/``"first_block"``)
    attention row, both blocks on one colour scale."""
    a = rec["attention"]
    vmax = max(max(a["last_block"]["scores"]), max(a["first_block"]["scores"]))
    title = {"last_block": "Last block", "first_block": "First block"}[block]
    return paint_tokens(a[block]["tokens"], a[block]["scores"], vmax=vmax,
                        title=f"{title} (head average)", mark_last=a["word12"])  # fmt: skip


# -------------------------------------------------------------------------- logprob
def logprob(params: dict, model: GPT) -> dict:
    """A5: sample a sentence from ``<|endoftext|>`` and score exactly the drawn ids."""
    s = config.settings(params["profile"])
    sent = sample_sentence(model, seed=params["seed"], temperature=s.temperature, top_k=s.top_k,
                           min_words=s.sentence_min_words, max_tokens=s.sentence_max_tokens,
                           draws=s.sentence_draws)  # fmt: skip
    lp = ids_logprob(model, sent.ids)
    n = len(lp.ids)
    nll = [-x for x in lp.token_logprobs]
    mean = sum(nll) / n
    sd = math.sqrt(sum((x - mean) ** 2 for x in nll) / (n - 1)) if n > 1 else float("nan")
    return {
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

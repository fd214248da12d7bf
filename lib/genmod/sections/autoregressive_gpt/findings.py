"""Section 03's findings: per question, a pure function of the record returning what its
answer decides (:class:`~genmod.sections.findings.Finding`); the prose is in ``templates/``.

Losses are compared with the record's resolution ``train.loss_tolerance``, attention
look-backs to the shown precision, the sample's per-token log-probability with two standard
errors of its mean. Convention: ``±`` is one standard error.
"""

from __future__ import annotations

import math
from dataclasses import fields
from pathlib import Path

from genmod.gpt.logprob import SENTENCE_END_RE
from genmod.gpt.train import TrainConfig
from genmod.sections.autoregressive_gpt.findings_a2 import a2
from genmod.sections.findings import (
    Finding,
    above,
    at_least,
    at_most,
    below,
    claim,
    differs,
    equal,
    finite,
)

TEMPLATES = Path(__file__).parent / "templates"

#: Shown precision of the mean look-backs (tokens): closer than this is "about the same".
LOOKBACK_TOL = 0.05
#: |sum − 1| of a head-averaged attention row that float32 rounding explains.
SUM_TOL = 1e-5
#: A row whose scores all lie within this of each other is uniform to the shown precision
#: (scores are shown to three decimals): it has no "largest scores" to name.
UNIFORM_TOL = 5e-4
#: The EMA ramp a trained model's config holds when it leaves the key out (TrainConfig.to_dict
#: drops the default, so that models trained before it was a setting keep their cache key).
EMA_RAMP_DEFAULT = next(f.default for f in fields(TrainConfig) if f.name == "ema_ramp")


def _out(claims) -> dict:
    return {c.name.split(".", 1)[1]: c.outcome for c in claims}


def _top_k(top_k: int | None) -> int:
    """The sampler's top-k as a number (``None``: no restriction, 0)."""
    return 0 if top_k is None else top_k


# ------------------------------------------------------------------------------ data
def data(rec: dict) -> Finding:
    """The data paragraph: the book, its splits, the token ids the training split never
    uses (and how their rows get gradient)."""
    d = rec["data"]
    V, ls = d["vocab_size"], rec["settings"]["label_smoothing"]
    never = V - d["distinct_train_tokens"]
    claims = [
        claim("data.checksum_known", equal, value=d["course_checksum_known"], other=True),
        claim("data.course_copy", equal, value=d["course_copy"], other=True),
        claim("data.label_smoothing", above, value=ls, threshold=0.0),
        claim("data.val_unseen", above, value=d["val_unseen_fraction"], threshold=0.0),
    ]
    out = _out(claims)
    verdict = ("course copy" if out["course_copy"] else "other copy") if out[
        "checksum_known"] else "unknown"  # fmt: skip
    figures = {
        **{k: d[k] for k in ("chars", "train_tokens", "val_tokens", "distinct_tokens",
                             "distinct_train_tokens", "val_unseen_fraction")},
        "sha": d["sha256"][:12], "V": V, "never": never, "never_share": never / V,
        "label_smoothing": ls,
    }  # fmt: skip
    return Finding("data", verdict, figures, claims)


# ---------------------------------------------------------------------------- A1
def _a1_run(rec: dict, ramp: float, passes: float) -> dict:
    """A1's figures of the model, its settings and the run's cost (tokens, evaluations, time)."""
    t = rec["train"]
    c = t["config"]
    k = max(t["best_step"] - 1, 0)
    return {
        "n_params_m": t["n_params"] / 1e6,
        "embedding_share": rec["data"]["vocab_size"] * c["n_embd"] / t["n_params"],
        **{k_: c[k_] for k_ in ("lr", "min_lr", "warmup_iters", "max_iters", "beta2",
                                "weight_decay", "dropout", "label_smoothing", "grad_clip",
                                "ema_decay", "patience", "batch_size", "block_size")},
        "ema_ramp": ramp,
        "ema_decay_best": min(c["ema_decay"], (1 + k) / (ramp + k)),
        "steps_done": t["steps_done"], "evals_after_best": t["evals_after_best"],
        "passes": passes, "train_seconds": t["train_seconds"],
        "wall_seconds": t["wall_seconds"], "tokens_per_second": t["tokens_per_second"],
        "device": rec["runtime"]["device"],
        "val_windows": len(t["val_window_tokens"]),
        "tokens_to_best": t["tokens_to_best"], "evaluations": t["evaluations"],
    }  # fmt: skip


def a1(rec: dict) -> Finding:
    """A1: the model, its training, and where the validation loss went. Verdicts:
    "untrained" (never below its value at initialisation) | "still falling" (best at the last
    evaluation) | "overfitting" (then rose by more than the tolerance while the training-sample
    loss fell by more) | "val rising" (then rose, the training loss not falling) | "plateau"
    (then stayed within the tolerance of its best)."""
    t, d = rec["train"], rec["data"]
    c, h, tol = t["config"], t["loss_history"], t["loss_tolerance"]
    V = d["vocab_size"]
    i = h["eval_step"].index(t["best_step"])
    vb, vl, tb, tl = h["val"][i], h["val"][-1], h["train"][i], h["train"][-1]
    last = len(h["val"]) - 1
    ramp = c["ema_ramp"] if "ema_ramp" in c else EMA_RAMP_DEFAULT
    passes = t["steps_done"] * c["batch_size"] * c["block_size"] / d["train_tokens"]
    un, unseen, ls = t["val_loss_unseen_tokens"], d["val_unseen_fraction"], c["label_smoothing"]
    claims = [
        claim("a1.untrained", equal, value=t["best_step"], other=h["eval_step"][0]),
        claim("a1.best_last", equal, value=i, other=last),
        claim("a1.best_after_first", above, value=i, threshold=0),
        claim("a1.val_rose", above, value=vl - vb, threshold=tol),
        claim("a1.train_fell", below, value=tl - tb, threshold=-tol),
        claim("a1.train_rose", above, value=tl - tb, threshold=tol),
        claim("a1.gap_grew", above, value=(vl - tl) - (vb - tb), threshold=tol),
        claim("a1.ema", above, value=c["ema_decay"], threshold=0.0),
        claim("a1.stopped_early", equal, value=t["stopped_early"], other=True),
        claim("a1.patience", above, value=c["patience"], threshold=0),
        claim("a1.from_cache", equal, value=t["from_cache"], other=True),
        claim("a1.whole_passes", at_least, value=passes, threshold=0.1),
        claim("a1.unseen_measured", finite, value=un),
        claim("a1.label_smoothing", above, value=ls, threshold=0.0),
        claim("a1.se_measured", finite, value=t["val_loss_se"]),
    ]
    out = _out(claims)
    rose = "overfitting" if out["train_fell"] else "val rising"
    verdict = ("untrained" if out["untrained"] else "still falling" if out["best_last"]
               else rose if out["val_rose"] else "plateau")  # fmt: skip
    figures = {
        **_a1_run(rec, ramp, passes),
        "V": V, "ln_V": math.log(V), "val_init": h["val"][0], "val_loss": t["val_loss"],
        "perplexity": math.exp(t["val_loss"]), "best_step": t["best_step"],
        "val_seen": t["val_loss_seen_tokens"], "seen_share": 1 - unseen,
        "val_unseen": un, "unseen_share": unseen,
        "unseen_contribution": unseen * un if out["unseen_measured"] else None,
        "smoothing_cost": -math.log(ls / V) if out["label_smoothing"] else None,
        "tol": tol, "end_step": h["eval_step"][-1], "val_best": vb, "val_last": vl,
        "train_best": tb, "train_last": tl, "val_rise": vl - vb,
        "gap_best": vb - tb, "gap_last": vl - tl, "gap_growth": (vl - tl) - (vb - tb),
        "prev_drop": h["val"][-2] - vl if last > 0 else None,
        "prev_step": h["eval_step"][-2] if last > 0 else None,
        "val_se": t["val_loss_se"] if out["se_measured"] else None,
    }  # fmt: skip
    return Finding(
        "A1", verdict, figures, claims,
        figure="validation loss of the kept checkpoint (nats/token)",
        path="train.val_loss", fmt=".3f",
    )  # fmt: skip


# ---------------------------------------------------------------------------- A3/A4
def _row(a: dict, block: str, summary: str, name: str) -> tuple[list, dict]:
    """The claims and figures of one block's attention row (``block``: ``"last_block"`` or
    ``"first_block"``): its sum against 1, and whether it is uniform (e^entropy equal to the
    number of tokens to the shown precision: no scores are largest)."""
    b, s = a[block], a[summary]
    n = len(b["tokens"])
    claims = [
        claim(f"{name}.sums_to_one", at_most, value=abs(b["sum"] - 1), threshold=SUM_TOL),
        claim(f"{name}.uniform", at_least, value=s["effective_tokens"], threshold=n - 0.05),
    ]
    figures = {"row_sum": b["sum"], "sum_err": abs(b["sum"] - 1), "n_ctx": n,
               "effective_tokens": s["effective_tokens"], "top": s["top"],
               "score_min": min(b["scores"]), "score_max": max(b["scores"]),
               "first_token_mass": s["first_token_mass"], "own_token_mass": s["last_token_mass"],
               "mean_lookback": s["mean_lookback"], "first_token": b["tokens"][0]}  # fmt: skip
    return claims, figures


def a3(rec: dict) -> Finding:
    """A3: the generated text, the last block's attention at the 12th word, the evidence for
    the 11th word. Verdicts (where the generated continuation occurs verbatim): "verbatim in
    train" | "verbatim in book" | "not in book"."""
    a = rec["attention"]
    row_claims, row = _row(a, "last_block", "last_summary", "a3")
    claims = [
        *row_claims,
        claim("a3.reached_min_words", equal, value=a["reached_min_words"], other=True),
        claim("a3.cropped", above, value=a["context_start"], threshold=0),
        claim("a3.sampled_prob", finite, value=a["word11_sample_prob"]),
        claim("a3.top_k", above, value=_top_k(a["top_k"]), threshold=0),
        claim("a3.in_train", equal, value=a["continuation_in_train"], other=True),
        claim("a3.in_book", equal, value=a["continuation_in_book"], other=True),
    ]
    out = _out(claims)
    verdict = ("verbatim in train" if out["in_train"] else "verbatim in book" if out["in_book"]
               else "not in book")  # fmt: skip
    figures = {
        **row,
        **{k: a[k] for k in ("text", "n_words", "temperature", "top_k", "max_new_tokens",
                             "min_words", "word10", "word11", "word12", "word11_tokens",
                             "word12_tokens", "query_token", "predicted_token",
                             "predicted_sample_prob", "predicted_model_prob", "context_start",
                             "block_size", "word11_prob", "word11_sample_prob", "word11_top",
                             "word11_sample_top", "word11_count_train", "bigram_count_train",
                             "word11_count", "bigram_count", "continuation_words",
                             "next_token_top")},
        "query_index": a["predict_index"] - 1,
        "sum_tol": SUM_TOL,
    }  # fmt: skip
    return Finding(
        "A3", verdict, figures, claims,
        figure="model's probability (temperature 1) of the 11th word's first token",
        path="attention.word11_prob", fmt=".3g",
    )  # fmt: skip


def a4(rec: dict) -> Finding:
    """A4: the first block's row at the same position, against the last's. Verdicts (the mean
    look-backs, to the shown precision): "about the same" | "more local" | "further back"."""
    a = rec["attention"]
    row_claims, first = _row(a, "first_block", "first_summary", "a4")
    _, last = _row(a, "last_block", "last_summary", "a4")
    f, lb, tv = first["mean_lookback"], last["mean_lookback"], a["total_variation"]
    claims = [
        *row_claims,
        claim("a4.lookback_close", below, value=abs(f - lb), threshold=LOOKBACK_TOL),
        claim("a4.lookback_shown_equal", equal, value=format(f, ".1f"), other=format(lb, ".1f")),
        claim("a4.first_more_local", below, value=f, threshold=lb),
        claim("a4.rows_identical", below, value=tv, threshold=0.005),  # 0.00 to two decimals
    ]
    out = _out(claims)
    if out["lookback_close"] or out["lookback_shown_equal"]:
        verdict = "about the same"
    else:
        verdict = "more local" if out["first_more_local"] else "further back"
    figures = {**first, "last": last, "total_variation": tv, "sum_tol": SUM_TOL}
    return Finding(
        "A4", verdict, figures, claims,
        figure="total-variation distance between the first and last blocks' rows",
        path="attention.total_variation", fmt=".2f",
    )  # fmt: skip


# ---------------------------------------------------------------------------- A5
def a5(rec: dict) -> Finding:
    """A5: the sampled sentence's log-probability, and its per-token −log p against the
    validation loss (two standard errors of the mean). Verdicts: "more likely" | "less likely"
    | "within noise" | "too few" (fewer than two tokens: no standard deviation)."""
    lp, val = rec["logprob"], rec["train"]["val_loss"]
    toks, lps, earlier = lp["tokens"], lp["token_logprobs"], lp["earlier_stops"]
    n = len(toks)
    nll = -lp["total"] / n
    se = lp["per_token_sd"] / math.sqrt(n) if n >= 2 else math.nan
    end = SENTENCE_END_RE.search(lp["sentence"])
    claims = [
        claim("a5.sentence_end", equal, value=lp["stop"], other="sentence end"),
        claim("a5.length_bound", equal, value=lp["stop"], other="length bound"),
        claim("a5.earlier", above, value=len(earlier), threshold=0),
        claim("a5.one_earlier", equal, value=len(earlier), other=1),
        claim("a5.earlier_bound", above, value=earlier.count("length bound"), threshold=0),
        claim("a5.earlier_eot", above, value=earlier.count("end-of-text token"), threshold=0),
        claim("a5.cropped", equal, value=lp["cropped"], other=True),
        claim("a5.cooled", below, value=lp["temperature"], threshold=1.0),
        claim("a5.top_k", above, value=_top_k(lp["top_k"]), threshold=0),
        claim("a5.per_token", differs, diff=val - nll, se=se),
    ]
    verdict = {"more": "more likely", "less": "less likely", "same": "within noise",
               "untestable": "too few"}[_out(claims)["per_token"]]  # fmt: skip
    worst = min(range(n), key=lambda i: lps[i])
    best = max(range(n), key=lambda i: lps[i])
    figures = {
        **{k: lp[k] for k in ("sentence", "temperature", "top_k", "start", "min_words",
                              "next_token", "max_tokens", "draws", "total", "sampler_total",
                              "max_abs_diff_sampler", "block_size", "sample_total",
                              "per_token_sd")},
        "n": n, "sentence_end_text": end.group(0) if end else "",
        "draw": len(earlier) + 1, "n_earlier": len(earlier),
        "earlier_bound": earlier.count("length bound"),
        "earlier_eot": earlier.count("end-of-text token"),
        "check_sum": sum(lps), "log10_p": lp["total"] / math.log(10),
        "nll": nll, "val_loss": val, "se": se,
        "worst_token": toks[worst], "worst_logprob": lps[worst],
        "best_token": toks[best], "best_logprob": lps[best],
    }  # fmt: skip
    return Finding(
        "A5", verdict, figures, claims,
        figure="log-probability of the sampled tokens under the model (nats)",
        path="logprob.total", fmt=".3f",
    )  # fmt: skip


FINDINGS = {"data": data, "A1": a1, "A2": a2, "A3": a3, "A4": a4, "A5": a5}

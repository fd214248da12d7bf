"""Section 03's answers: one pure function of the section's results record per question id.

Each function reads only the record (plain JSON, as written to ``results.json``) and returns
Markdown. A comparative sentence is chosen by comparing recorded values: losses with the
record's resolution ``train.loss_tolerance``, attention look-backs to the shown precision,
the sample's per-token log-probability with two standard errors of its mean. The tables the
notebook shows are functions of the record too.
"""

from __future__ import annotations

import math

from genmod.gpt.paint import score_table
from genmod.sections.autoregressive_gpt.findings import FINDINGS, TEMPLATES  # noqa: F401
from genmod.sections.markdown import quote
from genmod.sections.summary import Headline, Question, headline


def _md(tok: str) -> str:
    """A token inside a Markdown table cell (code span)."""
    return tok.replace("\n", "↵").replace("|", "\\|").replace("`", "'")


# ---------------------------------------------------------------------------- A2
def a2_history_table(rec: dict) -> str:
    """The greedy decoding at each change during the optimisation (first and last six)."""
    r = rec["inversion"]
    n = len(r["target_tokens"])
    changes = r["decoded_history"]
    shown = changes if len(changes) <= 12 else changes[:6] + changes[-6:]
    hinge = r["margin"] > 0
    loss = "loss (cross-entropy + hinge)" if hinge else "loss (cross-entropy)"
    rows = [f"| step | greedy decoding | {loss} | cross-entropy term | right |",
            "|---:|:---|---:|---:|---:|"]  # fmt: skip
    for step, txt in shown:
        rows.append(
            f"| {step} | `{_md(repr(txt))}` | {r['loss_history'][step]:.3f} | "
            f"{r['ce_history'][step]:.3f} | {r['correct_history'][step]}/{n} |"
        )
    head = "**Greedy decoding while optimising** (each change of the text"
    return head + (", first and last six" if len(changes) > 12 else "") + "):\n\n" + "\n".join(rows)


def a2_nearest_table(rec: dict) -> str:
    """Per position: target, nearest real token to the optimised vector, its norm, and the
    final margin (target logit − largest other logit)."""
    r = rec["inversion"]
    rows = ["| position | target token | nearest real token (cosine) | ‖inp_vec‖ | final margin |",
            "|---:|:---|:---|---:|---:|"]  # fmt: skip
    for i, (t, n, c, nn, m) in enumerate(zip(r["target_tokens"], r["nearest_tokens"],
                                             r["nearest_cosine"], r["inp_norms"],
                                             r["final_margins"])):  # fmt: skip
        rows.append(
            f"| {i} | `{_md(repr(t))}` | `{_md(repr(n))}` ({c:.2f}) | {nn:.2f} | {m:+.3f} |"
        )
    return "**Nearest real tokens to the optimised vectors:**\n\n" + "\n".join(rows)


def _a2_evidence(r: dict) -> str:
    reach = r.get("reachability", [])
    if not reach:
        return ""
    margins = r["final_margins"]
    per_pos = "; ".join(
        f"{quote(e['token'])} at position{'s' if len(e['positions']) > 1 else ''} "
        + ", ".join(str(p) for p in e["positions"])
        + ": "
        + ", ".join(f"{margins[p]:+.3f}" for p in e["positions"])
        for e in reach
    )
    found = [e for e in reach if e["found"]]
    missed = [e for e in reach if not e["found"]]
    parts = []
    for group, what in ((missed, "no point where the token is the argmax"),
                        (found, "points where the token is the argmax")):  # fmt: skip
        if group:
            parts.append(
                f"for {', '.join(quote(e['token']) for e in group)} {what} (best margin"
                f"{'s' if len(group) > 1 else ''} "
                + ", ".join(f"{e['best_margin']:+.3f}" for e in group)
                + ")"
            )
    return (
        f" At the wrong positions the inversion ended with these margins (target logit − "
        f"largest other logit): {per_pos}. A search over the outputs the final LayerNorm can "
        f"produce (logits = (γ ⊙ n + β)·Eᵀ with n of zero mean and norm √C; Adam, "
        f"{r['reach_steps']} steps from the token's own direction) found, "
        + "; ".join(parts)
        + ". Both searches are local: a negative best margin means that none was found, not "
        "that none exists, and a point of the LayerNorm's output set need not be one the "
        "blocks below it produce for any input; longer runs or other learning rates were not "
        "tried."
    )


_INIT = {
    "shifted": "the embeddings the model sees when it reads the sentence itself (`{start}` "
    "followed by the sentence without its last token)",
    "random": "random vectors N(0, σ²), σ the standard deviation of the embedding table",
    "mean": "the mean token embedding at every position",
}


def a2(rec: dict) -> str:
    r = rec["inversion"]
    toks = r["target_tokens"]
    n = len(toks)
    never = [w for w, c in r.get("word_counts", {}).items() if c == 0]
    out = [f"Target: {quote(r['target'])} = {n} tokens ({', '.join(quote(t) for t in toks)})"]
    if never:
        out.append(
            f"; the word{'s' if len(never) > 1 else ''} {', '.join(quote(w) for w in never)} "
            f"never occur{'' if len(never) > 1 else 's'} in the book (as a whole word, any case)"
        )
    if r["success"]:
        out.append(
            f". The exact sentence was reached after **{r['steps']} steps** (limit {r['max_steps']})"
        )
    else:
        out.append(
            f". The exact sentence was **not** reached in {r['max_steps']} steps; the final "
            f"greedy decoding is {quote(r['decoded'])} ({r['correct_history'][-1]} of {n} positions "
            f"right)"
        )
    hinge = r["margin"] > 0
    lh, ce = r["loss_history"], r["ce_history"]
    out.append(
        f"; the minimised loss (cross-entropy + hinge) went from {lh[0]:.3f} to {lh[-1]:.3f} "
        f"(its cross-entropy term from {ce[0]:.3f} to {ce[-1]:.3f})."
        if hinge
        else f"; the loss (cross-entropy) went from {lh[0]:.3f} to {lh[-1]:.3f}."
    )
    if not r["success"]:
        out.append(_a2_evidence(r))
    init = _INIT.get(r["init"], r["init"]).format(start=r.get("start_token", "<|endoftext|>"))
    out.append(
        f" Choices: `inp_vec` initialised with {init}, Adam with learning rate {r['lr']}, loss = "
        "cross-entropy"
        + (
            f" + a hinge max(0, best competitor − target logit + {r['margin']:g}) (it acts on "
            f"the best competitor only, where cross-entropy lowers every competing logit), "
            if hinge
            else ", "
        )
        + (
            "no norm constraint"
            if r["max_norm"] is None
            else f"rows capped at norm {r['max_norm']}"
        )
        + ", stop at the first step where every position decodes right. "
    )
    ri = r["random_init"]
    out.append(
        "From a random initialisation the same optimiser "
        + (
            f"reached it after {ri['steps']} steps."
            if ri["success"]
            else f"did not reach it in {r['max_steps']} steps (final decoding {quote(ri['decoded'])}"
            + (f", {ri['n_correct']} of {n} positions right)." if "n_correct" in ri else ").")
        )
    )
    same = sum(a == b for a, b in zip(r["nearest_tokens"], toks))
    out.append(
        f" The optimised vectors have norms {min(r['inp_norms']):.2f}–{max(r['inp_norms']):.2f} "
        f"(median token-embedding norm {r['embedding_norm_median']:.2f}); their nearest real "
        f"tokens (cosine {min(r['nearest_cosine']):.2f}–{max(r['nearest_cosine']):.2f}) are "
        f"{quote(r['nearest_tokens'])}, the target token itself at {same} of {n} positions. Fed as an "
        "ordinary (hard) prompt, these tokens make the model "
    )
    if r["hard_prompt_success"]:
        out.append("emit the target sentence too.")
    else:
        out.append(
            f"emit {quote(r['hard_prompt_decoded'])}, not the target"
            + (
                ": the optimised vectors work, their nearest tokens do not."
                if r["success"]
                else "."
            )
        )
    return "".join(out)


# ---------------------------------------------------------------------------- A3/A4
def generated_text(rec: dict) -> str:
    a = rec["attention"]
    rest = a["text"][len(a["prompt"]) :] if a["text"].startswith(a["prompt"]) else a["text"]
    return f"**Generated text** (prompt in bold):\n\n> **{a['prompt']}**{rest}"


def attention_table(rec: dict, block: str) -> str:
    """The context tokens and ``block``'s (``"last_block"``/``"first_block"``) scores."""
    b = rec["attention"][block]
    return score_table(b["tokens"], b["scores"])


# ---------------------------------------------------------------------------- A5
def a5_table(rec: dict) -> str:
    """Per token: log p under the model, p, log q under the sampling distribution, and the
    running sum of log p (the start token first, not scored)."""
    lp = rec["logprob"]
    rows = ["| i | token | log p(token \\| previous) | p | log q (sampling) | running sum of log p |",
            "|---:|:---|---:|---:|---:|---:|",
            f"| 0 | `{_md(lp['start'])}` | (start, not scored) | | | |"]  # fmt: skip
    run = 0.0
    q = lp.get("sample_logprobs") or [float("nan")] * len(lp["tokens"])
    for i, (t, x, y) in enumerate(zip(lp["tokens"], lp["token_logprobs"], q)):
        run += x
        rows.append(f"| {i + 1} | `{_md(t)}` | {x:.4f} | {math.exp(x):.3g} | {y:.4f} | {run:.4f} |")
    rows.append(
        f"| | **total** | **{lp['total']:.4f}** | | {lp.get('sample_total', float('nan')):.4f} | |"
    )
    return "\n".join(rows)


ANSWERS = {"A2": a2}


# ------------------------------------------------------------------- short answers
QUESTIONS = {
    "A1": Question(
        "Training a GPT-2 on the book",
        "Train a standard GPT-2 (pre-LayerNorm blocks, learned positions, GELU MLP, tied input "
        "and output embeddings); plot the training and validation losses over training.",
    ),
    "A2": Question(
        "Inversion: making the frozen model say a sentence",
        "Invert the frozen model: optimise the input vectors that replace the token embeddings "
        '(positions still added) so that the model predicts "I am a little squirrel holding a '
        'walnut"; show the loss, the decoded greedy output along the way, whether and when the '
        "sentence is reached, and the special choices.",
    ),
    "A3": Question(
        "Attention of the last block when predicting a generated word",
        "Generate a text of at least 12 words whose 11th and 12th words come from the model. At "
        "the prediction of the 12th word's first token, paint the tokens by the last block's "
        "attention (softmax(QKᵀ/√d), mean over heads); why did the model predict the 11th word; "
        "what do the scores sum to?",
    ),
    "A4": Question(
        "Attention of the first block at the same position",
        "The same with the first block; compare with A3.",
    ),
    "A5": Question(
        "Log-probability of a sampled sentence",
        "Sample a sentence (ending where the book's sentences end: terminal punctuation, "
        "possibly followed by closing quotes or brackets) and give its log-probability as the "
        "sum of the per-token log-probabilities of exactly the sampled tokens, with the "
        "per-token table.",
    ),
}


def h_a2(rec: dict) -> Headline:
    """A2 in one line: whether and when the sentence was reached. Verdicts: "reached" |
    "not reached"."""
    r = rec["inversion"]
    n = len(r["target_tokens"])
    fig = f"positions decoded right at the end (of {n})"
    path = "inversion.correct_history.-1"
    if r["success"]:
        hard = "do too" if r["hard_prompt_success"] else "do not"
        answer = (
            f"Yes: the optimised input vectors make the model predict the exact sentence after "
            f"**{r['steps']} steps** (limit {r['max_steps']}); their nearest real tokens, fed as "
            f"a prompt, {hard}."
        )
        return headline(rec, path, fig, answer, "reached", fmt="d")
    answer = (
        f"No: the exact sentence was not reached in {r['max_steps']} steps; the final greedy "
        f"decoding has {r['correct_history'][-1]} of {n} positions right."
    )
    return headline(rec, path, fig, answer, "not reached", fmt="d")


HEADLINES = {"A2": h_a2}

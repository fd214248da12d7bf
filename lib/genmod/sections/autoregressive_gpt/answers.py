"""Section 03's questions and the tables the notebook shows beside its answers.

Every answer of the section is a finding rendered through its templates (``FINDINGS``,
:mod:`.findings`, :mod:`.findings_a2`); ``ANSWERS`` and ``HEADLINES`` are empty. The tables
are functions of the results record too (A2's rendered from its finding's templates).
"""

from __future__ import annotations

import math

from genmod.gpt.paint import score_table
from genmod.sections.autoregressive_gpt import findings_a2
from genmod.sections.autoregressive_gpt.findings import FINDINGS, TEMPLATES  # noqa: F401
from genmod.sections.autoregressive_gpt.findings_a2 import code_cell
from genmod.sections.findings import render
from genmod.sections.summary import Question


# ---------------------------------------------------------------------------- A2
def a2_history_table(rec: dict) -> str:
    """The greedy decoding at each change during the optimisation (first and last six)."""
    return render(TEMPLATES, findings_a2.a2(rec), "history")


def a2_nearest_table(rec: dict) -> str:
    """Per position: target, nearest real token to the optimised vector, its norm, and the
    final margin (target logit − largest other logit)."""
    return render(TEMPLATES, findings_a2.a2(rec), "nearest")


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
            f"| 0 | `{code_cell(lp['start'])}` | (start, not scored) | | | |"]  # fmt: skip
    run = 0.0
    q = lp["sample_logprobs"]
    for i, (t, x, y) in enumerate(zip(lp["tokens"], lp["token_logprobs"], q)):
        run += x
        rows.append(
            f"| {i + 1} | `{code_cell(t)}` | {x:.4f} | {math.exp(x):.3g} | {y:.4f} | {run:.4f} |"
        )
    rows.append(f"| | **total** | **{lp['total']:.4f}** | | {lp['sample_total']:.4f} | |")
    return "\n".join(rows)


ANSWERS: dict = {}  # every question is a finding (FINDINGS)


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


HEADLINES: dict = {}  # every short answer is rendered from its finding

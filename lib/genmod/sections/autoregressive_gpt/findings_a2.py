"""Section 03's A2 finding: the inversion of the frozen model by optimising its input vectors
(:func:`genmod.gpt.inversion.invert`); the prose is in ``templates/a2.*.md.j2``, its two tables
in ``templates/a2.history.md.j2`` and ``templates/a2.nearest.md.j2``.

Every decision is exact (the greedy decoding is right at a position or not; a margin is
positive or not): nothing here is a noisy estimate, so no ``±`` appears.
"""

from __future__ import annotations

from genmod.sections.findings import Finding, above, claim, equal, finite

#: Rows of the decoding history shown in full; a longer history shows its first and last half.
HISTORY_ROWS = 12


def code_cell(tok: str) -> str:
    """A token's text inside a Markdown table's code span (line breaks, pipes and backticks
    made visible as ↵, \\| and ')."""
    return tok.replace("\n", "↵").replace("|", "\\|").replace("`", "'")


def _out(claims) -> dict:
    return {c.name.split(".", 1)[1]: c.outcome for c in claims}


def _history(r: dict, n: int) -> list[dict]:
    """The rows of the decoding-history table: each change of the greedy decoding (the first
    and last :data:`HISTORY_ROWS` / 2 of a longer history)."""
    changes = r["decoded_history"]
    half = HISTORY_ROWS // 2
    shown = changes if len(changes) <= HISTORY_ROWS else changes[:half] + changes[-half:]
    return [{"step": step, "text": code_cell(repr(txt)), "loss": r["loss_history"][step],
             "ce": r["ce_history"][step], "right": r["correct_history"][step], "n": n}
            for step, txt in shown]  # fmt: skip


def _nearest(r: dict) -> list[dict]:
    """Per position: target, nearest real token to the optimised vector (cosine), the vector's
    norm, and the final margin (target logit − largest other logit)."""
    return [{"i": i, "target": code_cell(repr(t)), "nearest": code_cell(repr(nt)), "cosine": c,
             "norm": nn, "margin": m}
            for i, (t, nt, c, nn, m) in enumerate(zip(
                r["target_tokens"], r["nearest_tokens"], r["nearest_cosine"], r["inp_norms"],
                r["final_margins"]))]  # fmt: skip


def _evidence(r: dict) -> tuple[list, dict]:
    """Where the inversion failed: the margins at the wrong positions and the search of the
    final LayerNorm's output set for each wrong target token (found / not found)."""
    reach, margins, toks = r["reachability"], r["final_margins"], r["target_tokens"]
    wrong = sorted(p for e in reach for p in e["positions"])
    found = [{"token": e["token"], "margin": e["best_margin"]} for e in reach if e["found"]]
    missed = [{"token": e["token"], "margin": e["best_margin"]} for e in reach if not e["found"]]
    claims = [
        claim("a2.searched", above, value=len(reach), threshold=0),
        claim("a2.search_found", above, value=len(found), threshold=0),
        claim("a2.search_missed", above, value=len(missed), threshold=0),
    ]
    figures = {
        "wrong": [{"i": p, "token": toks[p], "margin": margins[p]} for p in wrong],
        "found": found, "missed": missed, "reach_steps": r["reach_steps"],
    }  # fmt: skip
    return claims, figures


def a2(rec: dict) -> Finding:
    """A2: whether and when the optimised input vectors make the frozen model predict the
    target sentence; the same from a random start; the nearest real tokens to the optimised
    vectors as a hard prompt; where it failed, the margins and the reachability search.
    Verdicts: "reached" | "not reached"."""
    r = rec["inversion"]
    ri = r["random_init"]
    toks, nearest = r["target_tokens"], r["nearest_tokens"]
    n = len(toks)
    never = sorted(w for w, count in r["word_counts"].items() if count == 0)
    ev_claims, evidence = _evidence(r)
    claims = [
        claim("a2.reached", equal, value=r["success"], other=True),
        claim("a2.at_start", equal, value=r["steps"], other=0),
        claim("a2.random_reached", equal, value=ri["success"], other=True),
        claim("a2.hard_prompt", equal, value=r["hard_prompt_success"], other=True),
        claim("a2.hinge", above, value=r["margin"], threshold=0.0),
        claim("a2.norm_cap", finite, value=r["max_norm"]),
        claim("a2.init_shifted", equal, value=r["init"], other="shifted"),
        claim("a2.init_random", equal, value=r["init"], other="random"),
        claim("a2.init_mean", equal, value=r["init"], other="mean"),
        claim("a2.unseen_words", above, value=len(never), threshold=0),
        claim("a2.several_unseen", above, value=len(never), threshold=1),
        claim("a2.history_cut", above, value=len(r["decoded_history"]), threshold=HISTORY_ROWS),
        *ev_claims,
    ]
    verdict = "reached" if _out(claims)["reached"] else "not reached"
    lh, ce = r["loss_history"], r["ce_history"]
    figures = {
        **{k: r[k] for k in ("target", "steps", "max_steps", "decoded", "lr", "margin",
                             "max_norm", "init", "start_token", "hard_prompt_decoded",
                             "embedding_norm_median")},
        "tokens": toks, "n": n, "never": never, "n_right": r["correct_history"][-1],
        "loss_first": lh[0], "loss_last": lh[-1], "ce_first": ce[0], "ce_last": ce[-1],
        "random_steps": ri["steps"], "random_decoded": ri["decoded"],
        "random_right": ri["n_correct"],
        "norm_min": min(r["inp_norms"]), "norm_max": max(r["inp_norms"]),
        "cos_min": min(r["nearest_cosine"]), "cos_max": max(r["nearest_cosine"]),
        "nearest_same": sum(a == b for a, b in zip(nearest, toks)),
        "history": _history(r, n), "nearest_rows": _nearest(r),
        **evidence,
    }  # fmt: skip
    return Finding(
        "A2", verdict, figures, claims,
        figure=f"positions decoded right at the end (of {n})",
        path="inversion.correct_history.-1", fmt="d",
    )  # fmt: skip

"""Section 02's findings (C1-C5) as the tests use them: a question's full and short answer
rendered from its templates, its claims re-derived from their operands, and its headline
checked as the run records it."""

from __future__ import annotations

import json

from genmod.sections.diffusion_conditional import answers as A
from genmod.sections.findings import Finding, check_claims, render
from genmod.sections.summary import Headline, headline, value_at

#: Each C-question's verdicts.
VERDICTS = {
    "C1": {"all populated", "class empty"},
    "C2": {"class-dependent", "class-blind", "not finite"},
    "C3": {"all inside", "some outside", "none inside"},
    "C4": {"at least 1000", "fewer than 1000"},
    "C5": {"differ", "within noise"},
}


def finding(qid: str, rec: dict) -> Finding:
    """``qid``'s finding for ``rec``; its claims re-derive from their operands."""
    f = A.FINDINGS[qid](rec)
    assert f.verdict in VERDICTS[qid], f.verdict
    assert check_claims({"claims": {qid: [c.to_json() for c in f.claims]}}) == []
    return f


def full(qid: str, rec: dict) -> str:
    """``qid``'s full answer for ``rec``."""
    return render(A.TEMPLATES, finding(qid, rec), "full")


def outcomes(qid: str, rec: dict) -> dict:
    """``qid``'s claim outcomes by short name."""
    return finding(qid, rec).outcomes()


def short(qid: str, rec: dict, verdict: str) -> Headline:
    """``qid``'s headline as the run records it: its verdict, its figure as found in the record
    at its path, one line of answer."""
    f = finding(qid, rec)
    answer = render(A.TEMPLATES, f, "short")
    h = headline(rec, f.path, f.figure, answer, f.verdict, f.fmt, f.reduce)
    assert h.verdict == verdict, h.verdict
    assert h.value == value_at(rec, h.path, h.reduce)
    assert "\n" not in h.answer and 0 < len(h.answer) <= 260, h.answer
    assert " ;" not in h.answer and " ." not in h.answer and " ," not in h.answer, h.answer
    assert h.figure and json.dumps(h.to_json())
    return h

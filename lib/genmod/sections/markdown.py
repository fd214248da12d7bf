"""Small, pure formatting helpers for the answers: numbers and Markdown tables as text."""

from __future__ import annotations

import math
import re
import sys
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar

from genmod.text import plural as plural  # the answers take it from here too

#: While :func:`recording_claims` runs: every comparison :func:`compare` decides.
_CLAIMS: ContextVar[list | None] = ContextVar("genmod_claims", default=None)


def pct(x: float, digits: int = 1) -> str:
    """0.1234 → '12.3 %'."""
    return f"{100 * x:.{digits}f} %"


_MD_SPECIAL = re.compile(r"([`*_\[\]<>$|~])")


def quote(text: str) -> str:
    """A string from a model or a user, quoted (``repr``) for prose, with Markdown's special
    characters escaped: the book's opening quote (a backtick) or a line of ``* * *`` shows as
    itself instead of starting a code span, emphasis or maths."""
    return _MD_SPECIAL.sub(r"\\\1", repr(text))


def _cell(value) -> str:
    """A table cell: a ``|`` in its text (``p(·|c)``) is escaped, or it would split the cell."""
    return re.sub(r"(?<!\\)\|", r"\\|", str(value))


def table(headers: Sequence, rows: Iterable[Sequence]) -> str:
    """A Markdown table."""
    lines = ["| " + " | ".join(map(_cell, headers)) + " |", "|" + "---|" * len(headers)]
    lines += ["| " + " | ".join(map(_cell, r)) + " |" for r in rows]
    return "\n".join(lines)


def pm(value: float, err: float, digits: int = 3) -> str:
    """'1.234 ± 0.005'."""
    return f"{value:.{digits}f} ± {err:.{digits}f}"


def compare(diff: float, err: float, more: str, less: str, same: str = "within the noise") -> str:
    """The word for a measured difference ``diff`` with standard error ``err``: ``same`` when
    |diff| ≤ 2·err (two standard errors), else ``more`` (diff > 0) or ``less``; with no usable
    error (too few values) the difference is not called either way."""
    if not math.isfinite(diff):
        side, word = "same", same
    elif not math.isfinite(err):
        side, word = "untestable", "not testable (too few values)"
    elif abs(diff) <= 2 * err:
        side, word = "same", same
    else:
        side, word = ("more", more) if diff > 0 else ("less", less)
    claims = _CLAIMS.get()
    if claims is not None:
        site = sys._getframe(1).f_code.co_name
        k = sum(c["site"].split("#")[0] == site for c in claims) + 1
        claims.append({"site": f"{site}#{k}", "name": f"{site}#{k}", "rule": "differs",
                       "operands": {"diff": diff, "se": err, "k": 2.0}, "outcome": side,
                       "words": [more, less, same], "side": side})  # fmt: skip
    return word


@contextmanager
def recording_claims() -> Iterator[list[dict]]:
    """Within the block, every :func:`compare` appends the comparison it decided to the
    yielded list: ``site`` (the calling function and the how-manieth comparison it makes,
    e.g. ``u3_answer#2``: the same claim in every run), ``words`` (more, less, same)
    and ``side`` (``more`` | ``less`` | ``same`` | ``untestable``): the word chosen is
    ``words[("more", "less", "same").index(side)]``."""
    token = _CLAIMS.set([])
    try:
        yield _CLAIMS.get()
    finally:
        _CLAIMS.reset(token)


def pooled_se(p1: float, p2: float, n1: int, n2: int | None = None) -> float:
    """Standard error of p1 − p2 for two binomial shares on n1 and n2 points (pooled under
    p1 = p2; n2 defaults to n1); NaN without points."""
    n2 = n1 if n2 is None else n2
    if n1 <= 0 or n2 <= 0:
        return math.nan
    p = (p1 * n1 + p2 * n2) / (n1 + n2)
    return math.sqrt(max(p * (1 - p), 0.0) * (1 / n1 + 1 / n2))

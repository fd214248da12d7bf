"""Small, pure formatting helpers for the answers: numbers and Markdown tables as text."""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence


def pct(x: float, digits: int = 1) -> str:
    """0.1234 → '12.3 %'."""
    return f"{100 * x:.{digits}f} %"


def plural(n: int, word: str, many: str | None = None) -> str:
    """'1 step', '2 steps' (``many`` for irregular plurals)."""
    return f"{n} {word if n == 1 else (many or word + 's')}"


def table(headers: Sequence, rows: Iterable[Sequence]) -> str:
    """A Markdown table."""
    lines = ["| " + " | ".join(map(str, headers)) + " |", "|" + "---|" * len(headers)]
    lines += ["| " + " | ".join(map(str, r)) + " |" for r in rows]
    return "\n".join(lines)


def pm(value: float, err: float, digits: int = 3) -> str:
    """'1.234 ± 0.005'."""
    return f"{value:.{digits}f} ± {err:.{digits}f}"


def compare(diff: float, err: float, more: str, less: str, same: str = "within the noise") -> str:
    """The word for a measured difference ``diff`` with standard error ``err``: ``same`` when
    |diff| ≤ 2·err (two standard errors), else ``more`` (diff > 0) or ``less``; with no usable
    error (too few values) the difference is not called either way."""
    if not math.isfinite(diff):
        return same
    if not math.isfinite(err):
        return "not testable (too few values)"
    if abs(diff) <= 2 * err:
        return same
    return more if diff > 0 else less


def pooled_se(p1: float, p2: float, n1: int, n2: int | None = None) -> float:
    """Standard error of p1 − p2 for two binomial shares on n1 and n2 points (pooled under
    p1 = p2; n2 defaults to n1); NaN without points."""
    n2 = n1 if n2 is None else n2
    if n1 <= 0 or n2 <= 0:
        return math.nan
    p = (p1 * n1 + p2 * n2) / (n1 + n2)
    return math.sqrt(max(p * (1 - p), 0.0) * (1 / n1 + 1 / n2))

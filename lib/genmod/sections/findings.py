"""Findings: what an answer decides, as checked objects; and the templates that say it.

A question's *finding* is a pure function of the section's record (its results.json so far)
returning a :class:`Finding`: the figures the answer quotes, its verdict (one of a few fixed
words per question, so that runs can be counted by it) and its claims. A :class:`Claim` is one
decision with a stable name chosen by its author (``u6.ddim_identical``), the rule that decides
it (:data:`RULES`: a difference against k standard errors, a threshold, an equality), its
operands and its outcome. The outcome is derived once, by the rule, when the claim is made;
results.json records every claim with its operands, and :func:`check_claims` re-derives each
outcome from them (every report build runs it).

The prose lives in Jinja2 templates, one file per question and form (``short``: the direct
answer in a sentence or two; ``full``: the whole answer), under the section's ``templates/``
folder as ``<qid>.<form>.md.j2``. A template sees only the finding: ``f`` (its figures), ``c``
(its claims' outcomes by short name), ``verdict``; it branches on verdicts and claims and
never computes (a test scans the templates for arithmetic), so that a sentence copied from the
page is found whole in one template. Undefined names are errors (``StrictUndefined``).
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

from genmod.sections.markdown import pct, plural, quote

#: The version of results.json's layout (claims with operands and rule; findings).
SCHEMA_VERSION = 2


# ----------------------------------------------------------------------------- rules
def differs(diff: float, se: float, k: float = 2.0) -> str:
    """``"more"`` / ``"less"`` when the difference ``diff`` is beyond ``k`` standard errors
    ``se`` (on its side), ``"same"`` within them (or when ``diff`` is not finite: nothing was
    measured to differ), ``"untestable"`` without a usable standard error."""
    if diff is None or not math.isfinite(diff):
        return "same"
    if se is None or not math.isfinite(se):
        return "untestable"
    if abs(diff) <= k * se:
        return "same"
    return "more" if diff > 0 else "less"


def above(value: float, threshold: float) -> bool:
    """``value > threshold``."""
    return value > threshold


def at_least(value: float, threshold: float) -> bool:
    """``value ≥ threshold``."""
    return value >= threshold


def below(value: float, threshold: float) -> bool:
    """``value < threshold``."""
    return value < threshold


def at_most(value: float, threshold: float) -> bool:
    """``value ≤ threshold``."""
    return value <= threshold


def equal(value: Any, other: Any) -> bool:
    """``value == other`` (exactly: bit-for-bit for numbers)."""
    return value == other


def finite(value: float | None) -> bool:
    """A number was measured and is finite."""
    return value is not None and math.isfinite(value)


#: The rules a claim may use, by name (a claim records its rule's name).
RULES: dict[str, Callable[..., Any]] = {
    f.__name__: f for f in (differs, above, at_least, below, at_most, equal, finite)
}


# ----------------------------------------------------------------------------- claims
@dataclass(frozen=True)
class Claim:
    """One decision of an answer: ``outcome = RULES[rule](**operands)``."""

    name: str  # stable, chosen by its author: "u6.ddim_identical"
    rule: str
    operands: dict[str, Any]
    outcome: Any

    def to_json(self) -> dict:
        return {"name": self.name, "rule": self.rule, "operands": dict(self.operands),
                "outcome": self.outcome}  # fmt: skip


def claim(name: str, rule: Callable[..., Any], **operands) -> Claim:
    """Decide the claim ``name`` by ``rule`` on ``operands`` (the rule must be one of
    :data:`RULES`)."""
    if RULES.get(rule.__name__) is not rule:
        raise ValueError(f"claim {name}: {rule.__name__} is not one of the rules {sorted(RULES)}")
    return Claim(name, rule.__name__, operands, rule(**operands))


def rederive(c: Mapping) -> Any:
    """The outcome of a recorded claim (a :meth:`Claim.to_json` dict), derived again."""
    if c["rule"] not in RULES:
        raise ValueError(f"claim {c['name']}: unknown rule {c['rule']!r}")
    return RULES[c["rule"]](**{k: _from_json(v) for k, v in c["operands"].items()})


_NON_FINITE = {"nan": math.nan, "inf": math.inf, "-inf": -math.inf}


def _from_json(value: Any) -> Any:
    """An operand as recorded: results.json stores non-finite floats as "nan", "inf", "-inf"."""
    return _NON_FINITE.get(value, value) if isinstance(value, str) else value


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, float) and isinstance(b, float) and math.isnan(a) and math.isnan(b):
        return True
    return a == b


def check_claims(results: Mapping) -> list[str]:
    """Every recorded claim of a results.json whose outcome its operands do not give, as
    ``"<qid> <name>: recorded <outcome>, its operands give <outcome>"`` (empty: all hold)."""
    problems = []
    for qid, claims in (results.get("claims") or {}).items():
        for c in claims or []:
            if "rule" not in c:  # a claim recorded by an older genmod: nothing to re-derive
                continue
            again = rederive(c)
            if not _same(again, c["outcome"]):
                problems.append(
                    f"{qid} {c['name']}: recorded {c['outcome']!r}, its operands "
                    f"{c['operands']} give {again!r}"
                )
    return problems


# ----------------------------------------------------------------------------- findings
@dataclass
class Finding:
    """What one question's answer decides: its figures, verdict and claims, and the
    headline figure (``figure``: what it is; ``path``: where it sits in results.json)."""

    qid: str
    verdict: str
    figures: dict[str, Any]
    claims: list[Claim] = field(default_factory=list)
    figure: str = ""
    path: str = ""
    fmt: str = ".4g"
    reduce: str | None = None

    def outcomes(self) -> dict[str, Any]:
        """Each claim's outcome by its short name (``u6.ddim_identical`` → ``ddim_identical``)."""
        return {c.name.split(".", 1)[-1]: c.outcome for c in self.claims}


# ----------------------------------------------------------------------------- templates
def _fmt(value: Any, spec: str = ".3g") -> str:
    if value is None:
        raise ValueError("a template printed a figure that was not measured (None)")
    if isinstance(value, float) and not math.isfinite(value):
        raise ValueError(f"a template printed a non-finite figure ({value})")
    return format(value, spec)


@cache
def _environment(folder: str):
    import jinja2

    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(folder),
        undefined=jinja2.StrictUndefined,
        autoescape=False,
        keep_trailing_newline=False,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters.update(fmt=_fmt, pct=pct, plural=plural, quote=quote)
    return env


def render(folder: Path, finding: Finding, form: str) -> str:
    """The ``form`` (``short`` | ``full``) of ``finding``'s answer, from
    ``folder/<qid>.<form>.md.j2``; whitespace runs are folded so that a template may wrap its
    sentences freely (a blank line still separates paragraphs)."""
    name = f"{finding.qid.lower()}.{form}.md.j2"
    text = (
        _environment(str(folder))
        .get_template(name)
        .render(f=finding.figures, c=finding.outcomes(), verdict=finding.verdict)
    )
    return "\n\n".join(p for p in (_fold(p) for p in text.split("\n\n")) if p)


_BLOCK_LINE = re.compile(r"^\s*([-*]\s|\d+\.\s|\|.*\|\s*$)")  # a list item or table row


def _fold(paragraph: str) -> str:
    """One paragraph's lines joined by single spaces, except the lines of a list or table,
    which keep their own line. Only the line breaks and each line's ends are folded: spaces
    inside a line (say, in quoted model text) stay as rendered."""
    lines: list[str] = []
    for line in paragraph.split("\n"):
        if not line.strip():
            continue
        if lines and not _BLOCK_LINE.match(line):
            lines[-1] = f"{lines[-1].rstrip()} {line.strip()}"
        else:
            lines.append(line.rstrip() if _BLOCK_LINE.match(line) else line.strip())
    return "\n".join(lines)

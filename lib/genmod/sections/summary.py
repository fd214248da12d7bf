"""Each question's short answer: one line, its verdict and its headline figure.

A section's answers module defines, beside ``ANSWERS`` (the full answers),

* ``QUESTIONS``: question id → :class:`Question` (a title of a few words and the question in
  the project's own words), and
* ``HEADLINES``: question id → a function of the section's record returning a
  :class:`Headline`: the direct answer in one or two sentences, the branch it chose
  (``verdict``, one of a few fixed words per question, so that runs can be counted by it), and
  the headline figure with the dotted path where it sits in results.json.

:meth:`genmod.sections.common.Run.answer` records both in results.json (``questions``,
``headlines``); the write-up's "results at a glance" table and its answer-first lines, and the
seed sweep's aggregate, read them from there.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass
from typing import Any


@dataclass(frozen=True)
class Question:
    title: str  # a few words: "Number of sampling steps"
    text: str  # the question in the project's own words


@dataclass(frozen=True)
class Headline:
    answer: str  # the direct answer, one or two sentences of Markdown, no line break
    verdict: str  # the branch the answer took ("identical", "differ", "met", "missed", …)
    figure: str  # what the headline figure is ("max |Δ| between the ten outputs")
    path: str  # where it sits in results.json: dotted keys, list indices as numbers
    value: float | int | None  # the figure, as found at ``path`` (None: not measured)
    fmt: str = ".4g"  # how the figure is printed
    reduce: str | None = None  # "max" | "min" | "mean" of the values at ``path``, or None

    def figure_text(self) -> str:
        return format_value(self.value, self.fmt)

    def to_json(self) -> dict:
        return asdict(self)


def format_value(value: Any, fmt: str = ".4g") -> str:
    if value is None:
        return "—"
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    return format(value, fmt)


def lookup(record: Mapping, path: str) -> Any:
    """The value at the dotted ``path`` of ``record`` (``a.b.0.c``); KeyError if absent."""
    node: Any = record
    for part in path.split("."):
        if isinstance(node, list | tuple):
            try:
                node = node[int(part)]
            except (ValueError, IndexError):
                raise KeyError(f"{path}: no item {part!r}") from None
        elif isinstance(node, Mapping) and part in node:
            node = node[part]
        else:
            raise KeyError(f"{path}: no key {part!r}")
    return node


REDUCTIONS: dict[str, Callable[[list], float]] = {
    "max": max,
    "min": min,
    "mean": lambda v: sum(v) / len(v),
}


def value_at(record: Mapping, path: str, reduce: str | None = None) -> Any:
    """The figure at ``path``, reduced (``max``/``min``/``mean`` over a list or a dict's
    values) when ``reduce`` is given."""
    value = lookup(record, path)
    if reduce is None:
        return value
    if reduce not in REDUCTIONS:
        raise ValueError(f"reduce={reduce!r}: accepted {', '.join(REDUCTIONS)} or None")
    values = list(value.values()) if isinstance(value, Mapping) else list(value)
    return REDUCTIONS[reduce](values)


def headline(
    record: Mapping,
    path: str,
    figure: str,
    answer: str,
    verdict: str,
    fmt: str = ".4g",
    reduce: str | None = None,
) -> Headline:
    """A :class:`Headline` whose value is read from ``record`` at ``path`` (so that it is the
    recorded figure, never a retyped one), reduced by ``reduce`` when the record holds a list
    or a per-class dict (say the largest gap: ``reduce="max"``)."""
    value = value_at(record, path, reduce)
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise TypeError(f"headline {path}: {value!r} is not a number")
    return Headline(answer, verdict, figure, path, value, fmt, reduce)

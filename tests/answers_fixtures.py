"""Shared helpers for the answers and headlines tests of the sections: changing a hand-made
record at a path, and the checks every short answer (headline) must pass."""

from __future__ import annotations

import json
from collections.abc import Sequence
from types import ModuleType

from genmod.sections.summary import Headline, value_at


def set_at(record, keys: Sequence[str], value) -> None:
    """Set ``value`` at the path ``keys`` of a nested record of dicts and lists (a list's
    index given as a string: ``["probes", "0", "x"]``)."""
    *head, last = keys
    node = record
    for k in head:
        node = node[int(k)] if isinstance(node, list) else node[k]
    if isinstance(node, list):
        node[int(last)] = value
    else:
        node[last] = value


def check_headline(
    answers: ModuleType, verdicts: dict[str, set[str]], qid: str, rec: dict, verdict: str
) -> Headline:
    """The headline of ``qid`` for ``rec`` in the section module ``answers``: its verdict (one
    of ``verdicts[qid]``), its figure as found in the record, one line of answer; the full
    answer still renders for the same record."""
    h = answers.HEADLINES[qid](rec)
    assert isinstance(h, Headline)
    assert h.verdict == verdict and verdict in verdicts[qid]
    assert h.value == value_at(rec, h.path, h.reduce)
    assert "\n" not in h.answer and 0 < len(h.answer) <= 240, h.answer
    assert h.figure and json.dumps(h.to_json())
    assert answers.ANSWERS[qid](rec)
    return h

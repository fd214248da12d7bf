"""The short answers' plumbing: paths into a record, and the questions as documented."""

from __future__ import annotations

import importlib
import json
import re

import pytest
from genmod.paths import REPO_ROOT
from genmod.sections import summary

SECTIONS = ("diffusion_unconditional", "diffusion_conditional", "autoregressive_gpt")
HEADING = re.compile(r"^## ((?:U|C|A)\d+|Bonus) — (.*)$", re.M)
ROW = re.compile(r"^\|\s*((?:U|C|A)\d+|Bonus)\s*\|\s*(.+?)\s*\|\s*$", re.M)


def test_lookup_and_reduce():
    rec = {"a": {"b": [1.0, {"c": 3}]}, "per_class": {"0": 0.2, "1": 0.5}}
    assert summary.lookup(rec, "a.b.0") == 1.0
    assert summary.lookup(rec, "a.b.1.c") == 3
    assert summary.value_at(rec, "per_class", "max") == 0.5
    assert summary.value_at(rec, "per_class", "mean") == pytest.approx(0.35)
    with pytest.raises(KeyError, match="a.x"):
        summary.lookup(rec, "a.x")
    with pytest.raises(ValueError, match="reduce='median'"):
        summary.value_at(rec, "per_class", "median")


def test_headline_reads_its_figure_from_the_record():
    rec = {"gap": {"0": 0.01, "1": 0.04}}
    h = summary.headline(rec, "gap", "largest gap", "Missed for class 1.", "missed", ".3f", "max")
    assert h.value == 0.04 and h.figure_text() == "0.040" and h.to_json()["reduce"] == "max"
    with pytest.raises(TypeError, match="not a number"):
        summary.headline(rec, "gap", "gap", "…", "x")


def _documented() -> dict[str, str]:
    return dict(ROW.findall((REPO_ROOT / "docs" / "exercise.md").read_text()))


@pytest.mark.parametrize("section", SECTIONS)
def test_questions_are_the_documented_ones(section):
    answers = importlib.import_module(f"genmod.sections.{section}.answers")
    questions = answers.QUESTIONS
    findings = getattr(answers, "FINDINGS", {})
    assert set(questions) == set(answers.HEADLINES) | (set(findings) & set(questions))
    assert set(questions) <= set(answers.ANSWERS) | set(findings)
    docs = _documented()
    for qid, q in questions.items():
        assert q.text == docs[qid], qid
    # the titles are the words after the id in the notebook's question headings
    (notebook,) = (REPO_ROOT / "notebooks").glob(f"*_{section}.ipynb")
    titles = {}
    for cell in json.loads(notebook.read_text("utf-8"))["cells"]:
        if cell["cell_type"] == "markdown":
            for qid, title in HEADING.findall("".join(cell["source"])):
                titles[qid] = title.strip()
    assert titles == {qid: q.title for qid, q in questions.items()}


def test_every_documented_question_has_a_short_answer():
    covered = set()
    for section in SECTIONS:
        covered |= set(importlib.import_module(f"genmod.sections.{section}.answers").QUESTIONS)
    assert covered == set(_documented())

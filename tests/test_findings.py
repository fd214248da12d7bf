"""Findings and their templates: claims decided once by a named rule, re-derivable from the
operands results.json records, prose rendered only from the finding."""

import math

import pytest
from genmod.sections import findings as F


def test_rules_decide_on_both_sides_of_their_comparison():
    assert F.differs(0.5, 0.1) == "more" and F.differs(-0.5, 0.1) == "less"
    assert F.differs(0.15, 0.1) == "same" and F.differs(0.25, 0.1) == "more"
    assert F.differs(0.15, 0.1, k=1) == "more"
    assert F.differs(0.5, math.nan) == "untestable" and F.differs(math.nan, 0.1) == "same"
    assert F.above(2, 1) and not F.above(1, 1) and F.at_least(1, 1) and not F.at_least(0, 1)
    assert F.below(0, 1) and not F.below(1, 1) and F.at_most(1, 1) and not F.at_most(2, 1)
    assert F.equal(0.0, 0.0) and not F.equal(1e-300, 0.0)
    assert F.finite(1.0) and not F.finite(math.inf) and not F.finite(None)


def test_a_claim_records_its_rule_operands_and_outcome_and_rederives():
    c = F.claim("u6.ddim_identical", F.equal, value=0.0, other=0.0)
    assert c.outcome is True and c.to_json() == {
        "name": "u6.ddim_identical", "rule": "equal",
        "operands": {"value": 0.0, "other": 0.0}, "outcome": True,
    }  # fmt: skip
    assert F.rederive(c.to_json()) is True
    # as read back from results.json, where non-finite floats are strings
    from genmod.io import to_jsonable

    nan_se = to_jsonable(F.claim("u2.trend", F.differs, diff=0.0, se=math.nan).to_json())
    assert nan_se["operands"]["se"] == "nan" and F.rederive(nan_se) == "untestable"
    with pytest.raises(ValueError, match="not one of the rules"):
        F.claim("x.y", lambda value: True, value=1)


def test_check_claims_finds_a_tampered_operand_and_skips_older_records():
    c = F.claim("u4.worse", F.differs, diff=0.3, se=0.1).to_json()
    results = {"claims": {"U4": [c, {"site": "u4#1", "words": [], "side": "same"}]}}
    assert F.check_claims(results) == []
    c["operands"]["diff"] = 0.1  # tampered: the recorded "more" no longer follows
    (problem,) = F.check_claims(results)
    assert problem.startswith("U4 u4.worse: recorded 'more'") and "give 'same'" in problem


def test_render_reads_only_the_finding_and_folds_lines(tmp_path):
    (tmp_path / "q1.full.md.j2").write_text(
        "{% if c.big %}Big: {{ f.x | fmt('.2f') }}\nover {{ f.n | plural('run') }}.\n"
        "{% else %}Small.{% endif %}\n|x| is kept\n\n- one\n- two {{ verdict }}\n\n| a |\n|---|\n"
    )
    f = F.Finding(
        "Q1", "yes", {"x": 1.234, "n": 3}, [F.claim("q1.big", F.above, value=2, threshold=1)]
    )
    assert (
        F.render(tmp_path, f, "full")
        == "Big: 1.23 over 3 runs. |x| is kept\n\n- one\n- two yes\n\n| a |\n|---|"
    )
    f.claims = [F.claim("q1.big", F.above, value=0, threshold=1)]
    assert F.render(tmp_path, f, "full").startswith("Small.")
    (tmp_path / "q1.short.md.j2").write_text("{{ f.missing }}")
    with pytest.raises(Exception, match="missing"):
        F.render(tmp_path, f, "short")
    (tmp_path / "q3.full.md.j2").write_text("Drawn:\n{{ f.s | quote }}\nend.")
    drawn = F.render(tmp_path, F.Finding("Q3", "", {"s": "Alice  The\n and"}), "full")
    assert drawn == "Drawn: 'Alice  The\\n and' end."  # the sample's own spaces kept
    (tmp_path / "q2.short.md.j2").write_text("{{ f.x | fmt }}")
    with pytest.raises(ValueError, match="non-finite"):
        F.render(tmp_path, F.Finding("Q2", "", {"x": math.inf}), "short")


def test_the_report_build_stops_when_a_recorded_claim_disagrees_with_its_numbers(tmp_path):
    import json

    from genmod.report.base import ReportError
    from genmod.report.build import BuildOptions, build_report

    nbs, out = tmp_path / "nb", tmp_path / "out"
    (out / "01_x").mkdir(parents=True)
    nbs.mkdir()
    for d in (nbs, out):
        (d / "01_x.ipynb").write_text(json.dumps({"cells": [], "metadata": {}, "nbformat": 4,
                                                  "nbformat_minor": 5}))  # fmt: skip
    c = F.claim("u6.ddim_identical", F.equal, value=0.0, other=0.0).to_json()
    c["operands"]["value"] = 0.5  # tampered after the run
    results = {"schema": F.SCHEMA_VERSION, "claims": {"U6": [c]}}
    (out / "01_x" / "results.json").write_text(json.dumps(results))
    opts = BuildOptions(sections=["01_x"], out_dir=out, notebooks_dir=nbs, execute=False, pdf=False)
    with pytest.raises(ReportError, match="U6 u6.ddim_identical: recorded True"):
        build_report(opts)
    assert not (out / "report.html").exists()

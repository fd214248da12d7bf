"""Section 02's answers about the data: the departure from the exercise's 1,000–3,000 points
(C1), memorisation and the stored data-size study (C5); every comparative sentence on both
sides of its comparison."""

from __future__ import annotations

import copy

import pytest
from conditional_findings_fixtures import full, outcomes
from diffusion_conditional_fixtures import K, make_record, memo


# --------------------------------------------------------------------------- C1
def test_answer_c1_departure_only_outside_the_exercise_range():
    for n in (1000, 2000, 3000):
        text = full("C1", make_record(params__n_points=n))
        assert "departs from" not in text
        assert (
            "The exercise asks for 1,000 to 3,000 points: this run's data size follows it." in text
        )
        o = outcomes("C1", make_record(params__n_points=n))
        assert o["at_least_exercise"] and o["at_most_exercise"]
    text = full("C1", make_record(params__n_points=100_000))
    assert "100,000 training points" in text and "follows it" not in text
    assert (
        "The exercise asks for 1,000 to 3,000 points, so this run departs from the exercise's "
        "data (100,000 points, 33.3 times its maximum)." in text
    )
    assert not outcomes("C1", make_record(params__n_points=3001))["at_most_exercise"]
    text = full("C1", make_record(params__n_points=3001))
    assert "(3,001 points, 1.0 times its maximum)" in text
    text = full("C1", make_record(params__n_points=999))
    assert "(999 points, below its minimum of 1,000)" in text
    assert not outcomes("C1", make_record(params__n_points=999))["at_least_exercise"]


# --------------------------------------------------------------------------- memorisation
def test_answer_c5_memorisation_ratios_against_the_oracle_and_the_target():
    text = full("C5", make_record())
    assert "**Memorisation.**" in text and "samples (100 per class)" in text
    assert "learned 0: 0.95 ± 0.04, 1: 0.82 ± 0.04, 2: 0.64 ± 0.04" in text
    assert "the oracle under the same noise 0: 0.98 ± 0.04, 1: 1.01 ± 0.04" in text
    assert (
        "smaller than the oracle's beyond the noise (two standard errors) for classes 1, 2:" in text
    )
    assert "It is larger than the oracle's beyond the noise for class 4." in text
    assert (
        "The ratio is below the target of 0.9 for classes 1, 2 of the 5 rated (smallest 0.64, "
        "class 2, small square, 35 training points)." in text
    )
    assert "ratio is at least" not in text and "No ratio for" not in text
    o = outcomes("C5", make_record())
    assert o["mem_vs_oracle_1"] == "less" and o["mem_vs_oracle_4"] == "more"
    assert o["mem_vs_oracle_0"] == "same" and not o["mem_target_2"] and o["mem_target_0"]


def test_answer_c5_memorisation_within_the_noise_and_above_the_target():
    rec = make_record()
    for c in range(K):
        rec["memorisation"]["learned"][str(c)] = memo(0.97, 100)
        rec["memorisation"]["oracle"][str(c)] = memo(1.0, 100)
    text = full("C5", rec)
    assert "nowhere smaller than the oracle's beyond the noise" in text
    assert "larger than the oracle's beyond the noise" not in text
    assert "Every rated class's ratio is at least the target of 0.9." in text
    assert "The ratio is below" not in text


def test_answer_c5_memorisation_of_a_class_without_training_points():
    rec = make_record()
    for who in ("learned", "oracle"):
        rec["memorisation"][who]["2"] = memo(float("nan"), 0, se=float("nan"))
    text = full("C5", rec)
    assert "No ratio for class 2: no training point fell there." in text
    assert "2: nan" not in text and "for class 1 of the 4 rated (smallest 0.82, class 1" in text
    assert outcomes("C5", rec)["mem_empty_2"] and "mem_target_2" not in outcomes("C5", rec)


def test_answer_c5_reads_the_memorisation_record_without_default():
    rec = make_record()
    del rec["memorisation"]
    with pytest.raises(KeyError, match="memorisation"):
        full("C5", rec)


# --------------------------------------------------------------------------- the study
def spread3(mean, lo, hi):
    return {"mean": mean, "min": lo, "max": hi}


def study_record(matches=True, met=(1, 3)) -> dict:
    """A data-size study record (the workflow's summary) at two sizes, 3 seeds each."""
    rows = [
        {
            "n_points": n,
            "seeds": [0, 1, 2],
            "max_gap": spread3(g, g - 0.004, g + 0.004),
            "min_improved": spread3(0.97, 0.965, 0.975),
            "max_lik_err": spread3(e, e - 0.02, e + 0.02),
            "min_memorisation": spread3(m, m - 0.03, m + 0.03),
            "min_memorisation_oracle": spread3(0.93, 0.9, 0.95),
            "seeds_meeting_targets": k,
        }
        for n, g, e, m, k in (
            (1000, 0.021, 0.41, 0.62, met[0]),
            (100_000, 0.014, 0.06, 0.97, met[1]),
        )
    ]
    return {
        "stored": True,
        "source": "lib/genmod/sections/diffusion_conditional/studies/data_size.json",
        "command": "python -m genmod.sections.diffusion_conditional.study",
        "commit": "0123456789abcdef",
        "uncommitted_changes": False,
        "date": "2026-12-05",
        "device": "cpu",
        "sizes": [1000, 100_000],
        "seeds": [0, 1, 2],
        "adam_steps": 12000,
        "T": 1000,
        "targets": {
            "min_improved": 0.95,
            "max_gap": 0.03,
            "max_lik_err": 0.15,
            "min_memorisation": 0.9,
        },  # fmt: skip
        "matches": matches,
        "differences": [] if matches else ["hidden", "Adam steps"],
        "rows": rows,
        "runs": [],
    }


def test_answer_c5_study_at_this_runs_setting():
    text = full("C5", make_record(data_size_study=study_record()))
    assert (
        "**Data size.** At this run's setting (its settings, T = 1000 and 12,000 Adam steps), a "
        "study stored in the repository (`lib/genmod/sections/diffusion_conditional/studies/"
        "data_size.json`, made by `python -m genmod.sections.diffusion_conditional.study` at "
        "commit 0123456789 on 2026-12-05, device cpu, seeds 0, 1, 2 at each size) measured"
    ) in text
    assert "another setting" not in text and "uncommitted" not in text
    assert (
        "trained for 12,000 Adam steps on each of 1,000, 100,000 points, the model's largest "
        "oracle − learned gap is, averaged over the seeds, 0.021 at 1,000 points and 0.014 at "
        "100,000, the largest interior log-density error 0.41 and 0.06 nats, and the smallest "
        "memorisation ratio 0.62 and 0.97; every seed meets all four targets at 100,000 points"
        in text
    )
    assert "every seed meets all four targets at 100,000 points" in text
    assert "| 1,000 | 3 | 0.021 (0.017–0.025) | 0.970 (0.965–0.975) | 0.41 (0.39–0.43) |" in text
    assert "| 0.62 (0.59–0.65) | 0.93 (0.90–0.95) | 1 of 3 |" in text


def test_answer_c5_study_at_another_setting():
    st = study_record(matches=False, met=(0, 2))
    st["uncommitted_changes"] = True
    text = full("C5", make_record(data_size_study=st))
    assert "With another setting than this run's (it differs in hidden, Adam steps)" in text
    assert "measured what the data size costs that setting" in text
    assert "At this run's setting" not in text
    assert "commit 0123456789 plus uncommitted changes" in text
    assert "at no size does every seed meet all four targets" in text


def test_answer_c5_without_a_stored_study():
    text = full("C5", make_record())
    assert (
        "**Data size.** No data-size study is stored in this checkout "
        "(`lib/genmod/sections/diffusion_conditional/studies/data_size.json`, made by "
        "`python -m genmod.sections.diffusion_conditional.study`), so this answer cites none."
    ) in text
    assert "measured what the data size costs" not in text
    assert not outcomes("C5", make_record())["study_stored"]


def test_workflow_records_a_missing_study_as_not_stored(tmp_path):
    from genmod.sections.diffusion_conditional import studies as S
    from genmod.sections.diffusion_conditional import workflow as W

    step = W.data_size_study({}, None, None, path=tmp_path / "none.json")
    assert step.records == {"data_size_study": {"stored": False, "source": S.STUDY_SOURCE,
                                                "command": S.STUDY_COMMAND}}  # fmt: skip
    rec = make_record(data_size_study=step.records["data_size_study"])
    assert "No data-size study is stored" in full("C5", rec)


def test_answer_c5_study_claims_on_both_sides():
    o = outcomes("C5", make_record(data_size_study=study_record()))
    assert o["study_stored"] and o["study_matches"] and o["study_any_size_met"]
    assert not o["study_uncommitted"]
    st = study_record(matches=False, met=(0, 2))
    st["uncommitted_changes"] = True
    o = outcomes("C5", make_record(data_size_study=st))
    assert not o["study_matches"] and not o["study_any_size_met"] and o["study_uncommitted"]


def _study_table(rec):
    text = full("C5", rec).split("**Data size.**")[1].split("**Spread")[0]
    return [
        x for x in text.splitlines() if x.startswith("| training points") or x.startswith("| 1")
    ]


def test_study_table_has_a_row_per_size():
    rec = make_record(data_size_study=study_record())
    lines = _study_table(rec)[1:]
    assert [x.split(" | ")[0] for x in lines] == ["| 1,000", "| 100,000"]
    st = copy.deepcopy(rec["data_size_study"])
    st["targets"]["max_gap"] = 0.05
    assert "(≤ 0.05)" in _study_table(make_record(data_size_study=st))[0]

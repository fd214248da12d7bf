"""Section 02's short answers (headlines) of C1-C5: every verdict on a hand-made record that
chooses it, the answer's key words, agreement with the full answer, and the headline figure
read from the record at its path (C6's and the bonus's are in
test_headlines_diffusion_conditional_probes)."""

from __future__ import annotations

import pytest
from conditional_findings_fixtures import VERDICTS, full, short
from diffusion_conditional_fixtures import (
    K,
    make_record,
    no_property_record,
    per_class,
    spread,
    steering_less,
)
from genmod.sections.diffusion_conditional import answers as A

IDS = ["C1", "C2", "C3", "C4", "C5", "C6", "Bonus"]


@pytest.fixture
def rec():
    return make_record()


# --------------------------------------------------------------------------- registry
def test_headline_registry_ids():
    assert set(A.QUESTIONS) == set(IDS)
    assert set(A.QUESTIONS) == set(A.HEADLINES) | (set(A.FINDINGS) & set(A.QUESTIONS))
    for qid in VERDICTS:
        assert qid in A.FINDINGS and qid not in A.HEADLINES and qid not in A.ANSWERS


# --------------------------------------------------------------------------- C1
def test_headline_C1_all_populated(rec):
    h = short("C1", rec, "all populated")
    assert h.path == "classes.train_counts" and h.reduce == "min" and h.value == 35
    assert "1,000 points uniform on the square" in h.answer and "span a factor 24" in h.answer
    assert "the fewest points, 35, fall in class 2 (small square)" in h.answer
    assert "exercise" not in h.answer
    assert "fewest training points, 35, fall in class 2 (small square)" in full("C1", rec)


def test_headline_C1_class_empty():
    rec = make_record(classes__train_counts=[555, 65, 0, 84, 261])
    h = short("C1", rec, "class empty")
    assert h.value == 0 and "class 2 (small square) got no training point" in h.answer
    assert "fewest points" not in h.answer
    assert "fewest training points, 0, fall in class 2" in full("C1", rec)
    rec = make_record(classes__train_counts=[555, 0, 0, 84, 261])
    h = short("C1", rec, "class empty")
    assert "classes 1, 2 (thin strip, small square) got no training point" in h.answer


def test_headline_C1_departure_from_the_exercise():
    h = short("C1", make_record(params__n_points=100_000), "all populated")
    assert h.answer.startswith("100,000 points uniform on the square (more than the exercise's")
    h = short("C1", make_record(params__n_points=500), "all populated")
    assert "(fewer than the exercise's 1,000)" in h.answer


# --------------------------------------------------------------------------- C2
def test_headline_C2_class_dependent(rec):
    h = short("C2", rec, "class-dependent")
    assert h.path == "conditioning.class_effect" and h.reduce == "max" and h.value == 0.422
    assert "`Embedding(5, 16)`" in h.answer and "first of 2 hidden layers" in h.answer
    assert "D(x_t, t, c)" in h.answer and "by up to 0.422 (t = 0.9)" in h.answer
    assert "(largest at t = 0.9)" in full("C2", rec)


def test_headline_C2_class_blind():
    effect = {"0.1": 0.0, "0.5": 0.0, "0.9": 0.0}
    rec = make_record(conditioning__class_effect=effect, conditioning__n_layers=1)
    h = short("C2", rec, "class-blind")
    assert h.value == 0.0 and "ε̂ does not change with c" in h.answer
    assert "first of 1 hidden layer;" in h.answer and "moves ε̂" not in h.answer
    assert "does not depend on the class" in full("C2", rec)


# --------------------------------------------------------------------------- C3
def test_headline_C3_some_outside(rec):
    h = short("C3", rec, "some outside")
    assert h.path == "trajectories.in_region" and h.reduce == "mean" and h.value == 0.4
    assert "2 of 5 DDIM runs (one per class) end in their class's region" in h.answer
    assert "(classes 1, 2, 3 outside)" in h.answer
    assert "over 20 shared starts" in h.answer and "do for classes 0, 1, 4" in h.answer
    assert "(within the noise: 2, 3)" in h.answer and "fewer" not in h.answer
    text = full("C3", rec)
    assert "2 of 5 end in their class's region" in text
    assert "beyond the noise, for classes 0, 1, 4" in text


def test_headline_C3_all_inside():
    rec = make_record(trajectories__in_region=[True] * K)
    h = short("C3", rec, "all inside")
    assert h.value == 1.0 and h.answer.startswith("5 of 5 DDIM runs")
    assert "outside" not in h.answer
    assert "5 of 5 end in their class's region" in full("C3", rec)


def test_headline_C3_none_inside_and_steering_less():
    pc = steering_less()
    rec = make_record(trajectories__in_region=[False] * K, trajectories__steering__per_class=pc)
    h = short("C3", rec, "none inside")
    assert h.value == 0.0 and h.answer.startswith("0 of 5 DDIM runs")
    assert "outside)" not in h.answer
    assert "for no class, beyond the noise (**fewer**: 0, 1, 2, 3, 4)." in h.answer
    assert "**less** often" in full("C3", rec)
    for c in range(K):
        pc[str(c)].update(hits_own=5, hits_other=20)  # 25 % against 25 %
    rec = make_record(trajectories__steering__per_class=pc)
    h = short("C3", rec, "some outside")
    assert h.answer.endswith("for no class, beyond the noise (within the noise: 0, 1, 2, 3, 4).")


# --------------------------------------------------------------------------- C4
def test_headline_C4_fewer_than_1000(rec):
    h = short("C4", rec, "fewer than 1000")
    assert h.path == "samples.class_accuracy" and h.reduce == "mean"
    assert h.value == pytest.approx(0.348)
    assert "500 samples (100 per class), fewer than the 1000 asked" in h.answer
    assert "0.348 land in their class's region (oracle 0.984, improved sampler 0.390)" in h.answer
    text = full("C4", rec)
    assert "500 in all" in text and "learned 0.348" in text and "improved sampler 0.390" in text


def test_headline_C4_at_least_1000():
    rec = make_record(settings__samples_per_class=200)
    h = short("C4", rec, "at least 1000")
    assert "1000 samples (200 per class);" in h.answer and "fewer" not in h.answer
    assert "(1000 in all)" in full("C4", rec)


# --------------------------------------------------------------------------- C5
def test_headline_C5_differ_with_strong_properties(rec):
    h = short("C5", rec, "differ")
    assert h.path == "samples.class_accuracy" and h.reduce == "min" and h.value == 0.10
    assert "Class 3 (two pieces) is hardest (0.100 vs 0.640 for class 0), beyond" in h.answer
    assert "misses go with more boundary per area and a smaller sample fill" in h.answer
    assert "edge share within the noise of the data's (0.300 vs 0.300)" in h.answer
    text = full("C5", rec)
    assert "differ by 0.540, beyond the noise" in text
    assert "goes with a lower accuracy: more boundary length per area" in text
    assert "a smaller fill of the learned samples" in text
    assert "within the noise of a true sample's" in text


def test_headline_C5_names_every_class_tied_at_the_lowest_accuracy(rec):
    assert "Class 3 (two pieces) is hardest" in short("C5", rec, "differ").answer
    rec["samples"]["class_accuracy"]["2"] = 0.10  # classes 2 and 3 now share the lowest
    h = short("C5", rec, "differ")
    assert "Classes 2, 3 are hardest (0.100 each vs 0.640 for class 0), beyond" in h.answer
    assert "Class 3 (two pieces) is hardest" not in h.answer


def test_headline_C5_within_noise_and_no_strong_property():
    rec = make_record(samples__class_accuracy=per_class([0.50, 0.52, 0.48, 0.51, 0.49]))
    h = short("C5", rec, "within noise")
    assert h.value == 0.48 and "Class 2 (small square) is hardest" in h.answer
    assert "(0.480 vs 0.520 for class 1), within the noise" in h.answer
    assert "differ by 0.040, within the noise" in full("C5", rec)
    # no property orders the classes (the existing C5 test's record)
    rec = no_property_record()
    h = short("C5", rec, "differ")
    assert "no property has |ρ| ≥ 0.9 (largest: " in h.answer and "misses go" not in h.answer
    assert "No measured property orders the classes as the miss rate does" in full("C5", rec)


def test_headline_C5_within_noise_equal_accuracy():
    rec = make_record(samples__class_accuracy=per_class([0.5] * K))
    h = short("C5", rec, "within noise")
    assert h.answer.startswith("Every class has the same accuracy (0.500): none is harder; edge")
    assert "same for every class, so no property can order them" in full("C5", rec)


@pytest.mark.parametrize(
    "edge, words, full_words",
    [
        (0.1, "samples pulled in from the edges (edge share 0.100 vs 0.400)", "pulled in"),
        (0.7, "samples pile up at the edges (edge share 0.700 vs 0.400)", "pile up"),
        (0.41, "edge share within the noise of the data's (0.410 vs 0.400)", "within the noise"),
    ],
)
def test_headline_C5_differ_spread_each_way(edge, words, full_words):
    learned = per_class([spread(edge=edge, edge_true=0.4) for _ in range(K)])
    rec = make_record(analysis__spread_learned=learned)
    h = short("C5", rec, "differ")
    assert words in h.answer
    assert full_words in full("C5", rec).split("**Spread vs region.**")[1].split("**Improved")[0]

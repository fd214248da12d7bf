"""The shared section run: setup, records as plain JSON, answers rendered from records."""

import json
import types

import numpy as np
import pytest
import torch
from genmod import params as P
from genmod.sections import common


def _config():
    cfg = types.ModuleType("fake_config")
    cfg.SECTION = "fake"
    cfg.PARAMETERS = ("device", "seed", "profile", "results_path", "epochs")
    profiles = {p: {"epochs": 3} for p in P.PROFILES}
    cfg.resolve_params = lambda given: P.resolve(
        given,
        profiles,
        {"epochs": lambda n, v: P.check_int(n, v, 1), "results_path": P.check_str},
    )
    cfg.settings = lambda profile: types.SimpleNamespace(cpu_threads=None, to_json=lambda: {"k": 1})
    return cfg


def _ns(tmp_path, **over):
    ns = dict(
        device="cpu", seed=3, profile="smoke", results_path=str(tmp_path / "r.json"), epochs=None
    )
    ns.update(over)
    return ns


def test_start_record_answer_finish(tmp_path, capsys):
    answers = {
        "Q1": lambda rec: f"loss {rec['train']['loss']:.2f}, {len(rec['train']['h'])} values"
    }
    run = common.start(_config(), answers, _ns(tmp_path))
    assert run.params["epochs"] == 3 and run.device == torch.device("cpu")
    stored = run.record("train", {"loss": np.float32(0.25), "h": torch.arange(4)})
    assert stored == {"loss": 0.25, "h": [0, 1, 2, 3]}  # plain JSON, not numpy/torch
    with run.stage("train"):
        pass
    run.answer("Q1")
    assert run.finish() is None  # the notebook's last cell echoes nothing
    data = json.loads((tmp_path / "r.json").read_text())
    assert data["answers"] == {"Q1": "loss 0.25, 4 values"}
    assert data["section"] == "fake" and data["params"]["seed"] == 3
    assert data["settings"] == {"k": 1} and "train" in data["runtime"]["seconds"]
    # the answer is the same function of the record read back from the file
    assert answers["Q1"](data) == data["answers"]["Q1"]


def test_start_rejects_bad_parameter_before_work(tmp_path):
    with pytest.raises(ValueError, match=r"^epochs=0: expected an integer ≥ 1$"):
        common.start(_config(), {}, _ns(tmp_path, epochs=0))


def test_start_names_missing_parameter(tmp_path):
    ns = _ns(tmp_path)
    del ns["epochs"]
    with pytest.raises(ValueError, match="epochs"):
        common.start(_config(), {}, ns)


def test_compare_words():
    from genmod.sections.markdown import compare

    assert compare(0.01, 0.01, "higher", "lower") == "within the noise"
    assert compare(0.05, 0.01, "higher", "lower") == "higher"
    assert compare(-0.05, 0.01, "higher", "lower") == "lower"
    # no usable error (one value): no direction is claimed
    assert compare(0.05, float("nan"), "higher", "lower") == "not testable (too few values)"


def _two_claims(rec):
    from genmod.sections.markdown import compare

    a = compare(rec["d"], 0.01, "higher", "lower")
    return f"{a}, {compare(0.0, 0.01, 'higher', 'lower', 'same')}"


def test_answers_record_the_comparisons_they_decide(tmp_path):
    from genmod.sections.markdown import compare, recording_claims

    with recording_claims() as claims:
        compare(0.05, 0.01, "up", "down")
        assert _two_claims({"d": -1.0}) == "lower, same"
    sides = ("more", "less", "same")
    assert [(c["site"], c["side"], c["words"][sides.index(c["side"])]) for c in claims] == [
        ("test_answers_record_the_comparisons_they_decide#1", "more", "up"),
        ("_two_claims#1", "less", "lower"),
        ("_two_claims#2", "same", "same"),
    ]
    assert claims[0]["words"] == ["up", "down", "within the noise"]
    assert claims[1]["words"] == ["higher", "lower", "within the noise"]
    compare(1.0, 0.1, "a", "b")  # outside the block nothing is recorded
    assert len(claims) == 3
    run = common.start(_config(), {"Q1": _two_claims}, _ns(tmp_path))
    run.record("d", 0.5)
    run.answer("Q1")
    got = run.results["claims"]["Q1"]
    assert [(c["site"], c["side"]) for c in got] == [
        ("_two_claims#1", "more"),
        ("_two_claims#2", "same"),
    ]


def test_pooled_se():
    import math

    from genmod.sections.markdown import pooled_se

    assert pooled_se(0.5, 0.5, 100) == pytest.approx(math.sqrt(0.25 * 2 / 100))
    assert pooled_se(0.9, 0.7, 100, 300) == pytest.approx(
        math.sqrt(0.75 * 0.25 * (1 / 100 + 1 / 300))
    )
    assert math.isnan(pooled_se(0.5, 0.5, 0))


def test_markdown_table_escapes_a_pipe_in_a_cell():
    """A ``|`` inside a header or cell (``p(·|c)``) would split it into two columns."""
    import mistune  # nbconvert's Markdown renderer
    from genmod.sections.markdown import table

    t = table(["class", "p(·|c)", "already \\| escaped"], [["0", "a|b", "x"]])
    assert t.splitlines()[0] == "| class | p(·\\|c) | already \\| escaped |"
    html = mistune.create_markdown(plugins=["table"])(t)
    assert html.count("<th>") == 3 and html.count("<td>") == 3 and "p(·|c)" in html


def test_parse_value_reads_json_then_python_literals_then_text():
    """One parser for ``-p``, ``--param`` and ``--set`` values."""
    assert P.parse_value("500") == 500 and P.parse_value("0.2") == 0.2
    assert P.parse_value("true") is True and P.parse_value("False") is False
    assert P.parse_value("[1, 2]") == [1, 2] and P.parse_value("(1, 2)") == (1, 2)
    assert P.parse_value("cpu") == "cpu"


def test_step_times_the_step_and_stores_each_of_its_records(tmp_path):
    run = common.start(_config(), {}, _ns(tmp_path))
    calls = []

    def draw(n, *, scale):
        calls.append(n)
        return common.Step({"a": {"n": n}, "b": [torch.tensor(scale)]})

    out = run.step(draw, 2, scale=1.5)
    assert calls == [2] and out.records["a"] == {"n": 2}
    assert run.results["a"] == {"n": 2} and run.results["b"] == [1.5]  # made plain JSON
    assert "draw" in run.timer.seconds
    run.step(draw, 3, scale=0.0, stage="again")
    assert run.results["a"] == {"n": 3} and set(run.timer.seconds) == {"draw", "again"}


def test_named_streams_do_not_depend_on_the_order_of_the_draws():
    from genmod.runtime import Streams

    s = Streams(4, {"a": 0, "b": 1}, scale=1000)
    first = torch.rand(3, generator=s.generator("b"))
    torch.rand(5, generator=s.generator("a"))
    assert torch.equal(torch.rand(3, generator=s.generator("b")), first)
    assert s.seed_of("a") == 4000 and s.seed_of("b") == 4001
    with pytest.raises(KeyError, match="'c': not one of"):
        s.generator("c")
    with pytest.raises(ValueError, match="share an offset"):
        Streams(0, {"a": 1, "b": 1})

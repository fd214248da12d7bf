"""Sweeps: parameter lists, the aggregate over runs, and a smoke sweep on the embedded cluster."""

from __future__ import annotations

import json
import math
import statistics

import pytest
from genmod.report import sweep


def test_seeds_and_parameter_lists():
    assert sweep.parse_seeds("0 1 2") == [0, 1, 2] == sweep.parse_seeds("0,1,2,1")
    for bad in ("0 x", "-1", ""):
        with pytest.raises(ValueError, match="SEEDS="):
            sweep.parse_seeds(bad)
    assert sweep.parse_sweep_param("lam=0,0.5,1") == ("lam", [0, 0.5, 1])
    assert sweep.parse_sweep_param("bonus_target=[4, 5.5]") == ("bonus_target", [[4, 5.5]])
    assert sweep.parse_sweep_param("bonus_target=[4,5.5],[-3,2.5]")[1] == [[4, 5.5], [-3, 2.5]]
    with pytest.raises(ValueError, match="NAME=VALUE"):
        sweep.parse_sweep_param("lam")


def test_bad_seeds_fail_at_once_naming_them(capsys):
    assert sweep.main(["--seeds", "0 one"]) == 2
    assert "SEEDS='0 one': 'one' is not an integer >= 0" in capsys.readouterr().err


def test_scheduler_flags_fail_at_once_on_one_line(tmp_path, capsys, monkeypatch):
    monkeypatch.delenv("DASK_SCHEDULER_ADDRESS", raising=False)
    good, empty = tmp_path / "scheduler.json", tmp_path / "empty.json"
    good.write_text(json.dumps({"type": "Scheduler", "address": "tcp://10.0.0.5:8786"}))
    empty.write_text("{}")
    (tmp_path / "bad.json").write_text("not json")
    out = tmp_path / "sw"
    cases = {
        ("--scheduler", "tcp://h:8786", "--scheduler-file", str(good)): "give one of them",
        ("--scheduler-file", str(tmp_path / "missing.json")): "cannot read it",
        ("--scheduler-file", str(tmp_path / "bad.json")): "not a JSON scheduler file",
        ("--scheduler-file", str(empty)): "holds no scheduler address",
    }
    for flags, message in cases.items():
        assert sweep.main(["--seeds", "0", "--out-dir", str(out), *flags]) == 2
        err = capsys.readouterr().err
        assert err.startswith("sweep: --scheduler") and message in err, err
        assert err.count("\n") == 1, err
    assert not out.exists()  # nothing ran, nothing was written
    assert sweep.scheduler_address(None, good) == "tcp://10.0.0.5:8786"
    assert sweep.scheduler_address("tcp://h:1", None) == "tcp://h:1"
    assert sweep.scheduler_address(None, None) is None  # the embedded cluster
    monkeypatch.setenv("DASK_SCHEDULER_ADDRESS", "tcp://env:8786")
    assert sweep.scheduler_address(None, None) == "tcp://env:8786"
    assert sweep.scheduler_address(None, good) == "tcp://10.0.0.5:8786"


def _run(stem, seed, value, verdict, params=None, word="higher"):
    heads = {"U1": {"value": value, "verdict": verdict, "figure": "f", "fmt": ".3f"}}
    side = {"higher": "more", "lower": "less", "same": "same"}.get(word, "more")
    claim = {"site": "u1_answer#1", "words": ["higher", "lower", "same"], "side": side}
    return {"stem": stem, "name": f"seed={seed}", "params": params or {},
            "results": {"headlines": heads, "questions": {"U1": {"title": "t"}},
                        "claims": {"U1": [claim]}}}  # fmt: skip


def test_aggregate_counts_verdicts_and_spreads_figures():
    runs = [_run("01", 0, 1.0, "matches"), _run("01", 1, 1.5, "off"), _run("01", 2, 2.0, "off")]
    runs.append({**_run("01", 3, 9.0, "off"), "results": None})  # a failed run: left out
    runs.append(_run("01", 0, 5.0, "matches", {"lam": 1}))  # another parameter set
    groups = sweep.aggregate(runs)["groups"]
    assert [(g["params"], g["runs"]) for g in groups] == [({}, 3), ({"lam": 1}, 1)]
    q = groups[0]["questions"][0]
    assert q["verdicts"] == {"matches": 1, "off": 2}
    s = q["figure_stats"]
    assert s["mean"] == pytest.approx(1.5) and s["sd"] == pytest.approx(
        statistics.stdev([1, 1.5, 2])
    )
    assert (s["min"], s["max"]) == (1.0, 2.0)
    assert math.isnan(groups[1]["questions"][0]["figure_stats"]["sd"])
    assert q["claims"] == [{"site": "u1_answer#1", "words": ["higher", "lower", "same"],
                            "runs": 3, "sides": {"more": 3}}]  # fmt: skip


def test_a_claim_that_holds_in_one_run_of_two_is_reported_as_1_of_2():
    runs = [_run("01", 0, 1.0, "yes"), _run("01", 1, 1.0, "yes", word="same")]
    summary = sweep.aggregate(runs)
    (claim,) = summary["groups"][0]["questions"][0]["claims"]
    assert claim["runs"] == 2 and claim["sides"] == {"more": 1, "same": 1}
    page = sweep.render_html(summary, [dict(r, status="ran", seconds=1.0) for r in runs], [])
    assert "higher: 1 of 2; same: 1 of 2" in page and "u1_answer#1" in page


@pytest.mark.slow
def test_smoke_sweep_of_two_seeds_on_the_embedded_cluster(tmp_path, capsys):
    args = ["--seeds", "0 1", "--sections", "01", "--profile", "smoke", "--device", "cpu",
            "--out-dir", str(tmp_path / "sw"), "--cache-dir", str(tmp_path / "cache"), "--no-pdf"]  # fmt: skip
    assert sweep.main(args) == 0
    out = capsys.readouterr().out
    assert "embedded LocalCluster" in out and out.count(": ran in") == 2
    doc = json.loads((tmp_path / "sw" / "sweep.json").read_text())
    assert (tmp_path / "sw" / "sweep.html").is_file()
    results = [
        json.loads((tmp_path / "sw" / "runs" / f"seed={s}" / "01_diffusion_unconditional"
                    / "results.json").read_text())
        for s in (0, 1)
    ]  # fmt: skip
    assert [r["params"]["seed"] for r in results] == [0, 1]
    (group,) = doc["groups"]
    assert group["runs"] == 2
    for q in group["questions"]:
        values = [r["headlines"][q["qid"]]["value"] for r in results]
        verdicts = [r["headlines"][q["qid"]]["verdict"] for r in results]
        assert q["figure_stats"]["mean"] == pytest.approx(sum(values) / 2)
        assert q["figure_stats"]["min"] == min(values) and q["figure_stats"]["max"] == max(values)
        assert q["verdicts"] == {v: verdicts.count(v) for v in verdicts}
    # the same sweep again: both runs come from the execution cache
    assert sweep.main(args) == 0
    assert capsys.readouterr().out.count(": reused in") == 2


_KILLER = """\
import json, os, signal
from pathlib import Path

root = Path(cache_dir).parent
with open(root / "executions.log", "a") as f:
    f.write(f"{seed}\\n")
if seed == 1 and not (root / "killed").exists():  # the first run of seed 1 kills its worker
    (root / "killed").write_text("once")
    os.kill(os.getppid(), signal.SIGKILL)  # the kernel's parent: the Dask worker process
    import time; time.sleep(60)
out = Path(results_path)
out.parent.mkdir(parents=True, exist_ok=True)
head = {"value": float(seed), "verdict": "yes", "figure": "seed", "fmt": ".0f"}
out.write_text(json.dumps({"params": {"seed": seed}, "headlines": {"U1": head}}))
"""


@pytest.mark.slow
def test_sweep_resumes_after_a_killed_worker(tmp_path, capsys):
    """A worker killed mid-run is restarted by its nanny and the run is retried; the runs it
    had finished are not executed again, and the sweep completes."""
    import nbformat
    from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

    nb_dir = tmp_path / "notebooks"
    nb_dir.mkdir()
    nb = new_notebook()
    nb.metadata["kernelspec"] = {"name": "genmod", "display_name": "genmod", "language": "python"}
    params = new_code_cell('device = "cpu"\nseed = 0\nprofile = "smoke"\nresults_path = "r.json"\n'
                           'cache_dir = "cache"\nretrain = False\n')  # fmt: skip
    params.metadata["tags"] = ["parameters"]
    nb.cells = [new_markdown_cell("# Part — kill\n\n## U1 — A question"), params,
                new_code_cell(_KILLER)]  # fmt: skip
    nbformat.write(nb, nb_dir / "01_kill.ipynb")
    args = ["--seeds", "0 1", "--sections", "01_kill", "--profile", "smoke", "--device", "cpu",
            "--notebooks-dir",
            str(nb_dir), "--out-dir", str(tmp_path / "sw"), "--cache-dir", str(tmp_path / "cache"),
            "--no-pdf"]  # fmt: skip
    assert sweep.main(args) == 0
    assert (tmp_path / "killed").is_file()
    executions = (tmp_path / "executions.log").read_text().split()
    assert sorted(executions) == ["0", "1", "1"], executions  # seed 1 twice: killed, retried
    doc = json.loads((tmp_path / "sw" / "sweep.json").read_text())
    assert [r["status"] for r in doc["runs"]] == ["ran", "ran"]
    assert doc["groups"][0]["questions"][0]["figure_stats"]["mean"] == pytest.approx(0.5)
    assert sweep.main(args) == 0  # and once more: nothing is executed again
    assert (tmp_path / "executions.log").read_text().split() == executions
    assert capsys.readouterr().out.count(": reused in") == 2


def _tiny_notebook(nb_dir, stem: str, code: str = "pass") -> None:
    import nbformat
    from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

    nb = new_notebook()
    nb.metadata["kernelspec"] = {"name": "genmod", "display_name": "genmod", "language": "python"}
    params = new_code_cell('device = "cpu"\nseed = 0\nprofile = "smoke"\nresults_path = "r.json"\n'
                           'cache_dir = "cache"\nretrain = False\n')  # fmt: skip
    params.metadata["tags"] = ["parameters"]
    nb.cells = [new_markdown_cell("# Part\n\n## U1 — A question"), params, new_code_cell(code)]
    nbformat.write(nb, nb_dir / f"{stem}.ipynb")


def test_render_only_writes_the_sweep_from_results_on_disk(tmp_path, capsys):
    nb_dir = tmp_path / "notebooks"
    nb_dir.mkdir()
    _tiny_notebook(nb_dir, "01_tiny", "raise SystemExit('must not run')")
    out = tmp_path / "sw"
    for seed, steps in ((0, 9), (1, 8)):  # an integer figure whose mean is not whole
        r = _run("01", seed, steps, "yes", word="x")["results"]
        r["headlines"]["U1"]["fmt"] = "d"
        r["runtime"] = {"total_seconds": 12.5}
        path = out / "runs" / f"seed={seed}" / "01_tiny" / "results.json"
        path.parent.mkdir(parents=True)
        path.write_text(json.dumps(r))
    args = ["--seeds", "0 1 2", "--sections", "01_tiny", "--notebooks-dir", str(nb_dir),
            "--out-dir", str(out), "--render-only", "--no-pdf"]  # fmt: skip
    assert sweep.main(args) == 1  # seed 2 has no results.json: a failed run, named
    doc = json.loads((out / "sweep.json").read_text())
    assert [r["status"] for r in doc["runs"]] == ["on disk", "on disk", "failed"]
    assert "seed=2/01_tiny/results.json" in doc["runs"][2]["error"]
    assert doc["runs"][0]["seconds"] == 12.5
    (q,) = doc["groups"][0]["questions"]
    assert q["figure_stats"]["mean"] == 8.5 and q["claims"][0]["sides"] == {"more": 2}
    page = (out / "sweep.html").read_text()
    assert "<td>8.50</td>" in page and "<td>9</td>" in page  # mean 8.5, max 9 of a 'd' figure
    assert "higher: 2 of 2" in page


def test_named_claims_are_counted_by_outcome():
    from genmod.report.sweep import _claims, side_label

    named = {"name": "u6.ddim_identical", "rule": "equal", "operands": {}, "outcome": True}
    (c,) = _claims([[named], [named | {"outcome": False}], None])
    assert c["site"] == "u6.ddim_identical" and c["runs"] == 2
    assert c["sides"] == {"True": 1, "False": 1} and side_label(c, "True") == "True"

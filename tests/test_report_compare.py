"""The results comparison that checks a refactor changed no number."""

import json

import pytest
from genmod.report.compare import differences, main


def test_differences_name_each_changed_figure_and_skip_timings_and_prose():
    old = {"a": {"x": [1.0, 2.0], "seconds": 3.0}, "answers": {"U1": "old"}, "n": 5, "s": "k"}
    new = {"a": {"x": [1.0, 2.5], "seconds": 9.0}, "answers": {"U1": "new"}, "n": 5, "s": "k"}
    assert differences(old, new) == ["a.x[1]: 2.0 → 2.5"]
    assert differences(old, old) == []
    assert differences({"v": float("nan")}, {"v": float("nan")}) == []
    assert differences({"v": [1, 2]}, {"v": [1]}) == ["v: length 2 → 1"]
    assert differences({"v": 1}, {"w": 1}) == ["v: only in old", "w: only in new"]
    assert differences({"v": 1.0}, {"v": 1.0 + 1e-9}, tol=1e-6) == []
    assert differences({"v": True}, {"v": False}) == ["v: true → false"]


def test_main_compares_report_folders_and_exits_1_on_a_difference(tmp_path, capsys):
    for name, val in (("old", 1.0), ("new", 1.0), ("changed", 2.0)):
        d = tmp_path / name / "01"
        d.mkdir(parents=True)
        (d / "results.json").write_text(json.dumps({"f": val, "runtime": {"t": val}}))
    assert main([str(tmp_path / "old"), str(tmp_path / "new")]) == 0
    assert "same numbers" in capsys.readouterr().out
    assert main([str(tmp_path / "old"), str(tmp_path / "changed")]) == 1
    assert "f: 1.0 → 2.0" in capsys.readouterr().out
    with pytest.raises(SystemExit):
        main([str(tmp_path / "old"), str(tmp_path / "missing")])

"""Compare the numbers of two runs: ``python -m genmod.report.compare OLD NEW``.

OLD and NEW are results.json files or report folders (every ``*/results.json`` or
``results*.json`` under them, matched by relative path). Prints each field whose value differs,
by its path (``steps.energy_distance[2]``), and exits 1 if any does. Timings, cache flags and
the rendered prose are left out (:data:`SKIPPED`): a refactor must leave every other field as
it was. ``--tol`` accepts relative differences up to that size (default 0: exact).
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from pathlib import Path

#: Keys whose values are not figures of the run (timings, cache hits, prose, the machine).
SKIPPED = frozenset({"runtime", "answers", "headlines", "claims", "questions", "from_cache"})


def _skipped(key: str) -> bool:
    return key in SKIPPED or "seconds" in key or key.endswith("_time") or key == "step_time"


def differences(old, new, path: str = "", tol: float = 0.0) -> list[str]:
    """The paths where ``new`` differs from ``old`` (with what each holds)."""
    if isinstance(old, dict) and isinstance(new, dict):
        out = []
        for k in sorted(set(old) | set(new), key=str):
            if _skipped(str(k)):
                continue
            p = f"{path}.{k}" if path else str(k)
            if k not in old or k not in new:
                out.append(f"{p}: only in {'new' if k in new else 'old'}")
            else:
                out += differences(old[k], new[k], p, tol)
        return out
    if isinstance(old, list) and isinstance(new, list):
        if len(old) != len(new):
            return [f"{path}: length {len(old)} → {len(new)}"]
        return [
            d
            for i, (a, b) in enumerate(zip(old, new))
            for d in differences(a, b, f"{path}[{i}]", tol)
        ]
    if _number(old) and _number(new):
        same = old == new or (math.isnan(old) and math.isnan(new))
        if not same and tol > 0 and math.isfinite(old) and math.isfinite(new):
            same = abs(new - old) <= tol * max(abs(old), abs(new))
        return [] if same else [f"{path}: {old!r} → {new!r}"]
    return [] if old == new else [f"{path}: {_short(old)} → {_short(new)}"]


def _number(x) -> bool:
    return isinstance(x, (int, float)) and not isinstance(x, bool)


def _short(x) -> str:
    s = json.dumps(x, ensure_ascii=False)
    return s if len(s) <= 80 else s[:77] + "…"


def _files(root: Path) -> dict[str, Path]:
    if root.is_file():
        return {"": root}
    return {
        str(p.relative_to(root)): p for p in sorted(root.rglob("*.json")) if "results" in p.name
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(
        prog="python -m genmod.report.compare", description=__doc__.split("\n")[0]
    )
    ap.add_argument("old", type=Path)
    ap.add_argument("new", type=Path)
    ap.add_argument("--tol", type=float, default=0.0, help="relative tolerance (default 0)")
    a = ap.parse_args(argv)
    for p in (a.old, a.new):
        if not p.exists():
            ap.error(f"{p}: no such file or folder (a results.json or a report folder)")
    old, new = _files(a.old), _files(a.new)
    if set(old) != set(new):
        print(f"results files differ: old {sorted(old)}, new {sorted(new)}")
        return 1
    if not old:
        ap.error(f"{a.old}: holds no results.json")
    n_diff = 0
    for rel in old:
        diffs = differences(
            json.loads(old[rel].read_text()), json.loads(new[rel].read_text()), tol=a.tol
        )
        n_diff += len(diffs)
        print(f"{rel or a.new}: {'same numbers' if not diffs else f'{len(diffs)} differences'}")
        for d in diffs:
            print("  " + d)
    return 1 if n_diff else 0


if __name__ == "__main__":
    sys.exit(main())

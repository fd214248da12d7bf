"""Compare two runs of section 03 on the same seed and validation split:
``python -m genmod.sections.autoregressive_gpt.compare RUN_A/results.json RUN_B/results.json``.

Prints each run's validation loss of the kept checkpoint (± one standard error over the
validation windows), the paired difference B − A with a 95 % interval from a bootstrap over the
validation windows (the same resampled windows for both runs, fixed seed:
:func:`genmod.gpt.windows.paired_bootstrap`), the tokens each run trained on to reach its kept
checkpoint, its number of evaluations and its wall time. Runs of different seeds, or whose
validation windows differ (another book, split or block size), are refused with a one-line
error (exit status 2): their losses are not paired.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from genmod.gpt.windows import paired_bootstrap, ratio_se

#: The record's fields the comparison reads (a missing one is named in the error).
FIELDS = {
    "params": ("seed",),
    "runtime": ("total_seconds",),
    "data": ("sha256", "split_char", "val_tokens"),
    "train": ("val_loss", "val_window_sums", "val_window_tokens", "tokens_to_best",
              "evaluations", "best_step", "wall_seconds", "from_cache", "config"),
}  # fmt: skip


class Refused(ValueError):
    """Two runs that cannot be compared (one line)."""


def load(path: str | Path) -> dict:
    """A section-03 results.json with every field :data:`FIELDS` names, or :class:`Refused`."""
    path = Path(path)
    if path.is_dir():
        path = path / "results.json"
    try:
        r = json.loads(path.read_text())
    except (OSError, ValueError) as e:
        raise Refused(f"{path}: cannot read a results.json ({e})") from None
    if r.get("section") != "autoregressive_gpt":
        raise Refused(f"{path}: not a section 03 run (section {r.get('section')!r})")
    for group, keys in FIELDS.items():
        for k in keys:
            if k not in r.get(group, {}):
                raise Refused(f"{path}: no {group}.{k} (recorded by an older genmod: rerun it)")
    return r


def check_paired(a: dict, b: dict) -> None:
    """:class:`Refused` unless ``a`` and ``b`` share the seed and the validation windows."""
    if a["params"]["seed"] != b["params"]["seed"]:
        raise Refused(f"different seeds ({a['params']['seed']} and {b['params']['seed']})")
    for k in ("sha256", "split_char", "val_tokens"):
        if a["data"][k] != b["data"][k]:
            raise Refused(f"different validation splits (data.{k} differs)")
    if a["train"]["val_window_tokens"] != b["train"]["val_window_tokens"]:
        raise Refused(
            "different validation windows (another block size): the losses are not paired"
        )


def compare(a: dict, b: dict, n_boot: int = 10_000, seed: int = 0) -> dict:
    """The comparison of run ``b`` with run ``a`` (see the module docstring)."""
    check_paired(a, b)
    ta, tb = a["train"], b["train"]
    counts = ta["val_window_tokens"]
    boot = paired_bootstrap(ta["val_window_sums"], tb["val_window_sums"], counts, n_boot, seed)
    runs = {}
    for name, r in (("A", a), ("B", b)):
        t = r["train"]
        runs[name] = {
            "val_loss": t["val_loss"],
            "val_loss_windows": sum(t["val_window_sums"]) / sum(counts),
            "se": ratio_se(t["val_window_sums"], counts),
            "best_step": t["best_step"],
            "batch_size": t["config"]["batch_size"],
            "block_size": t["config"]["block_size"],
            "tokens_to_best": t["tokens_to_best"],
            "evaluations": t["evaluations"],
            "wall_seconds": t["wall_seconds"],
            "from_cache": t["from_cache"],
            "total_seconds": r["runtime"]["total_seconds"],
        }
    return {"seed": a["params"]["seed"], "runs": runs, "diff": boot}


def report(c: dict, paths: tuple[str, str]) -> str:
    """``compare``'s outcome as the lines the command prints."""
    d, lines = c["diff"], [f"seed {c['seed']}; A = {paths[0]}; B = {paths[1]}"]
    for name, r in c["runs"].items():
        cache = " (loaded from the cache: timed when it was trained)" if r["from_cache"] else ""
        lines.append(
            f"{name}: validation loss {r['val_loss']:.4f} (windows: {r['val_loss_windows']:.4f} "
            f"± {r['se']:.4f}, one standard error); kept step {r['best_step']}: "
            f"{r['tokens_to_best']:,} tokens ({r['best_step']} × {r['batch_size']} × "
            f"{r['block_size']}); {r['evaluations']} evaluations; training {r['wall_seconds']:.1f} s "
            f"with evaluations, whole run {r['total_seconds']:.0f} s{cache}"
        )
    lines.append(
        f"B − A: {d['diff']:+.4f} nats/token, {d['level']:.0%} interval [{d['low']:+.4f}, "
        f"{d['high']:+.4f}] (paired bootstrap over {d['windows']} validation windows, "
        f"{d['n_boot']:,} resamples, seed {d['seed']})"
    )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("a", help="run A's results.json (or its folder)")
    ap.add_argument("b", help="run B's results.json (or its folder)")
    ap.add_argument("--boot", type=int, default=10_000, help="bootstrap resamples")
    ap.add_argument("--seed", type=int, default=0, help="the bootstrap's seed")
    args = ap.parse_args(argv)
    try:
        c = compare(load(args.a), load(args.b), args.boot, args.seed)
    except Refused as e:
        print(f"compare: refused: {e}", file=sys.stderr)
        return 2
    print(report(c, (args.a, args.b)))
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Section 02's data-size study: the default recipe on more and fewer training points.

``python -m genmod.sections.diffusion_conditional.study`` trains the default profile's model
(its settings and its number of Adam steps) on each of the study's training-set sizes for
each of its seeds (:data:`~.studies.SIZES`, :data:`~.studies.SEEDS`), measures each run as the seeds script does
(:func:`~genmod.sections.diffusion_conditional.seeds.check_seed`: per-class accuracy of the
learned model, the oracle and the improved sampler, exact interior log-density error,
memorisation ratio) and writes them, with the command, the commit and the settings that made
them, to :data:`~.studies.STUDY_PATH`. The notebook reads that file
(:func:`~.studies.load`); section 02's workflow compares its setting with the run's, so the
write-up says where the numbers come from and whether they are this run's recipe.

Every size trains for the same number of Adam steps: ``epochs = steps / steps per epoch``,
which is exact when each size is a multiple of the minibatch and the steps a multiple of
every size's steps per epoch (:func:`~.studies.epochs_for` refuses otherwise).
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from pathlib import Path

from genmod.io import atomic_write_json
from genmod.paths import REPO_ROOT
from genmod.sections.diffusion_conditional import config
from genmod.sections.diffusion_conditional import seeds as S
from genmod.sections.diffusion_conditional.studies import (
    SEEDS,
    SIZES,
    STUDY_PATH,
    epochs_for,
    study_setting,
)

#: The per-run figures kept in the study file (those of the seeds script's rows).
ROW_KEYS = (
    "seed", "learned", "oracle", "improved", "max_gap", "min_improved", "lik_err",
    "max_lik_err", "memorisation", "memorisation_oracle", "min_memorisation", "train_seconds",
)  # fmt: skip
#: The source the study's numbers depend on (uncommitted changes there are recorded): the
#: science, the recipe and the measuring scripts, not the write-up.
SOURCES = (
    "lib/genmod/diffusion",
    *(f"lib/genmod/sections/diffusion_conditional/{m}.py" for m in ("config", "seeds", "study")),
)


def _commit() -> tuple[str, bool]:
    def git(*args):
        return subprocess.run(
            ["git", *args], cwd=REPO_ROOT, capture_output=True, text=True, check=False
        ).stdout.strip()

    dirty = git("status", "--porcelain", *SOURCES)
    return git("rev-parse", "HEAD") or "unknown", bool(dirty)


def run_study(sizes, seeds, profile: str, device: str, command: str, log=print) -> dict:
    setting = study_setting(profile)
    bs = setting["settings"]["batch_size"]
    epochs = {n: epochs_for(n, setting["adam_steps"], bs) for n in sizes}  # fail before work
    commit, dirty = _commit()
    runs = []
    for n in sizes:
        for s in seeds:
            r = S.check_seed(s, profile, device, n_points=n, epochs=epochs[n])
            log(f"n_points {n:>7,}  " + S.format_row(r), flush=True)
            runs.append({"n_points": n, "epochs": epochs[n]} | {k: r[k] for k in ROW_KEYS})
    return {
        "study": "data_size",
        "command": command,
        "commit": commit,
        "uncommitted_changes": dirty,
        "date": time.strftime("%Y-%m-%d"),
        "device": device,
        "profile": profile,
        "sizes": list(sizes),
        "seeds": list(seeds),
        **setting,
        "runs": runs,
    }


def main(argv: list[str] | None = None) -> dict:
    ap = argparse.ArgumentParser(
        prog="python -m genmod.sections.diffusion_conditional.study", description=__doc__
    )
    ap.add_argument("--sizes", type=int, nargs="+", default=list(SIZES))
    ap.add_argument("--seeds", type=int, nargs="+", default=list(SEEDS))
    ap.add_argument("--profile", default="default")
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--out", type=Path, default=STUDY_PATH)
    args = ap.parse_args(argv)
    command = "python -m genmod.sections.diffusion_conditional.study " + " ".join(
        argv if argv is not None else sys.argv[1:]
    )
    for n in args.sizes:  # fail early, naming the bad value
        config.resolve_params({"profile": args.profile, "n_points": n, "bonus_target": [4, 5.5]})
    import torch

    threads = config.settings(args.profile).cpu_threads
    if threads:
        torch.set_num_threads(threads)
    study = run_study(args.sizes, args.seeds, args.profile, args.device, command.strip())
    atomic_write_json(args.out, study)
    print(f"written to {args.out}")
    return study


if __name__ == "__main__":
    main()

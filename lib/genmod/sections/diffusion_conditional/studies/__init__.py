"""Section 02's stored studies: measurements the write-up cites that are not from the run,
kept here as data with the command, the commit and the seeds that made them.

``data_size.json``: the default recipe on more and fewer training points, made by
``python -m genmod.sections.diffusion_conditional.study`` (:mod:`..study`). This module
reads it and says what a run must share with it (:func:`study_setting`) for its numbers to
be that run's recipe.
"""

from __future__ import annotations

import json
from pathlib import Path

from genmod.diffusion.train import TrainConfig
from genmod.sections.diffusion_conditional import config

#: The data-size study's file, as a path in the repository (what the write-up cites) and on
#: disk.
STUDY_SOURCE = "lib/genmod/sections/diffusion_conditional/studies/data_size.json"
STUDY_PATH = Path(__file__).resolve().parent / "data_size.json"
#: The command that makes it (its options, sizes and seeds, have defaults).
STUDY_COMMAND = "python -m genmod.sections.diffusion_conditional.study"
#: The data-size study's training-set sizes and seeds.
SIZES = (1000, 3000, 20_000, 100_000)
SEEDS = (0, 1, 2)
#: Settings that do not make a run another recipe (the CPU threads only change the speed).
IGNORED_SETTINGS = ("cpu_threads",)


def epochs_for(n_points: int, steps: int, batch_size: int) -> int:
    """The epochs that make ``steps`` Adam steps on ``n_points`` points (exactly)."""
    per = TrainConfig(batch_size=batch_size).steps_per_epoch(n_points)
    if steps % per:
        raise ValueError(
            f"{steps} Adam steps are not a whole number of epochs of {per} steps "
            f"({n_points} points, minibatches of {batch_size})"
        )
    return steps // per


def study_setting(profile: str = "default") -> dict:
    """What a run must share with a study of ``profile`` for the study's numbers to be the
    run's recipe: the profile's settings (:data:`IGNORED_SETTINGS` aside), T and the number
    of Adam steps."""
    st = config.settings(profile)
    p = config.PROFILES[profile]
    steps = TrainConfig(epochs=p["epochs"], batch_size=st.batch_size).steps(p["n_points"])
    settings = {k: v for k, v in st.to_json().items() if k not in IGNORED_SETTINGS}
    return {"settings": settings, "T": p["T"], "adam_steps": steps}


def load(path: Path = STUDY_PATH) -> dict:
    """The stored data-size study (a missing file is an error naming it and its command)."""
    if not Path(path).is_file():
        raise FileNotFoundError(f"{path}: no data-size study; make it with `{STUDY_COMMAND}`")
    return json.loads(Path(path).read_text())

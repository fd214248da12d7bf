"""Device resolution, seeding, named random streams and run metadata."""

from __future__ import annotations

import os
import platform
import random
import subprocess
import time
from collections.abc import Mapping
from contextlib import contextmanager
from dataclasses import dataclass

import numpy as np
import torch

from genmod.paths import REPO_ROOT

DEVICE_CHOICES = "auto | cpu | cuda | cuda:N | mps"


def _mps_available() -> bool:
    mps = getattr(torch.backends, "mps", None)
    return bool(mps is not None and mps.is_available())


def check_device_name(device: str) -> str:
    """Validate the *form* of a device string (no hardware query); return it normalised."""
    if not isinstance(device, str):
        raise ValueError(f"device={device!r}: expected a string, one of {DEVICE_CHOICES}")
    d = device.strip().lower()
    if d in ("auto", "cpu", "cuda", "mps"):
        return d
    if d.startswith("cuda:") and d[5:].isdigit():
        return d
    raise ValueError(f"device={device!r}: not a device; accepted: {DEVICE_CHOICES}")


def resolve_device(device: str = "auto") -> torch.device:
    """'auto' picks cuda, then mps, then cpu; an explicit device must be available."""
    d = check_device_name(device)
    if d == "auto":
        if torch.cuda.is_available():
            return torch.device("cuda")
        if _mps_available():
            return torch.device("mps")
        return torch.device("cpu")
    if d == "cpu":
        return torch.device("cpu")
    if d.startswith("cuda"):
        if not torch.cuda.is_available():
            raise ValueError(
                f"device={device!r}: CUDA is not available with this torch "
                f"({torch.__version__}); use device='cpu' or install a CUDA build (README, GPU)"
            )
        index = int(d[5:]) if ":" in d else 0
        if index >= torch.cuda.device_count():
            raise ValueError(
                f"device={device!r}: only {torch.cuda.device_count()} CUDA device(s) present"
            )
        return torch.device(d)
    if d == "mps":
        if not _mps_available():
            raise ValueError(f"device={device!r}: MPS is not available on this machine")
        return torch.device("mps")
    raise AssertionError(d)  # unreachable: check_device_name covers every form


def seed_everything(seed: int) -> None:
    """Seed Python, numpy and torch (all devices)."""
    random.seed(seed)
    np.random.seed(seed % 2**32)  # noqa: NPY002 - seeds the legacy global RNG on purpose
    torch.manual_seed(seed)


def git_commit() -> str | None:
    try:
        out = subprocess.run(
            ["git", "rev-parse", "--short=12", "HEAD"],
            cwd=REPO_ROOT,
            capture_output=True,
            text=True,
            timeout=5,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    if out.returncode != 0:
        return None
    commit = out.stdout.strip()
    dirty = subprocess.run(
        ["git", "status", "--porcelain", "--untracked-files=no"],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=5,
    ).stdout.strip()
    return commit + ("-dirty" if dirty else "")


def run_metadata(device: torch.device | str) -> dict:
    """Everything needed to reproduce a run, besides its parameters."""
    import matplotlib
    import scipy

    device = torch.device(device)
    meta = {
        "device": str(device),
        "device_name": (
            torch.cuda.get_device_name(device)
            if device.type == "cuda"
            else platform.processor() or platform.machine()
        ),
        "torch": torch.__version__,
        "numpy": np.__version__,
        "scipy": scipy.__version__,
        "matplotlib": matplotlib.__version__,
        "python": platform.python_version(),
        "platform": platform.platform(),
        "torch_threads": torch.get_num_threads(),
        "cpu_count": os.cpu_count(),
        "git_commit": git_commit(),
        "date": time.strftime("%Y-%m-%d %H:%M:%S %Z"),
    }
    return meta


class StageTimer:
    """Wall-clock seconds per named stage: ``with timer("train"): ...``; ``timer.seconds``."""

    def __init__(self):
        self.seconds: dict[str, float] = {}

    @contextmanager
    def __call__(self, stage: str):
        t0 = time.perf_counter()
        try:
            yield
        finally:
            self.seconds[stage] = self.seconds.get(stage, 0.0) + time.perf_counter() - t0

    @property
    def total(self) -> float:
        return sum(self.seconds.values())


@dataclass(frozen=True)
class Streams:
    """The named random streams of one run: ``streams.generator("bonus")`` is a fresh
    generator seeded by the run's seed and the stream's name, so that what a step draws does
    not depend on which steps ran before it. ``offsets`` names each stream of a section and
    fixes its seed, ``scale · seed + offset`` (distinct offsets: distinct streams)."""

    seed: int
    offsets: Mapping[str, int]
    scale: int = 1

    def __post_init__(self):
        if len(set(self.offsets.values())) != len(self.offsets):
            raise ValueError(f"streams: two names share an offset in {dict(self.offsets)}")

    def seed_of(self, name: str) -> int:
        if name not in self.offsets:
            raise KeyError(f"random stream {name!r}: not one of {sorted(self.offsets)}")
        return self.scale * self.seed + self.offsets[name]

    def generator(self, name: str) -> torch.Generator:
        return torch.Generator().manual_seed(self.seed_of(name))

"""2D variance-exploding diffusion: data, schedules, denoiser, training, samplers, oracle,
metrics (see notes in each module; the exercise's equations are quoted in the docstrings)."""

from genmod.diffusion.data import SQUARE, Partition, Rect, make_square_data
from genmod.diffusion.models import Denoiser, DenoiserConfig
from genmod.diffusion.oracle import Oracle
from genmod.diffusion.schedules import ExpSchedule, GeometricSchedule, Schedule
from genmod.diffusion.train import TrainConfig, train_denoiser

__all__ = [
    "SQUARE",
    "Partition",
    "Rect",
    "make_square_data",
    "Denoiser",
    "DenoiserConfig",
    "Oracle",
    "ExpSchedule",
    "GeometricSchedule",
    "Schedule",
    "TrainConfig",
    "train_denoiser",
]

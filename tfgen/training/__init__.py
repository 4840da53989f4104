"""Training helpers: the training step, strategies, the default optimizer,
callbacks, checkpoints and sample grids.

This package sits below the model contract (``tfgen.base`` builds on
``tfgen.training.step``), so nothing here imports a model.
"""

from tfgen.training.checkpoint import resumable
from tfgen.training.grid import image_grid, write_png
from tfgen.training.optimizers import Adam, default_optimizer
from tfgen.training.step import StopOnNonFinite, TrainingStep
from tfgen.training.strategy import get_strategy
from tfgen.training.summaries import SampleSummaries
from tfgen.training.time_budget import TimeBudget

__all__ = ["Adam", "SampleSummaries", "StopOnNonFinite", "TimeBudget", "TrainingStep",
           "default_optimizer", "get_strategy", "image_grid", "resumable", "write_png"]

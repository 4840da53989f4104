"""Training helpers: strategies, the default optimizer, sample grids."""

from tfgen.base import StopOnNonFinite, bits_per_dim
from tfgen.training.checkpoint import resumable
from tfgen.training.grid import image_grid, write_png
from tfgen.training.optimizers import Adam, default_optimizer
from tfgen.training.strategy import get_strategy
from tfgen.training.summaries import SampleSummaries
from tfgen.training.time_budget import TimeBudget

__all__ = ["Adam", "SampleSummaries", "StopOnNonFinite", "TimeBudget", "bits_per_dim", "default_optimizer", "get_strategy", "image_grid", "resumable", "write_png"]

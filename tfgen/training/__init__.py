"""Training helpers: sample grids, and (later) strategies and checkpoints."""

from tfgen.base import StopOnNonFinite, bits_per_dim
from tfgen.training.grid import image_grid, write_png
from tfgen.training.optimizers import default_optimizer

__all__ = ["StopOnNonFinite", "bits_per_dim", "default_optimizer", "image_grid", "write_png"]

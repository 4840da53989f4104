"""Stop training after a wall-clock budget."""

import math
import time

from tfgen._keras import keras


class TimeBudget(keras.callbacks.Callback):
  """Ends ``fit`` once ``minutes`` of wall-clock time have passed since
  training began (checked after every step).

  The epoch in progress is cut short: Keras still runs its validation and
  ``on_epoch_end`` callbacks (so a :func:`~tfgen.training.resumable` backup
  records it, as a whole epoch), then ``fit`` returns as if finished.
  ``stopped_early`` says whether the budget ended training. Each process
  reads its own clock, so this is for one process (no strategy, or
  ``MirroredStrategy``): workers of a ``MultiWorkerMirroredStrategy`` could
  stop on different steps and wait on each other for ever.

  Example:
    >>> model.fit(data, epochs=100, steps_per_epoch=500,
    ...           callbacks=[TimeBudget(60)])          # at most about an hour
  """

  def __init__(self, minutes):
    super().__init__()
    if isinstance(minutes, bool) or not isinstance(minutes, (int, float)) or not (
        math.isfinite(minutes) and minutes > 0):
      raise ValueError(f"`minutes` must be a positive, finite number, got {minutes!r}.")
    self.minutes = float(minutes)
    self.stopped_early = False
    self._start = None

  def on_train_begin(self, logs=None):
    self._start, self.stopped_early = time.monotonic(), False

  def on_train_batch_end(self, batch, logs=None):
    if not self.stopped_early and time.monotonic() - self._start >= 60. * self.minutes:
      self.stopped_early = True
      self.model.stop_training = True

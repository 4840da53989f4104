"""TimeBudget: fit stops once the wall-clock budget is spent, and not before."""

import numpy as np
import pytest

from tfgen.flows import NICE
from tfgen.training import TimeBudget, time_budget


class _Clock:
  """time.monotonic that advances ``step`` seconds per call."""

  def __init__(self, step):
    self.now, self.step = 0., step

  def __call__(self):
    self.now += self.step
    return self.now


def _model():
  m = NICE((4, 4, 1), num_couplings=2, hidden_units=8, num_hidden_layers=1)
  m.compile()
  return m


def test_training_stops_when_the_budget_is_spent(monkeypatch):
  monkeypatch.setattr(time_budget.time, "monotonic", _Clock(10.))   # 10 s per step
  x = np.random.default_rng(0).integers(0, 256, size=(64, 4, 4, 1)).astype(np.uint8)
  budget = TimeBudget(1.)                                              # 60 s: 6 steps
  model = _model()
  history = model.fit(x, batch_size=4, epochs=5, callbacks=[budget], verbose=0)
  assert budget.stopped_early and len(history.history["loss"]) == 1
  assert int(model.optimizer.iterations.numpy()) == 6
  model = _model()
  roomy = TimeBudget(1000.)
  model.fit(x, batch_size=4, epochs=2, callbacks=[roomy], verbose=0)
  assert not roomy.stopped_early and int(model.optimizer.iterations.numpy()) == 32


@pytest.mark.parametrize("bad", [0, -1, float("nan"), float("inf"), True, "5"])
def test_bad_budgets_are_refused(bad):
  with pytest.raises(ValueError, match="minutes"):
    TimeBudget(bad)

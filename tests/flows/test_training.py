"""A hundred-odd steps on real Fashion-MNIST bring bits/dim far below 8."""

import numpy as np
import pytest

from tfgen._keras import keras
from tfgen import data
from tfgen.flows import Glow, RealNVP
from tfgen.training import default_optimizer


def _train(model, fmnist_steps=300):
  keras.utils.set_random_seed(0)
  train = data.load("fashion_mnist", "train", 64, repeat=True, seed=0)
  test = data.load("fashion_mnist", "test", 500, take=1000)
  model.compile(default_optimizer(1e-3))
  history = model.fit(train, steps_per_epoch=fmnist_steps, epochs=1, verbose=0)
  return history, model.evaluate(test, verbose=0, return_dict=True)


@pytest.mark.slow  # real data or a fresh process: CI runs it (pytest -m slow)
def test_glow_learns_fashion_mnist(fmnist_available):
  keras.utils.set_random_seed(0)
  model = Glow((28, 28, 1), levels=2, steps_per_level=4, hidden_channels=32)
  # 120 steps keep the default suite short; they reached 6.05 here.
  history, result = _train(model, fmnist_steps=120)
  print("glow test bits/dim", result)
  # A uniform model of 8-bit data has 8.0 bits/dim.
  assert result["bits_per_dim"] < 6.4, result
  assert np.isfinite(history.history["loss"]).all()
  samples = model.sample(4, seed=[1, 2], temperature=0.7)
  assert samples.shape == (4, 28, 28, 1)


@pytest.mark.slow  # Glow covers flows on real data by default; RealNVP is in bench/quality_budget.py
def test_realnvp_learns_fashion_mnist(fmnist_available):
  keras.utils.set_random_seed(0)
  model = RealNVP((28, 28, 1), levels=2, hidden_channels=32)
  _, result = _train(model, fmnist_steps=200)
  assert result["bits_per_dim"] < 6.5, result

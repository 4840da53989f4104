"""A few hundred steps on real Fashion-MNIST bring bits/dim far down."""

import pytest

from tfgen import data
from tfgen._keras import keras
from tfgen.autoregressive import PixelCNN
from tfgen.training import default_optimizer


def _learns(name, levels, filters, layers, steps):
  keras.utils.set_random_seed(0)
  model = PixelCNN((28, 28, 1), num_levels=levels, filters=filters, num_layers=layers,
                   gated=True)
  model.compile(default_optimizer(1e-3))
  train = data.load(name, "train", batch_size=32, repeat=True, seed=0)
  test = data.load(name, "test", batch_size=500, take=1000)
  before = model.evaluate(test, verbose=0, return_dict=True)["bits_per_dim"]
  model.fit(train, steps_per_epoch=steps, epochs=1, verbose=0)
  after = model.evaluate(test, verbose=0, return_dict=True)["bits_per_dim"]
  print(name, "gated pixelcnn test bits/dim", before, "->", after)
  return before, after


@pytest.mark.slow  # real data or a fresh process: CI runs it (pytest -m slow)
def test_gated_pixelcnn_learns_binarized_fashion_mnist(fmnist_available):
  before, after = _learns("binarized_fashion_mnist", 2, filters=16, layers=3, steps=100)
  assert before > 0.9            # ≈ 1 bit/dim: an untrained model is near uniform
  assert after < 0.4


@pytest.mark.slow
def test_gated_pixelcnn_learns_fashion_mnist(fmnist_available):
  before, after = _learns("fashion_mnist", 256, filters=32, layers=5, steps=200)
  assert before > 7.5
  assert after < 4.5

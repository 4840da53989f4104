"""RevNet: memory-saving gradients equal ordinary backprop through the whole classifier,
training on Fashion-MNIST, serving probabilities, and clear refusals."""

import numpy as np
import pytest
import tensorflow as tf

from tests.conftest import run_tensorflow_only
from tfgen._keras import keras
from tfgen import data, export
from tfgen.classifiers import RevNet
from tfgen.training import default_optimizer


def _images(n=4, seed=0):
  return np.random.default_rng(seed).integers(0, 256, size=(n, 12, 12, 1)).astype(np.uint8)


def test_memory_saving_gradients_equal_ordinary_backprop_for_every_parameter():
  saving = RevNet((12, 12, 1), stages=[2, 2], channels=8)
  plain = RevNet((12, 12, 1), stages=[2, 2], channels=8, memory_saving=False)
  plain.set_weights(saving.get_weights())
  x, y = _images(), np.array([0, 3, 7, 9])

  def grads(model):
    with tf.GradientTape() as tape:
      loss = tf.reduce_mean(model._objective(tf.constant(x), y, training=True)[0])
    return tape.gradient(loss, model.trainable_variables)
  a, b = grads(saving), grads(plain)
  assert len(a) == len(saving.trainable_variables) > 20
  for ga, gb in zip(a, b):
    scale = float(tf.reduce_max(tf.abs(gb)))
    assert float(tf.reduce_max(tf.abs(ga - gb))) <= 2e-6 * scale + 1e-8


def test_residual_baseline_has_the_same_depth():
  rev = RevNet((12, 12, 1), stages=[2, 1], channels=8)
  res = RevNet((12, 12, 1), stages=[2, 1], channels=8, block="residual")
  convs = lambda m: sum("conv2d" in v.name and "kernel" in v.name for v in m.trainable_variables)
  assert convs(rev) == convs(res)


@pytest.mark.slow  # real data or a fresh process: CI runs it (pytest -m slow)
def test_learns_fashion_mnist(fmnist_available):
  keras.utils.set_random_seed(0)
  m = RevNet((28, 28, 1), stages=[1, 1], channels=16)
  m.compile(default_optimizer(2e-3))
  test = data.load("fashion_mnist", "test", 500, labels=True, take=1000)
  before = m.evaluate(test, verbose=0, return_dict=True)
  m.fit(data.load("fashion_mnist", "train", 64, labels=True, repeat=True, take=6000, seed=0),
        steps_per_epoch=100, epochs=1, verbose=0)
  after = m.evaluate(test, verbose=0, return_dict=True)
  assert after["loss"] < before["loss"] - 0.3 and after["accuracy"] > 0.35
  assert "accuracy" in m.describe(after)


def test_served_probabilities_match(tmp_path):
  m = RevNet((12, 12, 1), stages=[1], channels=4, num_classes=3)
  path = export.save(m, tmp_path / "revnet")
  x = _images(2)
  result = run_tensorflow_only(f"""
import numpy as np, tensorflow as tf
m = tf.saved_model.load({str(path)!r})
out = m.signatures["serving_default"](x=tf.constant(np.array({x.tolist()}), tf.int32))
result = {{"p": out["probabilities"].numpy().tolist(), "c": out["class"].numpy().tolist(),
          "signatures": sorted(m.signatures)}}
""")
  assert result["mods"] == [] and result["signatures"] == ["serving_default"]
  np.testing.assert_allclose(result["p"], m.predict_proba(x), rtol=1e-5)
  assert result["c"] == np.argmax(m.predict_proba(x), 1).tolist()


@pytest.mark.parametrize("call, match", [
    (lambda: RevNet((12, 12, 1), channels=7), "even"),
    (lambda: RevNet((12, 12, 1), block="dense"), "block"),
    (lambda: RevNet((12, 12, 1), stages=[0]), "stages"),
    (lambda: RevNet((12, 12, 1), stages=[1], channels=4).sample(2, seed=0), "classifier"),
    (lambda: RevNet((12, 12, 1), stages=[1], channels=4, num_classes=3)._objective(
        tf.constant(_images(2)), [0, 3], False), r"\[0, 2\]"),
    (lambda: RevNet((12, 12, 1), stages=[1], channels=4)._objective(
        tf.constant(_images(2)), None, False), "labels"),
])
def test_bad_input(call, match):
  with pytest.raises(ValueError, match=match):
    call()

"""NADE: the cumulative-sum log_prob against the chain rule step by step, normalisation by
enumeration, the autoregressive property by gradients, cached = naive sampling."""

import itertools

import numpy as np
import pytest
import tensorflow as tf

from tests.conftest import perturb
from tfgen._keras import keras
from tfgen import data
from tfgen.autoregressive import NADE
from tfgen.training import default_optimizer


def _nade(levels=2, **kw):
  m = NADE((3, 3, 1), hidden_units=6, num_levels=levels, **kw)
  perturb(m, 0.5)
  return m


@pytest.mark.parametrize("levels, classes", [(2, None), (2, 3), (4, None), (4, 3)])
def test_log_prob_equals_the_chain_rule_step_by_step(levels, classes):
  m = _nade(levels, num_classes=classes)
  x = np.random.default_rng(1).integers(0, levels, size=(4, 3, 3, 1)).astype(np.uint8)
  c = None if classes is None else [0, 1, 2, 0]
  np.testing.assert_allclose(m.log_prob(x, c), m.step_by_step_log_prob(x, c), rtol=1e-5)
  np.testing.assert_allclose(m.conditionals(x, c).log_prob(x), m.log_prob(x, c), rtol=1e-5)


@pytest.mark.parametrize("levels", [2, 3])
def test_probabilities_sum_to_one(levels):
  m = NADE(4, hidden_units=5, num_levels=levels)
  perturb(m, 0.5)
  every = np.array(list(itertools.product(range(levels), repeat=4)))
  assert np.exp(m.log_prob(every).numpy()).sum() == pytest.approx(1.0, abs=1e-5)


def test_each_conditional_reads_only_earlier_dimensions():
  m = _nade(4)
  x = tf.constant(np.random.default_rng(2).integers(0, 4, size=(1, 9)), tf.int32)
  for d in range(9):
    with tf.GradientTape() as tape:
      inputs = tf.one_hot(x, 4)
      tape.watch(inputs)
      a = tf.cumsum(tf.einsum("bdk,dkh->bdh", inputs, m.w), axis=1, exclusive=True)
      logits = tf.einsum("bdh,dho->bdo", tf.sigmoid(a + m.c), m.v) + m.b
      target = tf.reduce_sum(logits[:, d])
    grad = tf.reduce_sum(tf.abs(tape.gradient(target, inputs)), axis=-1).numpy()[0]
    assert np.all(grad[d:] == 0) and (d == 0 or np.all(grad[:d] > 0))


@pytest.mark.parametrize("levels, classes", [(2, None), (4, 3)])
def test_cached_sampling_equals_naive(levels, classes):
  m = _nade(levels, num_classes=classes)
  c = None if classes is None else [0, 2, 1]
  a = m.sample(3, seed=5, condition=c)
  np.testing.assert_array_equal(a, m.sample(3, seed=5, condition=c, method="naive"))
  assert a.dtype == tf.uint8 and a.shape == (3, 3, 3, 1)
  assert np.all(a.numpy() < levels)


def test_bad_arguments():
  with pytest.raises(ValueError, match="hidden_units"):
    NADE(4, hidden_units=0)
  with pytest.raises(ValueError, match="num_levels"):
    NADE(4, num_levels=1)
  with pytest.raises(ValueError, match="shape"):
    NADE(4, hidden_units=3).log_prob(np.zeros((2, 5), np.int32))
  with pytest.raises(ValueError, match="method"):
    NADE(4, hidden_units=3).sample(2, seed=0, method="fast")


@pytest.mark.slow  # real data or a fresh process: CI runs it (pytest -m slow)
def test_nats_fall_on_binarized_fashion_mnist(fmnist_available):
  keras.utils.set_random_seed(0)
  m = NADE((28, 28, 1), hidden_units=64)
  m.compile(default_optimizer(3e-3))
  test = data.load("binarized_fashion_mnist", "test", 500, take=1000)
  before = m.evaluate(test, verbose=0, return_dict=True)["loss"]
  m.fit(data.load("binarized_fashion_mnist", "train", 64, repeat=True, take=6000, seed=0),
        steps_per_epoch=100, epochs=1, verbose=0)
  after = m.evaluate(test, verbose=0, return_dict=True)["loss"]
  assert after < 0.6 * before and after < 350   # nats per image

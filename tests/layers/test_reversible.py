"""Reversible blocks: exact inverses, and memory-saving gradients equal to ordinary backprop
for the input and every parameter (eager and compiled)."""

import numpy as np
import pytest
import tensorflow as tf

from tfgen._keras import keras
from tfgen.layers import ReversibleBlock, ReversibleSequence


def _branch(seed):
  return keras.Sequential([
      keras.layers.Conv2D(4, 3, padding="same", activation="relu",
                          kernel_initializer=keras.initializers.GlorotUniform(seed)),
      keras.layers.Conv2D(4, 3, padding="same",
                          kernel_initializer=keras.initializers.GlorotUniform(seed + 1))])


def _blocks(n=4):
  return [ReversibleBlock(_branch(10 * i), _branch(10 * i + 5)) for i in range(n)]


X = tf.constant(np.random.default_rng(0).normal(size=(2, 6, 6, 8)), tf.float32)


def test_block_and_sequence_invert_exactly():
  seq = ReversibleSequence(_blocks())
  y = seq(X)
  np.testing.assert_allclose(seq.inverse(y), X, atol=1e-5)
  block = seq.blocks[0]
  np.testing.assert_allclose(block.inverse(block(X)), X, atol=1e-5)
  x1, x2 = tf.split(X, 2, axis=-1)
  y1 = x1 + block.f(x2)                               # the formula, by hand
  np.testing.assert_allclose(block(X), tf.concat([y1, x2 + block.g(y1)], -1), atol=1e-6)


def _gradients(model, compiled):
  def grads(x):
    with tf.GradientTape() as tape:
      tape.watch(x)
      loss = tf.reduce_sum(tf.sin(model(x)) * tf.range(1., 9.))
    return tape.gradient(loss, [x] + model.trainable_variables)
  return (tf.function(grads) if compiled else grads)(X)


@pytest.mark.parametrize("compiled", [False, True])
def test_memory_saving_gradients_equal_ordinary_backprop(compiled):
  blocks = _blocks()
  saving = _gradients(ReversibleSequence(blocks), compiled)
  plain = _gradients(ReversibleSequence(blocks, memory_saving=False), compiled)
  assert len(saving) == 1 + 4 * 2 * 4          # input + (2 convs × kernel, bias) × F, G × 4
  for a, b in zip(saving, plain):
    assert a is not None
    # Float32 precision relative to each gradient's scale (the rebuilt inputs carry
    # round-off of about 1e-7 of the activations).
    scale = float(tf.reduce_max(tf.abs(b)))
    assert float(tf.reduce_max(tf.abs(a - b))) <= 2e-6 * scale + 1e-7


def test_bad_blocks_are_refused():
  with pytest.raises(ValueError, match="keep the shape"):
    ReversibleBlock(keras.layers.Conv2D(3, 3, padding="same"), _branch(0))(X)
  with pytest.raises(ValueError, match="even"):
    ReversibleBlock(_branch(0), _branch(1))(tf.zeros([1, 6, 6, 7]))
  with pytest.raises(ValueError, match="callable"):
    ReversibleBlock(3, _branch(1))
  with pytest.raises(ValueError, match="ReversibleBlock"):
    ReversibleSequence([keras.layers.Dense(4)])

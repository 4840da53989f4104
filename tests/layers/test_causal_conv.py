import numpy as np
import pytest
import tensorflow as tf

from tfgen.layers.causal_conv import CausalConv1D


@pytest.mark.parametrize("k, d", [(2, 1), (2, 4), (3, 2)])
def test_causal_and_step_matches_the_full_convolution(k, d):
  layer = CausalConv1D(5, k, dilation_rate=d)
  x = tf.constant(np.random.default_rng(0).normal(size=(2, 30, 3)), tf.float32)
  with tf.GradientTape() as tape:
    tape.watch(x)
    y = layer(x)
    out = tf.reduce_sum(y[:, 20])
  g = np.abs(tape.gradient(out, x).numpy()).sum(axis=(0, 2))
  used = {20 - m * d for m in range(k)}
  assert {t for t in range(30) if g[t] > 0} == used  # exactly the k dilated taps, none later
  taps = tf.stack([x[:, 20 - (k - 1 - m) * d] for m in range(k)], axis=1)
  np.testing.assert_allclose(layer.step(taps), y[:, 20], atol=1e-5)


def test_bad_arguments():
  with pytest.raises(ValueError, match="causal"):
    CausalConv1D(4, 2, padding="same")
  with pytest.raises(ValueError, match="dilation_rate"):
    CausalConv1D(4, 2, dilation_rate=0)

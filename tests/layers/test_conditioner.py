import numpy as np
import pytest
import tensorflow as tf

from tfgen.layers.conditioner import ConvConditioner, DenseConditioner


def _randomize(net):
  for n, v in enumerate(net.trainable_variables):  # the output layer starts at zero
    v.assign(tf.random.stateless_normal(v.shape, seed=[3, n]) * 0.3)


@pytest.mark.parametrize("channels", [1, 2, 4, 6])
def test_conv_conditioner_matches_plain_convolutions(channels, monkeypatch):
  # Few input channels take the patches @ kernel path; it must be the same map,
  # with the same gradients, as the Conv2D layers it stands in for.
  net = ConvConditioner(output_channels=2 * channels, hidden_channels=16)
  x = tf.random.stateless_normal([3, 6, 5, channels], seed=[0, channels])
  c = tf.random.stateless_normal([3, 4], seed=[1, channels])
  net(x, c)
  _randomize(net)

  def reference(x, c):
    h = tf.nn.relu(net.conv_in(x) + net.condition_proj(c)[:, None, None, :])
    return net.conv_out(tf.nn.relu(net.conv_mid(h)))

  with tf.GradientTape(persistent=True) as tape:
    tape.watch(x)
    ours, theirs = net(x, c), reference(x, c)
    losses = tf.reduce_sum(tf.sin(ours)), tf.reduce_sum(tf.sin(theirs))
  np.testing.assert_allclose(ours, theirs, rtol=1e-5, atol=1e-5)
  for wrt in [x] + net.trainable_variables:
    np.testing.assert_allclose(tape.gradient(losses[0], wrt), tape.gradient(losses[1], wrt),
                               rtol=1e-4, atol=1e-4)
  assert float(tf.reduce_max(tf.abs(ours))) > 0.1  # the comparison is not of zeros


def test_conditioner_output_layer_starts_at_zero():
  x = tf.random.normal([2, 4, 4, 2])
  np.testing.assert_array_equal(ConvConditioner(4, 8)(x), tf.zeros([2, 4, 4, 4]))
  np.testing.assert_array_equal(DenseConditioner(3, 8)(tf.ones([2, 5])), tf.zeros([2, 3]))


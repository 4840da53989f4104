import numpy as np
import pytest
import tensorflow as tf

from tfgen._keras import keras
from tfgen.layers import MaskedConv2D, pixelcnn_mask


def _stack(data_channels, layers=3, filters=12):
  """Mask A, then mask-B layers, ending with one output group per colour."""
  model = keras.Sequential([MaskedConv2D(filters, 3, "A", data_channels, activation="tanh")]
                           + [MaskedConv2D(filters, 3, "B", data_channels, activation="tanh")
                              for _ in range(layers - 2)]
                           + [MaskedConv2D(data_channels * 2, 3, "B", data_channels)])
  model.build([None, 7, 7, data_channels])
  for v in model.trainable_variables:  # random biases too, so no gradient is zero by accident
    v.assign(tf.random.stateless_normal(v.shape, seed=[1, v.shape.rank]) * 0.5)
  return model


@pytest.mark.parametrize("data_channels", [1, 3])
def test_autoregressive_property_by_gradients(data_channels):
  model = _stack(data_channels)
  x = tf.constant(np.random.default_rng(0).normal(size=(1, 7, 7, data_channels)), tf.float32)
  out_per_colour = 2  # output channels of colour g: [2g, 2g + 1]
  order = lambda i, j, c: (i * 7 + j) * data_channels + c
  for (i, j) in [(0, 0), (3, 3), (3, 6), (6, 0), (6, 6)]:
    for c in range(data_channels):
      with tf.GradientTape() as tape:
        tape.watch(x)
        y = tf.reduce_sum(model(x)[0, i, j, c * out_per_colour: (c + 1) * out_per_colour])
      g = np.abs(tape.gradient(y, x,
                               unconnected_gradients=tf.UnconnectedGradients.ZERO).numpy()[0])
      for (a, b, d), value in np.ndenumerate(g):
        if order(a, b, d) >= order(i, j, c):
          assert value == 0., f"output {(i, j, c)} sees input {(a, b, d)}"
      # ...and it does see what is allowed and near: the previous colour of the
      # same pixel, or the pixel to its left.
      if c > 0:
        assert g[i, j, c - 1] > 0.
      elif j > 0:
        assert g[i, j - 1].sum() > 0.


def test_masks_a_and_b_at_the_centre():
  a = pixelcnn_mask((3, 3), 3, 3, "A", 3)[1, 1]
  b = pixelcnn_mask((3, 3), 3, 3, "B", 3)[1, 1]
  np.testing.assert_array_equal(a, [[0, 1, 1], [0, 0, 1], [0, 0, 0]])  # G sees R; B sees R, G
  np.testing.assert_array_equal(b, [[1, 1, 1], [0, 1, 1], [0, 0, 1]])
  m = pixelcnn_mask((5, 5), 1, 1, "B", 1)[..., 0, 0]
  np.testing.assert_array_equal(m[3:], 0)
  np.testing.assert_array_equal(m[2, 3:], 0)
  np.testing.assert_array_equal(m[:2], 1)


def test_bad_arguments():
  with pytest.raises(ValueError, match="odd"):
    MaskedConv2D(8, 4)
  with pytest.raises(ValueError, match="mask_type"):
    MaskedConv2D(8, 3, mask_type="C")
  assert MaskedConv2D(6, 3, data_channels=3, out_blocks=2).filters == 6
  with pytest.raises(ValueError, match="multiple of data_channels"):
    MaskedConv2D(9, 3, data_channels=3, out_blocks=2)
  with pytest.raises(ValueError, match="multiple of data_channels"):
    MaskedConv2D(8, 3, data_channels=3)
  with pytest.raises(ValueError, match="padding"):
    MaskedConv2D(8, 3, padding="valid")
  with pytest.raises(ValueError, match="strides=1, got 2"):
    MaskedConv2D(8, 3, strides=2)
  with pytest.raises(ValueError, match=r"dilation_rate=1, got \(2, 1\)"):
    MaskedConv2D(8, 3, dilation_rate=(2, 1))


def test_config_round_trip():
  layer = MaskedConv2D(6, 5, "A", 3)
  clone = MaskedConv2D.from_config(layer.get_config())
  assert (clone.mask_type, clone.data_channels, clone.kernel_size) == ("A", 3, (5, 5))


def test_vertical_mask_and_gated_halves():
  v = pixelcnn_mask((3, 3), 2, 2, "V", 1)[..., 0, 0]
  np.testing.assert_array_equal(v, [[1, 1, 1], [1, 1, 1], [0, 0, 0]])
  gated = pixelcnn_mask((1, 3), 3, 6, "A", 3, out_blocks=2)[0, 1]
  # Both halves (tanh, sigmoid) of the gate: R sees nothing, G sees R, B sees R and G.
  np.testing.assert_array_equal(gated[:, :3], gated[:, 3:])
  np.testing.assert_array_equal(gated[:, :3], [[0, 1, 1], [0, 0, 1], [0, 0, 0]])


def test_valid_window_equals_same_padded_output():
  layer = MaskedConv2D(4, 3, "B", 1)
  x = tf.random.normal([2, 5, 5, 1])
  full = layer(x)
  padded = tf.pad(x, [[0, 0], [1, 1], [1, 1], [0, 0]])
  np.testing.assert_allclose(layer.valid(padded[:, 2:5, 1:4]), full[:, 2:3, 1:2], atol=1e-5)
  np.testing.assert_allclose(layer.valid(padded[:, 2:5]), full[:, 2:3], atol=1e-5)  # a row


@pytest.mark.parametrize("kernel,mask_type,channels", [
    (3, "A", 1), (3, "B", 3), (7, "A", 3), ((3, 5), "B", 1), (3, "V", 1), (5, "V", 3),
    ((1, 3), "A", 1), ((1, 5), "B", 3), ((1, 3), "V", 1), (1, "B", 3)])
def test_cropped_call_equals_full_masked_convolution(kernel, mask_type, channels):
  # call() convolves with only the kernel's unmasked rows/columns; it must
  # equal a 'same' convolution with the whole masked kernel, value and gradient.
  layer = MaskedConv2D(6, kernel, mask_type, channels)
  x = tf.random.stateless_normal([2, 6, 7, channels], seed=[0, 1])
  layer.build(x.shape)
  layer.kernel.assign(tf.random.stateless_normal(layer.kernel.shape, seed=[0, 2]))
  with tf.GradientTape(persistent=True) as tape:
    tape.watch(x)
    ours = layer(x)
    reference = tf.nn.bias_add(tf.nn.conv2d(x, layer.masked_kernel(), 1, "SAME"), layer.bias)
    losses = tf.reduce_sum(ours ** 2), tf.reduce_sum(reference ** 2)
  np.testing.assert_allclose(ours, reference, atol=1e-5)
  for wrt in (x, layer.kernel):
    np.testing.assert_allclose(tape.gradient(losses[0], wrt), tape.gradient(losses[1], wrt),
                               rtol=1e-4, atol=1e-4)

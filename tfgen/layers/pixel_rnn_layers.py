"""The spatial LSTM layers of PixelRNN (van den Oord, Kalchbrenner & Kavukcuoglu 2016, §3).

Both map ``[B, H, W, F]`` features (``F`` split into ``data_channels``
colour groups, as in PixelCNN) to features of the same shape, with a
residual connection, ``out = x + W_o ∗ h`` (a masked 1×1 convolution).
Every LSTM uses the usual cell::

    [i, f, o, g] = σ, σ, σ, tanh of (K_is ∗ x + K_ss ∗ h_prev + b)
    c = f ⊙ c_prev + i ⊙ g,    h = o ⊙ tanh(c)

where the input-to-state convolution ``K_is`` is masked (mask B, so colour
``g`` at a pixel sees colours ``≤ g`` of the same pixel, and only earlier
pixels) and each gate's features keep the colour grouping; the
state-to-state convolution ``K_ss`` reads only pixels that come earlier in
raster order, so it may mix all colours.
"""

import tensorflow as tf

from tfgen import _validation
from tfgen._keras import keras
from tfgen.layers.masked_conv import MaskedConv2D


def _lstm(z, c_prev):
  i, f, o, g = tf.split(z, 4, axis=-1)
  c = tf.sigmoid(f) * c_prev + tf.sigmoid(i) * tf.tanh(g)
  return tf.sigmoid(o) * tf.tanh(c), c


class _SpatialLSTM(keras.layers.Layer):

  def __init__(self, units, data_channels=1, kernel_size=3, condition_size=None, **kwargs):
    super().__init__(**kwargs)
    self.units = _validation.positive_int(units, "units")
    self.data_channels = _validation.positive_int(data_channels, "data_channels")
    if self.units % self.data_channels:
      raise ValueError(f"`units` must be a multiple of data_channels={data_channels}, got "
                       f"{units}.")
    self.kernel_size = _validation.positive_int(kernel_size, "kernel_size")
    self.condition_size = condition_size
    self.output_conv = MaskedConv2D(units, 1, "B", data_channels, name="residual")
    self.condition_proj = (keras.layers.Dense(4 * units, use_bias=False, name="condition")
                           if condition_size else None)

  def _bias(self, condition):
    if condition is None or self.condition_proj is None:
      return 0.
    return self.condition_proj(condition)[:, None, None, :]

  def get_config(self):
    return {**super().get_config(), "units": self.units, "data_channels": self.data_channels,
            "kernel_size": self.kernel_size, "condition_size": self.condition_size}


class RowLSTM(_SpatialLSTM):
  """Row LSTM: computes a whole row at once, top to bottom.

  Input-to-state: a masked ``1 × k`` convolution along the row (mask B:
  the pixels to the left and the allowed colours of the pixel itself).
  State-to-state: a ``1 × k`` convolution of the previous row's state (all
  of row ``i − 1``). Each row's state therefore sees a triangle of rows
  above, widening by ``(k − 1)/2`` pixels per row, plus the row to the left:
  the receptive field has blind spots, as in the paper.
  """

  def __init__(self, units, data_channels=1, kernel_size=3, condition_size=None, **kwargs):
    super().__init__(units, data_channels, kernel_size, condition_size, **kwargs)
    self.input_to_state = MaskedConv2D(4 * units, (1, self.kernel_size), "B", data_channels,
                                       out_blocks=4, name="input_to_state")
    self.state_to_state = keras.layers.Conv1D(4 * units, self.kernel_size, padding="same",
                                              name="state_to_state")

  def call(self, x, condition=None, image=None):
    del image  # the Row LSTM's triangle is the paper's; it takes no side input
    z_in = self.input_to_state(x) + self._bias(condition)       # [B, H, W, 4F]
    rows = tf.transpose(z_in, [1, 0, 2, 3])                     # [H, B, W, 4F]
    zeros = tf.zeros_like(rows[0][..., :self.units])

    def step(carry, z_row):
      h, c = carry
      return _lstm(z_row + self.state_to_state(h), c)
    h, _ = tf.scan(step, rows, initializer=(zeros, zeros))
    return x + self.output_conv(tf.transpose(h, [1, 0, 2, 3]))


def skew(x):
  """``[B, H, W, F]`` → ``[B, H, W + H − 1, F]`` with row ``i`` shifted right by ``i``."""
  h = x.shape[1]
  return tf.stack([tf.pad(x[:, i], [[0, 0], [i, h - 1 - i], [0, 0]]) for i in range(h)], axis=1)


def unskew(x, width):
  """The inverse of :func:`skew` for an original width ``width``."""
  return tf.stack([x[:, i, i:i + width] for i in range(x.shape[1])], axis=1)


class DiagonalBiLSTM(_SpatialLSTM):
  """Diagonal BiLSTM: two LSTMs that scan the image along diagonals.

  The left-to-right LSTM runs over the skewed map (row ``i`` shifted right
  by ``i``) one column at a time; its state-to-state convolution is
  ``2 × 1`` over the previous column, which in image coordinates reads the
  pixel to the left and the pixel above. So the state at ``(i, j)`` sees
  every pixel ``(r, c)`` with ``r ≤ i, c ≤ j``. The right-to-left LSTM does
  the same on the mirrored image (it sees ``r ≤ i, c ≥ j``) and its output
  is shifted down one row before the two are added, so it contributes only
  rows above. Input-to-state is a masked 1×1 convolution (mask B).

  Features that came through a mask-A input layer hold, at ``(r, c)``,
  only what precedes ``(r, c)``; the last pixels of a row would then reach
  the start of the next row through no path. So ``call(x, image=...)``
  also feeds the image itself (all its channels, unmasked) into the
  right-to-left LSTM's input: that LSTM is read only one row down, where
  the whole of row ``r`` is past. With it, every earlier pixel reaches
  every output: no blind spot (tested by gradients).
  """

  def __init__(self, units, data_channels=1, kernel_size=2, condition_size=None, **kwargs):
    super().__init__(units, data_channels, kernel_size, condition_size, **kwargs)
    self.input_to_state = [MaskedConv2D(4 * units, 1, "B", data_channels, out_blocks=4,
                                        name=f"input_to_state_{d}") for d in ("lr", "rl")]
    self.state_to_state = [keras.layers.Conv1D(4 * units, 2, padding="valid",
                                               name=f"state_to_state_{d}") for d in ("lr", "rl")]
    self.pixel_to_state = keras.layers.Dense(4 * units, use_bias=False, name="pixel_to_state")

  def _direction(self, x, d, condition, image=None):
    width = x.shape[2]
    z = self.input_to_state[d](x) + self._bias(condition)
    if image is not None:
      z = z + self.pixel_to_state(image)
    z = skew(z)                                                      # [B, H, W', 4F]
    columns = tf.transpose(z, [2, 0, 1, 3])                          # [W', B, H, 4F]
    zeros = tf.zeros_like(columns[0][..., :self.units])

    def step(carry, z_col):
      h, c = carry
      above = tf.pad(h, [[0, 0], [1, 0], [0, 0]])                   # rows i − 1 and i
      return _lstm(z_col + self.state_to_state[d](above), c)
    h, _ = tf.scan(step, columns, initializer=(zeros, zeros))
    return unskew(tf.transpose(h, [1, 2, 0, 3]), width)

  def call(self, x, condition=None, image=None):
    left = self._direction(x, 0, condition)
    mirrored = None if image is None else tf.reverse(image, [2])
    right = tf.reverse(self._direction(tf.reverse(x, [2]), 1, condition, mirrored), [2])
    right = tf.pad(right, [[0, 0], [1, 0], [0, 0], [0, 0]])[:, :-1]   # rows above only
    return x + self.output_conv(left + right)

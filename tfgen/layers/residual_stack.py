"""The residual stack of the VQ-VAE encoder and decoder."""

import tensorflow as tf

from tfgen import _validation
from tfgen._keras import keras


class ResidualStack(keras.layers.Layer):
  """``num_blocks`` residual blocks, then a ReLU (van den Oord et al. 2017, §4.1)::

      h ← h + conv_1×1(ReLU(conv_3×3(ReLU(h))))     (the 1×1 has no bias)

  The 3×3 convolution has ``residual_channels`` filters and the 1×1 maps back
  to ``channels`` (the input width).

  Example:

  >>> stack = ResidualStack(channels=64, residual_channels=32, num_blocks=2)
  >>> stack(tf.zeros([1, 7, 7, 64])).shape
  TensorShape([1, 7, 7, 64])
  """

  def __init__(self, channels, residual_channels, num_blocks, **kwargs):
    super().__init__(**kwargs)
    self.channels = _validation.positive_int(channels, "channels")
    self.residual_channels = _validation.positive_int(residual_channels, "residual_channels")
    if isinstance(num_blocks, bool) or not isinstance(num_blocks, int) or num_blocks < 0:
      raise ValueError(f"`num_blocks` must be an int >= 0, got {num_blocks!r}.")
    self.num_blocks = num_blocks
    self.inner = [keras.layers.Conv2D(residual_channels, 3, padding="same", name=f"res3x3_{n}")
                  for n in range(num_blocks)]
    # No bias on the 1×1: with one, Grappler's remapper tries to fuse conv +
    # bias + residual add along the chain, fails, and logs an error.
    self.outer = [keras.layers.Conv2D(channels, 1, use_bias=False, name=f"res1x1_{n}")
                  for n in range(num_blocks)]

  def call(self, h):
    if h.shape[-1] != self.channels:
      raise ValueError(f"ResidualStack(channels={self.channels}) got {h.shape[-1]} channels.")
    for inner, outer in zip(self.inner, self.outer):
      h = h + outer(tf.nn.relu(inner(tf.nn.relu(h))))
    return tf.nn.relu(h)

  def get_config(self):
    return {**super().get_config(), "channels": self.channels,
            "residual_channels": self.residual_channels, "num_blocks": self.num_blocks}

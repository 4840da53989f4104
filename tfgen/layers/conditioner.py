"""Conditioner networks for coupling layers.

A conditioner maps the untouched part of the input (and, optionally, a
conditioning vector) to the parameters of the transformation applied to the
other part. Its last layer is zero-initialised, so a fresh coupling is the
identity map.
"""

import tensorflow as tf

from tfgen import _validation
from tfgen._keras import PlainCall, keras
from tfgen.layers.channel_matmul import ChannelDense, channel_matmul


class ConvConditioner(PlainCall, keras.layers.Layer):
  """A small conv net for image couplings (RealNVP / Glow style).

  ``h₁ = ReLU(conv_k(x) + V·c)``, ``h₂ = ReLU(conv_1×1(h₁))``,
  ``out = conv_k(h₂)`` with the last convolution zero-initialised, where
  ``c`` is the optional conditioning vector (a class one-hot or context).

  The 1×1 convolution is a ``Dense`` layer over the channel axis, the same
  map. On CPU its matmul form trains faster: a 1×1 ``Conv2D``'s filter
  gradient runs at about half the matmul rate (``bench/``, issue 7).

  Example:

  >>> net = ConvConditioner(output_channels=6, hidden_channels=32)
  >>> net(tf.zeros([2, 8, 8, 3])).shape
  TensorShape([2, 8, 8, 6])
  """

  def __init__(self, output_channels, hidden_channels=64, kernel_size=3, **kwargs):
    super().__init__(**kwargs)
    self.output_channels = _validation.positive_int(output_channels, "output_channels")
    self.hidden_channels = _validation.positive_int(hidden_channels, "hidden_channels")
    self.kernel_size = _validation.positive_int(kernel_size, "kernel_size")
    conv = keras.layers.Conv2D
    self.conv_in = conv(hidden_channels, kernel_size, padding="same")
    self.conv_mid = ChannelDense(hidden_channels, name="dense")  # a 1×1 conv, named as before
    self.conv_out = conv(output_channels, kernel_size, padding="same",
                         kernel_initializer="zeros", bias_initializer="zeros")
    self.condition_proj = keras.layers.Dense(hidden_channels, use_bias=False)

  # Up to this many input channels, conv_in runs as patches @ kernel: with so
  # few channels oneDNN's convolution gradients are slow on CPU, and the
  # im2col matmul trains a Glow step ~6% faster (bench/, issue 7).
  PATCHES_MAX_CHANNELS = 4

  def _conv_in(self, x):
    if not self.conv_in.built or x.shape[-1] > self.PATCHES_MAX_CHANNELS:
      return self.conv_in(x)
    k = self.kernel_size
    # Patch depth is ordered (row, column, channel), as the kernel's reshape.
    patches = tf.image.extract_patches(tf.cast(x, self.compute_dtype), [1, k, k, 1],
                                       [1, 1, 1, 1], [1, 1, 1, 1], "SAME")
    kernel = tf.cast(tf.reshape(self.conv_in.kernel, [-1, self.hidden_channels]),
                     self.compute_dtype)
    return tf.nn.bias_add(channel_matmul(patches, kernel),
                          tf.cast(self.conv_in.bias, self.compute_dtype))

  def call(self, x, condition=None):
    h = self._conv_in(x)
    if condition is not None:
      h = h + self.condition_proj(condition)[:, None, None, :]
    h = keras.activations.relu(h)
    h = keras.activations.relu(self.conv_mid(h))
    return self.conv_out(h)

  def get_config(self):
    return {**super().get_config(), "output_channels": self.output_channels,
            "hidden_channels": self.hidden_channels, "kernel_size": self.kernel_size}


class DenseConditioner(PlainCall, keras.layers.Layer):
  """An MLP for vector couplings (NICE style).

  ``h = ReLU(W₁x + V·c)``, then ``num_hidden_layers − 1`` more ReLU layers,
  and a zero-initialised linear output layer.

  Example:

  >>> DenseConditioner(output_units=4, hidden_units=16)(tf.zeros([2, 4])).shape
  TensorShape([2, 4])
  """

  def __init__(self, output_units, hidden_units=256, num_hidden_layers=2, **kwargs):
    super().__init__(**kwargs)
    self.output_units = _validation.positive_int(output_units, "output_units")
    self.hidden_units = _validation.positive_int(hidden_units, "hidden_units")
    self.num_hidden_layers = _validation.positive_int(num_hidden_layers, "num_hidden_layers")
    self.hidden = [keras.layers.Dense(hidden_units) for _ in range(num_hidden_layers)]
    self.out = keras.layers.Dense(output_units, kernel_initializer="zeros",
                                  bias_initializer="zeros")
    self.condition_proj = keras.layers.Dense(hidden_units, use_bias=False)

  def call(self, x, condition=None):
    h = self.hidden[0](x)
    if condition is not None:
      h = h + self.condition_proj(condition)
    h = keras.activations.relu(h)
    for layer in self.hidden[1:]:
      h = keras.activations.relu(layer(h))
    return self.out(h)

  def get_config(self):
    return {**super().get_config(), "output_units": self.output_units,
            "hidden_units": self.hidden_units, "num_hidden_layers": self.num_hidden_layers}

"""Dilated causal 1-D convolution (WaveNet)."""

import tensorflow as tf

from tfgen import _validation
from tfgen._keras import keras


class CausalConv1D(keras.layers.Conv1D):
  """``y_t = act(b + Σ_{m=0}^{k−1} W_m · x_{t − (k−1−m)·d})``, zero before t = 0.

  A ``Conv1D`` with ``'causal'`` padding: output ``t`` depends on inputs at
  ``t, t−d, …, t−(k−1)d`` only (``d`` = ``dilation_rate``). Stacking
  dilations 1, 2, …, 2^(L−1) gives a receptive field of ``(k−1)(2^L − 1) + 1``
  samples (van den Oord et al. 2016, WaveNet §2.1).

  :meth:`step` computes one output from its ``k`` taps, so generation can
  keep a queue of past inputs per layer instead of recomputing the past.

  Example:

  >>> CausalConv1D(16, 2, dilation_rate=4)(tf.zeros([1, 100, 8])).shape
  TensorShape([1, 100, 16])

  References:
    - van den Oord et al. (2016). WaveNet: A Generative Model for Raw Audio, §2.1. arXiv:1609.03499.
  """

  def __init__(self, filters, kernel_size=2, dilation_rate=1, **kwargs):
    if kwargs.pop("padding", "causal") != "causal":
      raise ValueError("CausalConv1D always uses padding='causal'.")
    _validation.positive_int(filters, "filters")
    one = lambda v: v[0] if isinstance(v, (tuple, list)) and len(v) == 1 else v  # from_config
    kernel_size = _validation.positive_int(one(kernel_size), "kernel_size")
    dilation_rate = _validation.positive_int(one(dilation_rate), "dilation_rate")
    super().__init__(filters, kernel_size, dilation_rate=dilation_rate, padding="causal",
                     **kwargs)

  def step(self, taps):
    """One output ``[B, F]`` from taps ``[B, k, C]`` at times ``t−(k−1)d, …, t``."""
    dtype = self.compute_dtype  # 16-bit under a mixed policy, as ``call``
    flat = tf.reshape(tf.cast(taps, dtype), [tf.shape(taps)[0], -1])
    out = tf.matmul(flat, tf.reshape(tf.cast(self.kernel, dtype), [-1, self.filters]))
    if self.use_bias:
      out = out + tf.cast(self.bias, dtype)
    return self.activation(out) if self.activation is not None else out

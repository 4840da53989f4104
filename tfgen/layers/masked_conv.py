"""Masked 2-D convolution for PixelCNN (van den Oord et al. 2016a, 2016b)."""

import numpy as np
import tensorflow as tf

from tfgen import _validation
from tfgen._keras import keras
from tfgen.layers.channel_matmul import channel_matmul

MASK_TYPES = ("A", "B", "V")


def channel_groups(channels, data_channels, blocks=1):
  """Colour (0 = R, 1 = G, …) of each of ``channels`` feature maps.

  Features are split into colour groups in contiguous blocks, as PixelCNN
  splits its features into R, G, B. With ``blocks=2`` (gated layers, whose
  outputs are ``[tanh half, sigmoid half]``) each half is grouped alike, so
  the two halves of a gate always share a colour.
  """
  per = channels // blocks
  return np.tile(np.arange(per) * data_channels // per, blocks)


def pixelcnn_mask(kernel_size, in_channels, out_channels, mask_type, data_channels, out_blocks=1):
  """The ``[kh, kw, in, out]`` 0/1 mask of a PixelCNN convolution.

  ``'A'`` and ``'B'`` (raster masks): rows above the centre and pixels left
  of the centre in its row are visible; pixels right of or below it are not.
  At the centre an output of colour ``g_out`` sees inputs of colour ``g_in``
  if ``g_in < g_out`` (``'A'``: the first layer, a sub-pixel never sees
  itself) or ``g_in ≤ g_out`` (``'B'``). With a ``1×k`` kernel this is the
  Gated PixelCNN's horizontal-stack mask.

  ``'V'`` (vertical stack): every row up to and including the centre row,
  no channel rule. Its output at row ``i`` sees all of input row ``i``, so
  the vertical stack is only ever read one row down.
  """
  kh, kw = kernel_size
  mask = np.zeros((kh, kw, in_channels, out_channels), np.float32)
  ch, cw = kh // 2, kw // 2
  mask[:ch] = 1.
  if mask_type == "V":
    mask[ch] = 1.
    return mask
  mask[ch, :cw] = 1.
  g_in = channel_groups(in_channels, data_channels)[:, None]
  g_out = channel_groups(out_channels, data_channels, out_blocks)[None, :]
  mask[ch, cw] = (g_in < g_out) if mask_type == "A" else (g_in <= g_out)
  return mask


class MaskedConv2D(keras.layers.Conv2D):
  """A ``'same'``-padded Conv2D whose kernel is multiplied by a PixelCNN mask.

  ``y = act(conv(x, W ⊙ M) + b)`` with ``M`` from :func:`pixelcnn_mask`.
  For mask ``'A'``/``'B'``, output ``(i, j, colour g)`` depends only on
  pixels before ``(i, j)`` in raster order and on colours ``< g`` (A) or
  ``≤ g`` (B) of pixel ``(i, j)`` itself: R → G → B, so G sees R and B sees
  R and G. Feature maps are split into ``data_channels`` contiguous colour
  groups (per block, with ``out_blocks=2`` for gated layers).

  A stack of A/B layers has a *blind spot* (van den Oord et al. 2016b,
  §2.2): pixels above-right of the centre are never seen, however deep the
  stack. The Gated PixelCNN's vertical + horizontal stacks remove it.

  ``call`` convolves with only the rows (and, for ``1×k`` kernels, the
  columns) the mask can leave non-zero, padded so the output stays aligned;
  a ``1×1`` kernel is a matmul over channels.

  :meth:`valid` evaluates the layer without padding on a window, so cached
  sampling can compute one position (or one row) at a time with the same
  weights. Both, like ``call``, compute in the layer's compute dtype (16-bit
  under a Keras mixed-precision policy; the variables stay float32).

  Example:

  >>> layer = MaskedConv2D(48, 7, mask_type="A", data_channels=3)
  >>> layer(tf.zeros([1, 28, 28, 3])).shape
  TensorShape([1, 28, 28, 48])

  References:
    - van den Oord, Kalchbrenner & Kavukcuoglu (2016). Pixel Recurrent Neural Networks, §3.4.
      arXiv:1601.06759.
  """

  def __init__(self, filters, kernel_size, mask_type="B", data_channels=1, out_blocks=1,
               **kwargs):
    if kwargs.pop("padding", "same") != "same":
      raise ValueError("MaskedConv2D always uses padding='same'.")
    k = (kernel_size, kernel_size) if isinstance(kernel_size, int) else tuple(kernel_size)
    if len(k) != 2 or any(not isinstance(d, int) or d < 1 or d % 2 == 0 for d in k):
      raise ValueError(f"`kernel_size` must be an odd int or a pair of odd ints, "
                       f"got {kernel_size!r}.")
    self.mask_type = _validation.one_of(mask_type, "mask_type", set(MASK_TYPES))
    self.data_channels = _validation.positive_int(data_channels, "data_channels")
    self.out_blocks = _validation.positive_int(out_blocks, "out_blocks")
    if _validation.positive_int(filters, "filters") % (self.data_channels * self.out_blocks):
      raise ValueError(f"`filters` must be a multiple of data_channels * out_blocks = "
                       f"{data_channels * out_blocks}, got {filters}.")
    super().__init__(filters, k, padding="same", **kwargs)
    for name in ("strides", "dilation_rate"):
      if getattr(self, name) != (1, 1):
        raise ValueError(f"MaskedConv2D supports only {name}=1, got {kwargs[name]!r}.")
    if self.groups != 1:
      raise ValueError(f"MaskedConv2D supports only groups=1, got {self.groups!r}.")

  def build(self, input_shape):
    super().build(input_shape)
    in_channels = int(input_shape[-1])
    if self.mask_type != "V" and in_channels % self.data_channels:
      raise ValueError(f"MaskedConv2D input channels must be a multiple of "
                       f"data_channels={self.data_channels}, got {in_channels}.")
    self.mask = tf.constant(pixelcnn_mask(self.kernel_size, in_channels, self.filters,
                                          self.mask_type, self.data_channels, self.out_blocks))

  def masked_kernel(self):
    """``W ⊙ M`` in the layer's compute dtype (16-bit under a mixed policy)."""
    kernel = tf.cast(self.kernel, self.compute_dtype)
    return kernel * tf.cast(self.mask, kernel.dtype)

  def _finish(self, outputs):
    if self.use_bias:
      outputs = tf.nn.bias_add(outputs, tf.cast(self.bias, outputs.dtype))
    return self.activation(outputs) if self.activation is not None else outputs

  def _support(self):
    """The part of the masked kernel that can be non-zero, and the padding
    ``[[top, bottom], [left, right]]`` that keeps the output aligned.

    Rows below the centre are always masked, and so are the columns right of
    the centre of a one-row (horizontal) kernel. Convolving with only the
    rest gives the same output with fewer FLOPs: a third fewer for 3×3
    vertical and 1×3 horizontal kernels.
    """
    (kh, kw), kernel = self.kernel_size, self.masked_kernel()
    ch, cw = kh // 2, kw // 2
    kernel, right = kernel[:ch + 1], cw
    if kh == 1 and self.mask_type != "V":
      kernel, right = kernel[:, :cw + 1], 0
    return kernel, [[ch, 0], [cw, right]]

  def call(self, inputs):
    if self.kernel_size == (1, 1):  # a matmul over channels: faster to train on CPU
      return self._finish(channel_matmul(inputs, self.masked_kernel()[0, 0]))
    kernel, (rows, cols) = self._support()
    padded = tf.pad(inputs, [[0, 0], rows, cols, [0, 0]])
    return self._finish(tf.nn.conv2d(padded, kernel, 1, "VALID"))

  def valid(self, window):
    """The layer on an unpadded window: ``[B, kh, kw + n − 1, C]`` → ``[B, 1, n, F]``."""
    window = tf.cast(window, self.compute_dtype)
    return self._finish(tf.nn.conv2d(window, self.masked_kernel(), 1, "VALID"))

  def position(self, window):
    """One output position from its full ``[B, kh, kw, C]`` window (or a
    ``[B, C]`` vector for 1×1 kernels), as a matmul: ``[B, F]``."""
    flat = tf.reshape(tf.cast(window, self.compute_dtype), [tf.shape(window)[0], -1])
    kernel = tf.reshape(self.masked_kernel(), [-1, self.filters])
    return self._finish(tf.matmul(flat, kernel))

  def get_config(self):
    config = super().get_config()
    config.pop("padding", None)
    return {**config, "mask_type": self.mask_type, "data_channels": self.data_channels,
            "out_blocks": self.out_blocks}

"""A Gated PixelCNN stack that also works at coarser resolutions (a causal U-Net)."""

import tensorflow as tf

from tfgen import _validation
from tfgen._keras import keras
from tfgen.layers.channel_matmul import ChannelDense
from tfgen.layers.masked_conv import MaskedConv2D
from tfgen.layers.pixelcnn_stacks import _Conditioned, _gate


def _shift_down(t):
  return tf.pad(t[:, :-1], [[0, 0], [1, 0], [0, 0], [0, 0]])


def _shift_right(t):
  return tf.pad(t[:, :, :-1], [[0, 0], [0, 0], [1, 0], [0, 0]])


class _ShiftedConv(keras.layers.Layer):
  """A ``kh×kw`` convolution that reads only rows at or above its output row.

  ``'down'``: columns centred on the output's; ``'downright'``: columns at
  or left of it. With ``stride=2`` output ``(I, J)`` reads input rows
  ``2I−kh+1 … 2I`` (and the columns likewise anchored at ``2J``).
  """

  def __init__(self, filters, kernel, kind, stride=1, **kwargs):
    super().__init__(**kwargs)
    self.kh, self.kw = kernel
    self.kind, self.stride = kind, stride
    self.conv = keras.layers.Conv2D(filters, kernel, strides=stride, padding="valid")

  def call(self, x):
    kh, kw = self.kh, self.kw
    cols = [kw // 2, kw // 2] if self.kind == "down" else [kw - 1, 0]
    return self.conv(tf.pad(x, [[0, 0], [kh - 1, 0], cols, [0, 0]]))


def _upsample(t, like):
  """Nearest-neighbour ×2, cropped to the height and width of ``like``."""
  t = tf.repeat(tf.repeat(t, 2, axis=1), 2, axis=2)
  size = [like.shape[d] or tf.shape(like)[d] for d in (1, 2)]
  return t[:, :size[0], :size[1]]


class GatedPixelCNNUNet(_Conditioned):
  """Gated PixelCNN blocks at ``downsample + 1`` resolutions, down then up.

  The causal down/up structure of PixelCNN++ (Salimans et al. 2017, §2.4)
  with the gated blocks of Gated PixelCNN (van den Oord et al. 2016b). Two
  streams keep causality by construction, not by masks:

  - the vertical stream ``v`` at row ``i`` depends on image rows ``< i``;
  - the horizontal stream ``h`` at ``(i, j)`` on the pixels before
    ``(i, j)`` in raster order.

  At the resolution ``s = 2^k`` times coarser, position ``(I, J)`` of ``v``
  depends on rows ``< sI`` and of ``h`` on rows ``< sI`` plus row ``sI``
  left of column ``sJ``: exactly what every full-resolution pixel it is
  upsampled to (nearest neighbour) may see. Each block, with ``σ`` the
  sigmoid and ``c`` the optional condition::

      v_pre = conv_{2×3}↓(v) + V_v c          (rows ≤ the output's)
      v ← v + 1×1(tanh(v_pre₁) ⊙ σ(v_pre₂))
      h_pre = conv_{2×2}↘(h) + 1×1(v_pre) + V_h c
      h ← h + 1×1(tanh(h_pre₁) ⊙ σ(h_pre₂))

  Downsampling is a stride-2 convolution of each stream (``↓`` for ``v``,
  ``↘`` for ``h``, plus ``1×1(v)`` into ``h``); on the way up each
  resolution adds a 1×1 projection of the down path's streams there (the
  U-Net's skip connections). For images with several channels a mask-A
  1×1 convolution of the current pixel adds the channels before each
  colour group (R → G → B), so the output follows the same ordering as
  :class:`GatedPixelCNNStack`'s.

  Most of the parameters act on ``4^k`` times fewer positions, which is what
  makes such a network cheap per parameter; unlike the single-resolution
  stack it has no cached sampler (sampling reruns the network per
  sub-pixel).
  """

  def __init__(self, data_channels, filters, blocks_per_resolution, downsample=2,
               condition_size=None, **kwargs):
    super().__init__(**kwargs)
    self.data_channels, self.filters = data_channels, filters
    self.blocks = _validation.positive_int(blocks_per_resolution, "num_layers")
    self.downsample = _validation.positive_int(downsample, "downsample")
    f, c = filters, data_channels
    self.v_in = _ShiftedConv(f, (2, 3), "down", name="v_in")
    self.h_in_above = _ShiftedConv(f, (1, 3), "down", name="h_in_above")
    self.h_in_left = _ShiftedConv(f, (2, 1), "downright", name="h_in_left")
    self.current = MaskedConv2D(f, 1, "A", c, name="current") if c > 1 else None
    scales = self.downsample + 1
    count = 2 * scales * self.blocks  # blocks down, then up
    self.vconvs = [_ShiftedConv(2 * f, (2, 3), "down", name=f"v_{n}") for n in range(count)]
    self.hconvs = [_ShiftedConv(2 * f, (2, 2), "downright", name=f"h_{n}") for n in range(count)]
    self.links = [ChannelDense(2 * f, name=f"v_to_h_{n}") for n in range(count)]
    self.vouts = [ChannelDense(f, name=f"v_out_{n}") for n in range(count)]
    self.houts = [ChannelDense(f, name=f"h_out_{n}") for n in range(count)]
    self.v_down = [_ShiftedConv(f, (2, 3), "down", 2, name=f"v_down_{k}")
                   for k in range(self.downsample)]
    self.h_down = [_ShiftedConv(f, (2, 2), "downright", 2, name=f"h_down_{k}")
                   for k in range(self.downsample)]
    self.h_down_link = [ChannelDense(f, name=f"h_down_link_{k}") for k in range(self.downsample)]
    self.v_skip = [ChannelDense(f, name=f"v_skip_{k}") for k in range(scales)]
    self.h_skip = [ChannelDense(f, name=f"h_skip_{k}") for k in range(scales)]
    self._make_projections(condition_size, 2 * f, 2 * count)

  def get_config(self):
    return {**super().get_config(), "data_channels": self.data_channels,
            "filters": self.filters, "blocks_per_resolution": self.blocks,
            "downsample": self.downsample, "condition_size": self.condition_size}

  def _block(self, n, v, h, condition):
    v_pre = self.vconvs[n](v) + self._bias(2 * n, condition)
    h_pre = self.hconvs[n](h) + self.links[n](v_pre) + self._bias(2 * n + 1, condition)
    return v + self.vouts[n](_gate(v_pre)), h + self.houts[n](_gate(h_pre))

  def call(self, x, condition=None):
    if condition is not None and condition.shape.rank == 4:
      raise ValueError("GatedPixelCNNUNet takes a condition vector, not a feature map.")
    v = _shift_down(self.v_in(x))
    h = _shift_down(self.h_in_above(x)) + _shift_right(self.h_in_left(x))
    n, skips = 0, []
    for k in range(self.downsample + 1):
      for _ in range(self.blocks):
        v, h = self._block(n, v, h, condition)
        n += 1
      skips.append((v, h))
      if k < self.downsample:
        v_low = self.v_down[k](v)
        h = self.h_down[k](h) + self.h_down_link[k](v_low)
        v = v_low
    for k in reversed(range(self.downsample + 1)):
      skip_v, skip_h = skips[k]
      if k < self.downsample:
        v, h = _upsample(v, skip_v), _upsample(h, skip_v)
      v = v + self.v_skip[k](skip_v)
      h = h + self.h_skip[k](skip_h)
      for _ in range(self.blocks):
        v, h = self._block(n, v, h, condition)
        n += 1
    if self.current is not None:
      h = h + self.current(x)
    return h

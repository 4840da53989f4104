"""A Gated PixelCNN stack that also works at coarser resolutions (a causal U-Net)."""

import tensorflow as tf

from tfgen import _validation
from tfgen._keras import keras
from tfgen.layers.channel_matmul import ChannelDense
from tfgen.layers.masked_conv import MaskedConv2D
from tfgen.layers.pixelcnn_stacks import _Conditioned, _gate, _put, _put_row, _rows, _window


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
  makes such a network cheap per parameter. Like the single-resolution
  stack it samples step by step from a cache (``init_cache``, ``step``,
  ``write``, ``end_row``), computing each coarse position once.

  References:
    - Salimans, Karpathy, Chen & Kingma (2017). PixelCNN++. arXiv:1701.05517.
    - Ramachandran et al. (2017). Fast Generation for Convolutional Autoregressive Models.
      arXiv:1704.06001.
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

  def _block(self, n, v, h, condition, record=None):
    if record is not None:
      record["vin"][n], record["hin"][n] = v, h
    v_pre = self.vconvs[n](v) + self._bias(2 * n, condition)
    link = self.links[n](v_pre)
    if record is not None:
      record["link"][n] = link
    h_pre = self.hconvs[n](h) + link + self._bias(2 * n + 1, condition)
    return v + self.vouts[n](_gate(v_pre)), h + self.houts[n](_gate(h_pre))

  def call(self, x, condition=None, record=None):
    """Features ``[B, H, W, F]``. With ``record`` (a dict), also fills it
    with what the cached sampler keeps: every block's inputs and links, and
    each scale's final down-path and up-path streams."""
    if condition is not None and condition.shape.rank == 4:
      raise ValueError("GatedPixelCNNUNet takes a condition vector, not a feature map.")
    scales = self.downsample + 1
    if record is not None:
      count = len(self.vconvs)
      record.update(vin=[None] * count, hin=[None] * count, link=[None] * count,
                    up=[None] * scales)
    v = _shift_down(self.v_in(x))
    h = _shift_down(self.h_in_above(x)) + _shift_right(self.h_in_left(x))
    n, skips = 0, []
    for k in range(scales):
      for _ in range(self.blocks):
        v, h = self._block(n, v, h, condition, record)
        n += 1
      skips.append((v, h))
      if k < self.downsample:
        v_low = self.v_down[k](v)
        h = self.h_down[k](h) + self.h_down_link[k](v_low)
        v = v_low
    for k in reversed(range(scales)):
      skip_v, skip_h = skips[k]
      if k < self.downsample:
        v, h = _upsample(v, skip_v), _upsample(h, skip_v)
      v = v + self.v_skip[k](skip_v)
      h = h + self.h_skip[k](skip_h)
      for _ in range(self.blocks):
        v, h = self._block(n, v, h, condition, record)
        n += 1
      if record is not None:
        record["up"][k] = (v, h)
    if record is not None:
      record["down"] = skips
    if self.current is not None:
      h = h + self.current(x)
    return h

  # -- cached sampling ---------------------------------------------------------
  #
  # Fast generation for a causal U-Net (Ramachandran et al. 2017): every
  # position of every scale is computed once, as soon as what it depends on
  # exists. With s = 2^k, coarse row I of the vertical streams (rows < sI)
  # is computed when image row sI starts (``end_row`` of the row before);
  # the horizontal streams at (I, J) (rows < sI, and row sI left of sJ) at
  # the step of pixel (sI, sJ), the first of its s×s block in raster order,
  # so it is ready for every later pixel that reads it.
  #
  # The cache is a flat list (a tf.while_loop variable). Each convolution's
  # input is kept whole, zero-padded as the layer pads it, so one output is
  # a static-size window of its cache times the kernel: per block its v
  # input (padded top, left, right: the 2×3 window) and h input (padded top
  # and left: the 2×2 window) and the links of its current coarse row; per
  # scale the down path's final v and h (the skips, and the inputs of the
  # stride-2 convolutions: padded the same way) and the up path's final v
  # and h; and the scaled image (padded as v_in, h_in_above, h_in_left read it).

  def _slots(self):
    count, scales = len(self.vconvs), self.downsample + 1
    names = ([("vin", n) for n in range(count)] + [("hin", n) for n in range(count)]
             + [("link", n) for n in range(count)]
             + [(kind, k) for kind in ("vd", "hd", "vu", "hu") for k in range(scales)]
             + [("x", 0)])
    return {name: slot for slot, name in enumerate(names)}

  def _blocks_at(self, k, up):
    first = ((self.downsample + 1) + (self.downsample - k) if up else k) * self.blocks
    return list(range(first, first + self.blocks))

  def init_cache(self, x, condition, row=0):
    """The cache for generating image rows ``row`` on, from one pass of the
    network over ``x`` (rows before ``row`` are the prefix; what it computes
    for later rows is overwritten before it is read)."""
    rec = {}
    self(x, condition, record=rec)
    slot, cache = self._slots(), [None] * len(self._slots())
    for k in range(self.downsample + 1):
      for n in self._blocks_at(k, False) + self._blocks_at(k, True):
        cache[slot["vin", n]] = _pad_v(rec["vin"][n])
        cache[slot["hin", n]] = _pad_h(rec["hin"][n])
        link = rec["link"][n]
        current = tf.minimum(row // 2 ** k, link.shape[1] - 1)
        cache[slot["link", n]] = _rows(link, current, 1)[:, 0]
      (vd, hd), (vu, hu) = rec["down"][k], rec["up"][k]
      cache[slot["vd", k]], cache[slot["hd", k]] = _pad_v(vd), _pad_h(hd)
      cache[slot["vu", k]], cache[slot["hu", k]] = vu, hu
    cache[slot["x", 0]] = tf.pad(tf.cast(x, self.compute_dtype), [[0, 0], [2, 0], [1, 1], [0, 0]])
    return cache

  def write(self, cache, i, j, c, value):
    cache, at = list(cache), self._slots()["x", 0]
    b = tf.range(tf.shape(value)[0])
    index = tf.stack([b] + [tf.fill(tf.shape(b), s) for s in (i + 2, j + 1, c)], 1)
    cache[at] = tf.tensor_scatter_nd_update(cache[at], index, tf.cast(value, cache[at].dtype))
    return cache

  def end_row(self, cache, i, condition):
    """Image row ``i`` is complete: the vertical streams of row ``i + 1``
    (and the links its horizontal streams read) at every scale where it
    starts a coarse row."""
    cache, slot, r = list(cache), self._slots(), i + 1
    height = cache[slot["x", 0]].shape[1] - 2

    def down(k, cache):
      cache, row = list(cache), r // 2 ** k
      if k == 0:
        x = cache[slot["x", 0]]
        v = self.v_in.conv(_rows(x, r, 2)) * tf.cast(r > 0, x.dtype)  # shifted down a row
      else:
        v = self.v_down[k - 1].conv(_rows(cache[slot["vd", k - 1]], 2 * row, 2))
      return self._v_blocks(cache, self._blocks_at(k, False), row, v, condition, ("vd", k))

    def up(k, cache):
      cache, row = list(cache), r // 2 ** k
      skip = _rows(cache[slot["vd", k]], row + 1, 1)[:, :, 1:-1]
      v = skip
      if k < self.downsample:  # nearest-neighbour upsampling of the coarser up path
        coarse = _rows(cache[slot["vu", k + 1]], row // 2, 1)
        v = tf.repeat(coarse, 2, axis=2)[:, :, :skip.shape[2]]
      return self._v_blocks(cache, self._blocks_at(k, True), row, v + self.v_skip[k](skip),
                            condition, ("vu", k))

    def at_row_start(stage, k, cache):
      starts = tf.logical_and(r < height, tf.equal(r % 2 ** k, 0))
      return tf.cond(starts, lambda: stage(k, cache), lambda: list(cache))

    for k in range(self.downsample + 1):
      cache = at_row_start(down, k, cache)
    for k in reversed(range(self.downsample + 1)):
      cache = at_row_start(up, k, cache)
    return cache

  def _v_blocks(self, cache, blocks, row, v, condition, out):
    """The vertical half of ``blocks`` on coarse ``row`` from input ``v``
    (``[B, 1, W_k, F]``); the last block's output row goes to slot ``out``."""
    slot = self._slots()
    for n in blocks:
      cache[slot["vin", n]] = _put_row(cache[slot["vin", n]], row + 1, _pad_v_row(v))
      v_pre = self.vconvs[n].conv(_rows(cache[slot["vin", n]], row, 2)) + self._bias(2 * n,
                                                                                   condition)
      cache[slot["link", n]] = self.links[n](v_pre)[:, 0]
      v = v + self.vouts[n](_gate(v_pre))
    kind, k = out
    padded = _pad_v_row(v) if kind == "vd" else v[:, 0]
    cache[slot[out]] = _put_row(cache[slot[out]], row + 1 if kind == "vd" else row, padded)
    return cache

  def _h_blocks(self, cache, blocks, row, col, h, condition):
    """The horizontal half of ``blocks`` at coarse ``(row, col)`` from input
    ``h`` (``[B, F]``): the last block's output."""
    slot = self._slots()
    for n in blocks:
      cache[slot["hin", n]] = _put(cache[slot["hin", n]], row + 1, col + 1, h)
      h_pre = (_conv_at(self.hconvs[n].conv, _window(cache[slot["hin", n]], row, col, 2, 2))
               + tf.gather(cache[slot["link", n]], col, axis=1)
               + self._bias(2 * n + 1, condition, row, col))
      h = h + self.houts[n](_gate(h_pre))
    return cache, h

  def step(self, cache, i, j, condition):
    """The features at pixel ``(i, j)``, ``[B, F]``, once the sub-pixels
    before it are written; computes every scale's streams that start here."""
    cache, slot = list(cache), self._slots()
    x = cache[slot["x", 0]]
    h = (_conv_at(self.h_in_above.conv, _window(x, i + 1, j, 1, 3)) * tf.cast(i > 0, x.dtype)
         + _conv_at(self.h_in_left.conv, _window(x, i + 1, j, 2, 1)) * tf.cast(j > 0, x.dtype))

    def down(k, cache):
      cache, row, col = list(cache), i // 2 ** k, j // 2 ** k
      if k == 0:
        h_in = h
      else:
        v_low = _window(cache[slot["vin", self._blocks_at(k, False)[0]]], row + 1, col + 1,
                        1, 1)[:, 0, 0]
        h_in = (_conv_at(self.h_down[k - 1].conv,
                         _window(cache[slot["hd", k - 1]], 2 * row, 2 * col, 2, 2))
                + self.h_down_link[k - 1](v_low))
      cache, out = self._h_blocks(cache, self._blocks_at(k, False), row, col, h_in, condition)
      cache[slot["hd", k]] = _put(cache[slot["hd", k]], row + 1, col + 1, out)
      return cache

    def up(k, cache):
      cache, row, col = list(cache), i // 2 ** k, j // 2 ** k
      skip = _window(cache[slot["hd", k]], row + 1, col + 1, 1, 1)[:, 0, 0]
      base = skip if k == self.downsample else _window(cache[slot["hu", k + 1]], row // 2,
                                                       col // 2, 1, 1)[:, 0, 0]
      cache, out = self._h_blocks(cache, self._blocks_at(k, True), row, col,
                                  base + self.h_skip[k](skip), condition)
      cache[slot["hu", k]] = _put(cache[slot["hu", k]], row, col, out)
      return cache

    def starts_here(stage, k, cache):
      if k == 0:
        return stage(k, cache)
      block = 2 ** k
      here = tf.logical_and(tf.equal(i % block, 0), tf.equal(j % block, 0))
      return tf.cond(here, lambda: stage(k, cache), lambda: list(cache))

    for k in range(self.downsample + 1):
      cache = starts_here(down, k, cache)
    for k in reversed(range(self.downsample + 1)):
      cache = starts_here(up, k, cache)
    features = _window(cache[slot["hu", 0]], i, j, 1, 1)[:, 0, 0]
    if self.current is not None:
      features = features + self.current.position(_window(x, i + 2, j + 1, 1, 1)[:, 0, 0])
    return features, cache


def _pad_v(t):
  """A v-stream map padded as its 2×3 ``'down'`` convolutions read it."""
  return tf.pad(t, [[0, 0], [1, 0], [1, 1], [0, 0]])


def _pad_v_row(row):
  """``[B, 1, W, F]`` → ``[B, W + 2, F]``, one row of a :func:`_pad_v` map."""
  return tf.pad(row[:, 0], [[0, 0], [1, 1], [0, 0]])


def _pad_h(t):
  """An h-stream map padded as its 2×2 ``'downright'`` convolutions read it."""
  return tf.pad(t, [[0, 0], [1, 0], [1, 0], [0, 0]])


def _conv_at(conv, window):
  """A Keras ``Conv2D``'s output at one position from its ``[B, kh, kw, C]``
  window: ``[B, F]``."""
  flat = tf.reshape(window, [tf.shape(window)[0], -1])
  kernel = tf.reshape(tf.cast(conv.kernel, window.dtype), [-1, conv.filters])
  return tf.nn.bias_add(tf.matmul(flat, kernel), tf.cast(conv.bias, window.dtype))

"""PixelCNN and Gated PixelCNN convolution stacks, runnable whole or step by step.

Each stack maps a ``[B, H, W, C]`` image (scaled to ``[−1, 1]``) and an
optional conditioning vector to ``[B, H, W, F]`` features whose value at
``(i, j)`` in colour group ``g`` depends only on sub-pixels before
``(i, j, g)`` in raster-then-channel order.

For fast sampling (Ramachandran et al. 2017) each stack also keeps a cache
of every layer's input. ``step`` recomputes only position ``(i, j)`` of each
layer from a kernel-sized window of its cache, so one generated sub-pixel
costs O(layers · k² · F²) instead of a pass over the whole image.
"""

import tensorflow as tf

from tfgen import _validation
from tfgen._keras import keras
from tfgen.layers.masked_conv import MaskedConv2D


def _window(t, i, j, height, width):
  """``t[:, i:i+height, j:j+width]`` with static sizes (an XLA dynamic slice)."""
  return tf.slice(t, tf.stack([0, i, j, 0]), [-1, height, width, -1])


def _at(t, i, j):
  """``t[:, i, j]`` for tensor ``i, j``."""
  return _window(t, i, j, 1, 1)[:, 0, 0]


def _rows(t, i, height):
  """``t[:, i:i+height]`` with a static height."""
  return tf.slice(t, tf.stack([0, i, 0, 0]), [-1, height, -1, -1])


def _put(cache, i, j, values):
  """``cache[b, i, j] = values[b]`` for every ``b`` (values ``[B, C]``)."""
  b = tf.range(tf.shape(values)[0])
  index = tf.stack([b, tf.fill(tf.shape(b), i), tf.fill(tf.shape(b), j)], axis=1)
  return tf.tensor_scatter_nd_update(cache, index, values)


def _put_row(cache, i, row):
  """``cache[b, i] = row[b]`` for every ``b``."""
  b = tf.range(tf.shape(row)[0])
  return tf.tensor_scatter_nd_update(cache, tf.stack([b, tf.fill(tf.shape(b), i)], 1), row)


def _gate(t):
  f, g = tf.split(t, 2, axis=-1)
  return tf.tanh(f) * tf.sigmoid(g)


class _Conditioned(keras.layers.Layer):
  """Adds a learned projection of the condition to each layer.

  The condition is a vector ``[B, d]`` (global: the same bias at every
  position) or a feature map ``[B, H, W, d]`` of the image's size (local:
  a 1×1 projection per position, as the conditional PixelCNN of VQ-VAE-2's
  bottom prior). A map comes from outside the data (e.g. upsampled top
  codes), so every position may read all of it.
  """

  def _make_projections(self, condition_size, width, count):
    self.condition_size = condition_size
    self.projections = ([keras.layers.Dense(width, name=f"cond_{n}") for n in range(count)]
                        if condition_size else [])

  def _bias(self, n, condition, i=None, j=None):
    """Layer ``n``'s conditioning bias: for the whole image (``[B, 1, 1, w]``,
    or ``[B, H, W, w]`` for a map), row ``i`` of a map (``[B, 1, W, w]``) or
    position ``(i, j)`` (``[B, w]``)."""
    if not self.projections:
      return 0.
    if condition.shape.rank == 4:
      if j is not None:
        return self.projections[n](_at(condition, i, j))
      return self.projections[n](condition if i is None else _rows(condition, i, 1))
    bias = self.projections[n](condition)
    return bias if j is not None else bias[:, None, None, :]


class PixelCNNStack(_Conditioned):
  """The plain PixelCNN stack (van den Oord et al. 2016a): a ``first_kernel``
  mask-A convolution, then ``num_layers − 1`` residual mask-B layers,
  ``h ← h + ReLU(conv_B(h) + V·c)``. Its receptive field has the blind spot
  that :class:`GatedPixelCNNStack` removes."""

  def __init__(self, data_channels, filters, num_layers, kernel_size=3, first_kernel=7,
               condition_size=None, **kwargs):
    super().__init__(**kwargs)
    self.data_channels, self.filters = data_channels, filters
    self.num_layers = _validation.positive_int(num_layers, "num_layers")
    self.kernel_size, self.first_kernel = kernel_size, first_kernel
    self.convs = [MaskedConv2D(filters, first_kernel, "A", data_channels, name="conv_0")] + [
        MaskedConv2D(filters, kernel_size, "B", data_channels, name=f"conv_{n}")
        for n in range(1, num_layers)]
    self._make_projections(condition_size, filters, num_layers)

  def get_config(self):
    return {**super().get_config(), "data_channels": self.data_channels,
            "filters": self.filters, "num_layers": self.num_layers,
            "kernel_size": self.kernel_size, "first_kernel": self.first_kernel,
            "condition_size": self.condition_size}

  def call(self, x, condition=None, record=False):
    inputs, h = [], x
    for n, conv in enumerate(self.convs):
      inputs.append(h)
      out = tf.nn.relu(conv(h) + self._bias(n, condition))
      h = out if n == 0 else h + out
    return (h, inputs) if record else h

  def init_cache(self, x, condition, row=0):
    _, inputs = self(x, condition, record=True)
    cache = []
    for conv, inp in zip(self.convs, inputs):
      p = conv.kernel_size[0] // 2
      cache.append(tf.pad(inp, [[0, 0], [p, p], [p, p], [0, 0]]))
    return cache

  def step(self, cache, i, j, condition):
    cache = list(cache)
    h = None
    for n, conv in enumerate(self.convs):
      k = conv.kernel_size[0]
      p = k // 2
      out = tf.nn.relu(conv.position(_window(cache[n], i, j, k, k))
                       + self._bias(n, condition, i, j))
      h = out if n == 0 else _at(cache[n], i + p, j + p) + out
      if n + 1 < self.num_layers:
        q = self.convs[n + 1].kernel_size[0] // 2
        cache[n + 1] = _put(cache[n + 1], i + q, j + q, h)
    return h, cache

  def write(self, cache, i, j, c, value):
    cache = list(cache)
    p = self.convs[0].kernel_size[0] // 2
    value = tf.cast(value, cache[0].dtype)
    b = tf.range(tf.shape(value)[0])
    index = tf.stack([b] + [tf.fill(tf.shape(b), t) for t in (i + p, j + p, c)], 1)
    cache[0] = tf.tensor_scatter_nd_update(cache[0], index, value)
    return cache

  def end_row(self, cache, i, condition):
    return list(cache)


class GatedPixelCNNStack(_Conditioned):
  """The Gated PixelCNN stack (van den Oord et al. 2016b), with no blind spot.

  Per layer ``n``, with ``σ`` the sigmoid and ``shift↓`` a one-row shift down::

      v_pre = conv_V(v) + V_v c                 (rows ≤ i, all columns)
      h_pre = conv_H(h) + 1×1(shift↓ v_pre) + V_h c   (row i, columns ≤ j)
      v ← tanh(v_pre₁) ⊙ σ(v_pre₂)
      h ← h + 1×1(tanh(h_pre₁) ⊙ σ(h_pre₂))     (no residual in layer 0)

  The vertical stack's output at row ``i`` has seen all of row ``i``, so the
  horizontal stack only reads it one row down. ``conv_H`` is mask A in
  layer 0 and mask B after, with R → G → B ordering inside a pixel.

  References:
    - van den Oord et al. (2016). Conditional Image Generation with PixelCNN Decoders.
      arXiv:1606.05328.
  """

  def __init__(self, data_channels, filters, num_layers, kernel_size=3, condition_size=None,
               **kwargs):
    super().__init__(**kwargs)
    self.data_channels, self.filters = data_channels, filters
    self.num_layers = _validation.positive_int(num_layers, "num_layers")
    self.k = kernel_size
    c, f = data_channels, filters
    self.vconvs = [MaskedConv2D(2 * f, kernel_size, "V", c, out_blocks=2, name=f"v_{n}")
                   for n in range(num_layers)]
    self.hconvs = [MaskedConv2D(2 * f, (1, kernel_size), "A" if n == 0 else "B", c,
                                out_blocks=2, name=f"h_{n}") for n in range(num_layers)]
    # 1×1 convolutions, as Dense layers over channels (matmuls train faster on CPU).
    self.links = [keras.layers.Dense(2 * f, name=f"v_to_h_{n}") for n in range(num_layers)]
    self.houts = [MaskedConv2D(f, 1, "B", c, name=f"h_out_{n}") for n in range(num_layers)]
    self._make_projections(condition_size, 2 * f, 2 * num_layers)

  def get_config(self):
    return {**super().get_config(), "data_channels": self.data_channels,
            "filters": self.filters, "num_layers": self.num_layers, "kernel_size": self.k,
            "condition_size": self.condition_size}

  def call(self, x, condition=None, record=False):
    v, h = x, x
    vins, hins, links = [], [], []
    for n in range(self.num_layers):
      vins.append(v)
      hins.append(h)
      v_pre = self.vconvs[n](v) + self._bias(2 * n, condition)
      shifted = tf.pad(v_pre[:, :-1], [[0, 0], [1, 0], [0, 0], [0, 0]])
      link = self.links[n](shifted)
      links.append(link)
      h_pre = self.hconvs[n](h) + link + self._bias(2 * n + 1, condition)
      v = _gate(v_pre)
      out = self.houts[n](_gate(h_pre))
      h = out if n == 0 else h + out
    return (h, (vins, hins, links)) if record else h

  # Cache: the vertical stack's padded inputs over the whole image (updated
  # once per finished row), and for the row being generated only, the
  # horizontal stack's padded inputs and the links from the row above. The
  # horizontal stack never reads another row, so per-step updates touch
  # [B, W, C]-sized tensors, not whole images.

  def init_cache(self, x, condition, row=0):
    _, (vins, hins, links) = self(x, condition, record=True)
    p = self.k // 2
    vin = [tf.pad(t, [[0, 0], [p, p], [p, p], [0, 0]]) for t in vins]
    hrow = [tf.pad(_rows(t, row, 1)[:, 0], [[0, 0], [p, p], [0, 0]]) for t in hins]
    link_row = [_rows(t, row, 1)[:, 0] for t in links]
    return vin + hrow + link_row

  def _split(self, cache):
    n = self.num_layers
    return list(cache[:n]), list(cache[n:2 * n]), list(cache[2 * n:])

  def step(self, cache, i, j, condition):
    vin, hrow, link_row = self._split(cache)
    p, h = self.k // 2, None
    for n in range(self.num_layers):
      window = tf.slice(hrow[n], tf.stack([0, j, 0]), [-1, self.k, -1])
      h_pre = (self.hconvs[n].position(window) + tf.gather(link_row[n], j, axis=1)
               + self._bias(2 * n + 1, condition, i, j))
      out = self.houts[n].position(_gate(h_pre))
      h = out if n == 0 else tf.gather(hrow[n], j + p, axis=1) + out
      if n + 1 < self.num_layers:
        hrow[n + 1] = _put_row(hrow[n + 1], j + p, h)  # hrow[n+1][:, j+p] = h
    return h, vin + hrow + link_row

  def write(self, cache, i, j, c, value):
    vin, hrow, link_row = self._split(cache)
    p = self.k // 2
    value = tf.cast(value, vin[0].dtype)
    b = tf.range(tf.shape(value)[0])
    at = lambda *t: tf.stack([b] + [tf.fill(tf.shape(b), s) for s in t], 1)
    vin[0] = tf.tensor_scatter_nd_update(vin[0], at(i + p, j + p, c), value)
    hrow[0] = tf.tensor_scatter_nd_update(hrow[0], at(j + p, c), value)
    return vin + hrow + link_row

  def end_row(self, cache, i, condition):
    """Row ``i`` is complete: run the vertical stack over it, giving the
    links the next row's horizontal stack reads."""
    vin, hrow, link_row = self._split(cache)
    p = self.k // 2
    for n in range(self.num_layers):
      v_pre = (self.vconvs[n].valid(_rows(vin[n], i, self.k))
               + self._bias(2 * n, condition, i))
      link_row[n] = self.links[n](v_pre)[:, 0]
      if n + 1 < self.num_layers:
        row = tf.pad(_gate(v_pre)[:, 0], [[0, 0], [p, p], [0, 0]])
        vin[n + 1] = _put_row(vin[n + 1], i + p, row)
    return vin + hrow + link_row

"""Parallel multiscale autoregressive density estimation (Reed et al. 2017)."""

import tensorflow as tf
import tensorflow_probability as tfp

from tfgen import _validation
from tfgen._keras import keras
from tfgen.autoregressive import sampling
from tfgen.autoregressive.pixelcnn import PixelCNN
from tfgen.base import LikelihoodModel
from tfgen.family import ModelFamily, SizeOption

tfd = tfp.distributions


class GroupNet(keras.layers.Layer):
  """Logits of a pixel group given the known pixels, by a resolution-preserving
  CNN: 3×3 conv → ``num_layers`` residual ReLU blocks of 3×3 convolutions with
  dilations 1, 2, 4, … (repeating after 8) → 1×1 → ``C × K`` logits per
  position. A class condition (one-hot) adds a learned bias after the input
  convolution."""

  def __init__(self, channels, num_levels, filters, num_layers, condition_size=None, **kwargs):
    super().__init__(**kwargs)
    self.channels, self.num_levels = channels, num_levels
    conv = lambda name, d=1: keras.layers.Conv2D(filters, 3, padding="same", dilation_rate=d,
                                                 name=name)
    self.inp = conv("input")
    self.blocks = [conv(f"block_{i}", 2 ** (i % 4)) for i in range(num_layers)]
    self.cond = (keras.layers.Dense(filters, use_bias=False, name="condition")
                 if condition_size else None)
    self.out = keras.layers.Conv2D(channels * num_levels, 1, name="logits")

  def call(self, known, condition=None):
    """``known`` float ``[B, h, w, C']`` → logits ``[B, h, w, C, K]``."""
    h = self.inp(known)
    if self.cond is not None:
      h += self.cond(condition)[:, None, None, :]
    for block in self.blocks:
      h = h + block(tf.nn.relu(h))
    out = tf.cast(self.out(tf.nn.relu(h)), tf.float32)   # float32 logits under mixed precision
    return tf.reshape(out, tf.concat([tf.shape(out)[:-1], [self.channels, self.num_levels]], 0))


def _interleave(a, b, axis):
  """Alternates equal-shaped ``a`` and ``b`` along ``axis`` (1: rows, 2: columns):
  ``a₀ b₀ a₁ b₁ …``; works for images and for logits maps alike."""
  stacked = tf.stack([a, b], axis=axis + 1)
  shape = tf.shape(a)
  new = tf.concat([shape[:axis], [2 * shape[axis]], shape[axis + 1:]], 0)
  return tf.reshape(stacked, new)


class MultiscalePixelCNN(LikelihoodModel):
  """An image model whose sampling takes O(log N) network evaluations.

  The image is generated coarse to fine. The base is the image subsampled
  ``upscalings`` times by 2 (every ``2^k``-th pixel; 7×7 for 28×28 with
  ``k = 2``), modelled by a small Gated PixelCNN. Each upscaling from
  ``s × s`` to ``2s × 2s`` keeps the known pixels (positions ``(2i, 2j)``) and
  adds two groups, as in Reed et al. 2017 (§3):

  - group A: ``(2i, 2j+1)``, the pixel right of each known one, given the
    known pixels;
  - group B: the odd rows ``(2i+1, ·)``, given all even rows (known + A).

  Pixels within a group are conditionally independent given the earlier
  groups (each a 256-way softmax; for ``C > 1`` channels too), and every
  group's logits come from one :class:`GroupNet` pass. So::

      log p(x) = log p_base(x↓) + Σ_levels [log p(A | known) + log p(B | even rows)]

  exactly, and bits/dim compare directly with the Gated PixelCNN. Sampling
  is ``h₀·w₀·C`` steps of the base's cached sampler plus ``2k`` parallel
  passes, instead of ``H·W·C`` sequential steps.

  Args:
    image_shape: ``(H, W, C)``; H and W divisible by ``2^upscalings``.
    num_levels: pixel values ``K``.
    upscalings: ``k``; by default as many halvings as keep H and W whole
      and at least 4 (28×28 → 2, base 7×7; 64×64 → 4, base 4×4).
    filters, num_layers: each group network's width and residual blocks.
    base_filters, base_layers: the base Gated PixelCNN.
    num_classes: conditional on class ids (base and every group network).

  References:
    - Reed et al. (2017). Parallel Multiscale Autoregressive Density Estimation. arXiv:1703.03664.
  """

  cannot_code_reason = ("its sampler draws each resolution's groups from noise laid out by "
                        "level, not like the image, so no coder can follow it.")

  def __init__(self, image_shape, num_levels=256, upscalings=None, filters=64, num_layers=4,
               base_filters=64, base_layers=6, num_classes=None, name="multiscale_pixelcnn",
               **kwargs):
    super().__init__(name=name, **kwargs)
    self.image_shape = _validation.image_shape(image_shape)
    self.event_shape = self.image_shape
    h, w, c = self.image_shape
    self.num_levels = _validation.positive_int(num_levels, "num_levels")
    if upscalings is None:
      upscalings = 0
      while h % 2 ** (upscalings + 1) == 0 and w % 2 ** (upscalings + 1) == 0 \
          and min(h, w) // 2 ** (upscalings + 1) >= 4:
        upscalings += 1
      if upscalings == 0:
        raise ValueError(
            f"MultiscalePixelCNN cannot halve image_shape {tuple(self.image_shape)} into a "
            "base of at least 4x4 (H and W must be even and at least 8); pass `upscalings` "
            "for a smaller base.")
    self.upscalings = _validation.positive_int(upscalings, "upscalings")
    div = 2 ** self.upscalings
    if h % div or w % div:
      raise ValueError(
          f"MultiscalePixelCNN(upscalings={self.upscalings}) halves the image "
          f"{self.upscalings} time(s), so height and width must be divisible by {div}; got "
          f"image_shape {tuple(self.image_shape)}. For example 28x28 allows upscalings<=2 "
          "(a 7x7 base) and 64x64 upscalings<=4.")
    self.filters = _validation.positive_int(filters, "filters")
    self.num_layers = _validation.positive_int(num_layers, "num_layers")
    self.base_filters = _validation.positive_int(base_filters, "base_filters")
    self.base_layers = _validation.positive_int(base_layers, "base_layers")
    self._set_condition(num_classes)
    self.base = PixelCNN((h // div, w // div, c), num_levels=self.num_levels,
                         filters=self.base_filters, num_layers=self.base_layers, gated=True,
                         num_classes=num_classes, name="base")
    net = lambda name: GroupNet(c, self.num_levels, self.filters, self.num_layers,
                                self.condition_size, name=name)
    self.nets = [(net(f"level{i}_right"), net(f"level{i}_rows"))
                 for i in range(self.upscalings)]
    cond = None if not num_classes else tf.zeros([1, num_classes])
    self._logits(tf.zeros([1, h, w, c], tf.int32), cond)       # build every weight now
    self.built = True


  @property
  def sequential_steps(self):
    """Network evaluations one ``sample`` call makes, in order."""
    h, w, c = self.base.image_shape
    return h * w * c + 2 * self.upscalings

  def _scale(self, x):
    return tf.cast(x, tf.float32) * (2. / (self.num_levels - 1)) - 1.

  def _logits(self, x, condition):
    """Logits ``[B, H, W, C, K]`` of every pixel given the groups before it."""
    return self._logits_from_scaled(self._scale(x), condition)

  def logits_from_float(self, x, condition=None):
    """Logits ``[B, H, W, C, K]`` for float images already scaled to ``[−1, 1]``:
    differentiable in the input, so tests can check by gradients that each
    group depends only on earlier groups."""
    x = tf.convert_to_tensor(x, tf.float32)
    return self._logits_from_scaled(x, self._encode_condition(condition, tf.shape(x)[0]))

  def _logits_from_scaled(self, x, condition):
    k, base = self.upscalings, self.base
    logits = base._head(base.stack(x[:, ::2 ** k, ::2 ** k], condition))
    for level, (right, rows) in enumerate(self.nets):
      step = 2 ** (k - level - 1)
      y = x[:, ::step, ::step]                           # this level's 2s × 2s image
      logits_even = _interleave(logits, right(y[:, 0::2, 0::2], condition), axis=2)
      logits = _interleave(logits_even, rows(y[:, 0::2], condition), axis=1)
    return logits

  def _conditionals(self, x, condition):
    return tfd.Independent(tfd.Categorical(logits=self._logits(x, condition)), 3)

  def _log_prob(self, x, condition, training=False):
    return self._conditionals(x, condition).log_prob(x)

  # -- sampling -----------------------------------------------------------------------

  SAMPLE_OPTIONS = ("method",)

  def _sample(self, n, seed, temperature, condition, method="cached"):
    """``method`` is the base PixelCNN's sampler (``'cached'`` or ``'naive'``);
    the upscalings are ``2k`` parallel passes either way."""
    _validation.one_of(method, "method", {"cached", "naive"})
    seeds = tf.random.experimental.stateless_split(tf.cast(seed, tf.int32), 1 + 2 * len(self.nets))
    y = self.base.sample_encoded(n, seeds[0], temperature, condition, method=method)
    return self._upscale(tf.cast(y, tf.int32), seeds[1:], temperature, condition)

  @tf.function(reduce_retracing=True)
  def _upscale(self, y, seeds, temperature, condition):
    for level, (right, rows) in enumerate(self.nets):
      logits = right(self._scale(y), condition)
      a = sampling.gumbel_argmax(logits, sampling.gumbel_noise(tf.shape(logits), seeds[2 * level]),
                                 temperature)
      even = _interleave(y, a, axis=2)
      logits = rows(self._scale(even), condition)
      b = sampling.gumbel_argmax(logits, sampling.gumbel_noise(
          tf.shape(logits), seeds[2 * level + 1]), temperature)
      y = _interleave(even, b, axis=1)
    return y

  def get_config(self):
    return {**super().get_config(), "image_shape": self.image_shape,
            "num_levels": self.num_levels, "upscalings": self.upscalings,
            "filters": self.filters, "num_layers": self.num_layers,
            "base_filters": self.base_filters, "base_layers": self.base_layers,
            "num_classes": self.num_classes}


FAMILY = ModelFamily(
    "multiscale_pixelcnn", MultiscalePixelCNN,
    "Reed et al. 2017, Parallel Multiscale Autoregressive Density Estimation",
    "binarized_fashion_mnist", demo=dict(filters=32, num_layers=4, base_filters=32,
                                         base_layers=4),
    sizes=(SizeOption("filters", "filters", int, "group network width"),
           SizeOption("num-layers", "num_layers", int, "residual blocks per group network"),
           SizeOption("upscalings", "upscalings", int, "times the image is halved for the base")),
    tiny=dict(image_shape=(4, 4, 1), num_levels=4, upscalings=1, filters=4, num_layers=1,
              base_filters=4, base_layers=1))

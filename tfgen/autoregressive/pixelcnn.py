"""PixelCNN and Gated PixelCNN as Keras models with an exact likelihood."""

import tensorflow as tf
import tensorflow_probability as tfp

from tfgen import _validation
from tfgen.autoregressive import sampling
from tfgen._deprecation import MISSING, deprecated_alias
from tfgen.base import LikelihoodModel
from tfgen.layers.gated_unet import GatedPixelCNNUNet
from tfgen.layers.masked_conv import MaskedConv2D
from tfgen.layers.pixelcnn_stacks import GatedPixelCNNStack, PixelCNNStack
from tfgen.family import ModelFamily, SizeOption

tfd = tfp.distributions


class PixelCNN(LikelihoodModel):
  """PixelCNN (van den Oord et al. 2016a) and Gated PixelCNN (2016b).

  ``p(x) = ∏ p(x_{i,j,c} | x_{<(i,j,c)})`` in raster-then-channel order
  (R → G → B inside a pixel), each conditional a ``num_levels``-way softmax.
  ``model(x)`` is ``log_prob(x)``; ``conditionals(x)`` returns
  ``tfd.Independent(tfd.Categorical(logits), 3)``, the conditionals given
  ``x`` (so ``conditionals(x).log_prob(x) == log_prob(x)``).

  - ``gated=False``: a 7×7 mask-A convolution, then residual 3×3 mask-B
    layers. Its receptive field has the known blind spot above-right.
  - ``gated=True``: vertical and horizontal stacks with gated units
    ``tanh(W_f ∗ h) ⊙ σ(W_g ∗ h)``; no blind spot.

  Both end in ReLU → 1×1 → ReLU → 1×1 (masked) → logits.

  Mixed precision: built under ``keras.mixed_precision.set_global_policy(
  'mixed_float16')`` (GPUs) or ``'mixed_bfloat16'``, the network computes in
  16 bits and the logits, log-likelihood and loss in float32. Cached and
  naive sampling then agree up to 16-bit rounding (a near-tie can go either
  way); under float32 they return identical images for a seed.

  Args:
    image_shape: ``(H, W, C)`` with ``C`` 1 or 3.
    num_levels: ``K``; data are integers in ``[0, K)``.
    filters: feature maps per layer, a multiple of ``C``.
    num_layers: convolution layers in the stack.
    gated: use the Gated PixelCNN stack.
    downsample: with ``gated=True``, run the gated blocks at this many
      coarser resolutions too (each half the last), down and back up, as
      :class:`~tfgen.layers.GatedPixelCNNUNet` (PixelCNN++'s causal
      U-Net). ``num_layers`` is then the blocks per resolution on each
      way. Cheaper per parameter to train (most weights act on 4× or 16×
      fewer positions); the cached sampler computes each coarse position
      once. 0 (the default): the single-resolution stack.
    num_classes: conditional on class ids ``[B]``.
    condition_shape: conditional on float vectors ``[B, *condition_shape]``;
      ``(H, W, d)`` with the image's ``H, W`` is a feature map, added to
      every layer by a 1×1 projection at each position (local
      conditioning: VQ-VAE-2's bottom prior reads the upsampled top codes
      this way).

  Example:

  >>> model = PixelCNN((28, 28, 1), filters=32, num_layers=5, gated=True)
  >>> model.compile(tfgen.training.default_optimizer(1e-3))
  >>> model.fit(images, epochs=1)                       # uint8 [N, 28, 28, 1]
  >>> model.sample(16, seed=1)                          # uint8, cached by default

  References:
    - van den Oord, Kalchbrenner & Kavukcuoglu (2016). Pixel Recurrent Neural Networks.
      arXiv:1601.06759.
    - van den Oord, Kalchbrenner, Vinyals, Espeholt, Graves & Kavukcuoglu (2016). Conditional
      Image Generation with PixelCNN Decoders. arXiv:1606.05328.
    - Salimans, Karpathy, Chen & Kingma (2017). PixelCNN++. arXiv:1701.05517.
    - Ramachandran et al. (2017). Fast Generation for Convolutional Autoregressive Models.
      arXiv:1704.06001.
  """

  def __init__(self, image_shape, num_levels=256, filters=96, num_layers=12, gated=False,
               kernel_size=3, num_classes=None, condition_shape=None, downsample=0,
               name="pixelcnn",
               conditional_shape=MISSING, **kwargs):
    condition_shape = deprecated_alias(condition_shape, conditional_shape, "conditional_shape",
                                       "condition_shape", "PixelCNN")
    super().__init__(name=name, **kwargs)
    self.image_shape = _validation.image_shape(image_shape)
    self.event_shape = self.image_shape
    h, w, c = self.image_shape
    if c not in (1, 3):
      raise ValueError(f"PixelCNN supports 1 or 3 channels, got image_shape {image_shape!r}.")
    self.num_levels = _validation.positive_int(num_levels, "num_levels")
    if self.num_levels < 2:
      raise ValueError(f"`num_levels` must be at least 2, got {num_levels}.")
    self.filters = _validation.positive_int(filters, "filters")
    if filters % c:
      raise ValueError(f"`filters` must be a multiple of the channel count {c}, got {filters}.")
    self._set_condition(num_classes, condition_shape)
    self.num_layers = _validation.positive_int(num_layers, "num_layers")
    self.kernel_size = _validation.positive_int(kernel_size, "kernel_size")
    self.gated = _validation.boolean(gated, "gated")
    self.condition_map = (self.condition_shape is not None and len(self.condition_shape) == 3
                          and tuple(self.condition_shape[:2]) == (h, w))
    width = self.condition_shape[-1] if self.condition_map else self.condition_size
    self.downsample = _validation.non_negative_int(downsample, "downsample")
    if self.downsample and not self.gated:
      raise ValueError(f"`downsample={downsample}` needs gated=True (it is a Gated PixelCNN "
                       "variant).")
    if self.downsample and self.condition_map:
      raise ValueError(f"`downsample={downsample}` takes class or vector conditions, not the "
                       f"feature map condition_shape={tuple(self.condition_shape)}.")
    if self.downsample:
      self.stack = GatedPixelCNNUNet(c, filters, num_layers, self.downsample,
                                     condition_size=width)
    else:
      stack = GatedPixelCNNStack if gated else PixelCNNStack
      self.stack = stack(c, filters, num_layers, kernel_size, condition_size=width)
    self.head_hidden = MaskedConv2D(filters, 1, "B", c, name="head_hidden")
    self.head_out = MaskedConv2D(c * num_levels, 1, "B", c, name="head_out")
    cond = None if self.condition_size is None else tf.zeros([1, self.condition_size])
    if self.condition_map:
      cond = tf.zeros((1,) + tuple(self.condition_shape))
    self._logits(tf.zeros((1,) + self.image_shape, tf.int32), cond)  # build every weight now
    self.built = True


  def _encode_condition(self, condition, batch):
    if not self.condition_map or condition is None:
      return super()._encode_condition(condition, batch)
    encoded = _validation.float_batch(condition, list(self.condition_shape), "condition")
    return _validation.same_rows(encoded, batch, "condition")

  # -- the network -----------------------------------------------------------

  def _scale(self, x):
    return tf.cast(x, tf.float32) * (2. / (self.num_levels - 1)) - 1.

  def _head(self, features):
    """``[..., F]`` features → logits ``[..., C, K]``."""
    # max(·, 0) is ReLU; written so because Grappler, optimising the cached
    # sampler's while loop, loses a tf.nn.relu node here and logs errors.
    h = tf.maximum(features, 0.)
    spatial = h.shape.rank == 4  # whole images, or one position [B, F] when sampling
    h = tf.nn.relu(self.head_hidden(h) if spatial else self.head_hidden.position(h))
    out = self.head_out(h) if spatial else self.head_out.position(h)
    out = tf.cast(out, tf.float32)  # float32 logits under a mixed-precision policy
    return tf.reshape(out, tf.concat([tf.shape(out)[:-1], [self.image_shape[2],
                                                            self.num_levels]], 0))

  def _logits(self, x, condition):
    return self._head(self.stack(self._scale(x), condition))

  def logits_from_float(self, x, condition=None):
    """Logits ``[B, H, W, C, K]`` for a float input already scaled to
    ``[−1, 1]``: differentiable in the input, for receptive-field analysis
    (``∂ logits[i] / ∂ x[j]`` is zero for every ``j ≥ i``)."""
    x = tf.convert_to_tensor(x, tf.float32)
    return self._head(self.stack(x, self._encode_condition(condition, tf.shape(x)[0])))

  # -- likelihood ------------------------------------------------------------

  def _conditionals(self, x, condition):
    """``Independent(Categorical)`` over images: every conditional given ``x``."""
    return tfd.Independent(tfd.Categorical(logits=self._logits(x, condition)), 3)

  def _log_prob(self, x, condition, training=False):
    return self._conditionals(x, condition).log_prob(x)

  # -- sampling ----------------------------------------------------------------

  @property
  def sampling_methods(self):
    """``('cached', 'naive')``: the first is the default."""
    return ("cached", "naive")

  SAMPLE_OPTIONS = ("method", "prefix")

  def _sample(self, n, seed, temperature, condition, method=None, prefix=None):
    """One sub-pixel at a time. Options:

    - ``method``: ``'cached'`` (fast: each step recomputes one position per
      layer, and with ``downsample`` each coarse position once; the
      default) or ``'naive'`` (the whole network every step); identical
      for a seed.
    - ``prefix``: integer images ``[n, h0, W, C]`` with ``h0 < H``: the top
      ``h0`` rows are kept and the rest completed.
    """
    method = self.sampling_methods[0] if method is None else method
    _validation.one_of(method, "method", set(self.sampling_methods))
    h, w, c = self.image_shape
    images, start = sampling.image_prefix(prefix, n, self.image_shape, self.num_levels)
    noise = sampling.gumbel_noise([n, h, w, c, self.num_levels], seed)
    fn = self._cached_fn if method == "cached" else self._naive_fn
    return fn(images, tf.constant(start), noise, temperature, condition)

  @tf.function(reduce_retracing=True)
  def _naive_fn(self, images, start, noise, temperature, condition):
    return sampling.sample_naive(lambda x: self._logits(x, condition), images, start, noise,
                                 temperature)

  @sampling.batch_generic
  def _cached_fn(self, images, start, noise, temperature, condition):
    return sampling.sample_cached(self.stack, self._head, self._scale, images, start, noise,
                                  temperature, condition)

  def get_config(self):
    return {**super().get_config(), "image_shape": self.image_shape,
            "num_levels": self.num_levels, "filters": self.filters,
            "num_layers": self.num_layers, "gated": self.gated, "kernel_size": self.kernel_size,
            "num_classes": self.num_classes, "condition_shape": self.condition_shape,
            "downsample": self.downsample}


PIXEL_SIZES = (SizeOption("filters", "filters", int, "feature maps per layer"),
               SizeOption("num-layers", "num_layers", int, "masked convolution layers / gated blocks"))
GATED_SIZES = PIXEL_SIZES + (SizeOption(
    "downsample", "downsample", int, "coarser resolutions, down and up (a causal U-Net; "
    "--num-layers is then blocks per resolution); omit for one resolution"),)

FAMILY = ModelFamily(
    "pixelcnn", PixelCNN, "van den Oord, Kalchbrenner & Kavukcuoglu 2016, Pixel Recurrent "
    "Neural Networks", "binarized_fashion_mnist",
    demo=dict(filters=32, num_layers=6), sizes=PIXEL_SIZES, options=dict(gated=False),
    tiny=dict(image_shape=(4, 4, 1), num_levels=4, filters=4, num_layers=2))

GATED_FAMILY = ModelFamily(
    "gated_pixelcnn", PixelCNN, "van den Oord et al. 2016, Conditional Image Generation with "
    "PixelCNN Decoders", "binarized_fashion_mnist",
    demo=dict(filters=32, num_layers=6), sizes=GATED_SIZES, options=dict(gated=True),
    tiny=dict(image_shape=(4, 4, 1), num_levels=4, filters=4, num_layers=2))

"""VQ-VAE (van den Oord et al. 2017) and its two-level form, VQ-VAE-2 (Razavi et al. 2019)."""

import numpy as np
import tensorflow as tf

from tfgen import _validation
from tfgen._keras import keras
from tfgen.base import GenerativeModel
from tfgen.export.signatures import ServingFunction
from tfgen.family import ModelFamily, SizeOption
from tfgen.latent.codebook_usage import CodebookUsage
from tfgen.layers.residual_stack import ResidualStack
from tfgen.layers.vector_quantizer import VectorQuantizer


def _conv(filters, kernel, strides=1, name=None, transpose=False):
  layer = keras.layers.Conv2DTranspose if transpose else keras.layers.Conv2D
  return layer(filters, kernel, strides=strides, padding="same", name=name)


class VQVAE(GenerativeModel):
  """A vector-quantized autoencoder: images → discrete code maps → images.

  **levels=1** (VQ-VAE). ``E`` downsamples by 4 (two stride-2 4×4
  convolutions, a 3×3 one and a residual stack), a 1×1 convolution maps to
  ``code_dim`` and a :class:`~tfgen.layers.VectorQuantizer` snaps each
  position to the nearest of ``num_codes`` codes: ``codes = argmin_k ‖E(x) −
  e_k‖``. The decoder ``D`` (3×3 convolution, residual stack, two stride-2
  transposed convolutions) maps the quantized map back to pixels. A 28×28
  image becomes a 7×7 code map.

  **levels=2** (VQ-VAE-2, Razavi et al. 2019, Fig. 2a). The bottom encoder
  downsamples by 2 (``h_b``, 14×14 for 28×28); the top encoder downsamples
  ``h_b`` once more and is quantized (7×7 top codes). The top decoder
  upsamples the quantized top map back to ``h_b``'s size, and the bottom
  quantizer sees ``1×1([h_b ; D_t(q_t)])``: the bottom encoder is
  conditioned on the top codes. The decoder reads ``[q_b ; up(q_t)]``.

  **Training** minimises, per example, ``‖x̂ − x‖² / data_variance`` (the
  mean over pixels on a [0, 1] scale, normalised as in the paper's
  reference code) plus each quantizer's commitment loss ``β‖E(x) −
  sg(e)‖²``; the codebooks follow EMAs (``ema=True``) or are learned.
  ``fit``/``evaluate`` report ``loss``, ``mse`` (on [0, 1] pixels) and, per
  level, codebook ``usage`` (fraction of codes used over the whole
  evaluation) and ``perplexity``.

  **API.** ``encode(x)`` → a tuple of int32 code maps, top level first;
  ``decode(codes)`` → images in the data's dtype (uint8); ``reconstruct(x)``
  = ``decode(encode(x))``; ``model(x)`` is the float reconstruction in
  [0, 1]. A VQ-VAE does not sample on its own: train a
  :class:`tfgen.latent.CodePrior` over its codes.

  Args:
    image_shape: ``(H, W, C)`` with ``H`` and ``W`` divisible by 4.
    levels: 1 (VQ-VAE) or 2 (VQ-VAE-2).
    num_codes: ``K``, codes per codebook (one codebook per level).
    code_dim: the size of a code vector.
    hidden_channels: width of the encoders and decoders.
    num_residual_blocks: blocks per residual stack.
    residual_channels: width inside a residual block (default
      ``hidden_channels // 2``).
    commitment_cost: ``β``.
    decay, epsilon, ema, restart_threshold: the quantizers' EMA settings
      (see :class:`~tfgen.layers.VectorQuantizer`). A code whose smoothed
      EMA count falls below ``restart_threshold`` (1: less than about one
      use per batch) restarts from an encoder output, which keeps the
      codebook from collapsing onto a few codes.
    data_variance: the reconstruction error is divided by it (Fashion-MNIST's
      pixel variance on [0, 1] is about 0.125).
    num_levels: levels of the pixel data (256; 2 for binarized images).

  Example:

  >>> vq = VQVAE((28, 28, 1), levels=2, num_codes=128, code_dim=32)
  >>> vq.compile(tfgen.training.default_optimizer(1e-3))
  >>> vq.fit(images, epochs=1)                         # uint8 [N, 28, 28, 1]
  >>> top, bottom = vq.encode(images[:8])              # int32 [8, 7, 7], [8, 14, 14]
  >>> vq.decode((top, bottom))                         # uint8 [8, 28, 28, 1]

  References:
    - van den Oord, Vinyals & Kavukcuoglu (2017). Neural Discrete Representation Learning.
      arXiv:1711.00937.
    - Razavi, van den Oord & Vinyals (2019). Generating Diverse High-Fidelity Images with VQ-
      VAE-2. arXiv:1906.00446.
  """

  can_sample = False
  cannot_sample_reason = ("a VQ-VAE is an autoencoder. Train a prior over its codes "
                          "(tfgen.latent.CodePrior; `tfgen train vqvae_prior --vqvae RUN`) "
                          "and sample that.")

  def __init__(self, image_shape, levels=1, num_codes=512, code_dim=64, hidden_channels=128,
               num_residual_blocks=2, residual_channels=None, commitment_cost=0.25, decay=0.99,
               epsilon=1e-5, ema=True, restart_threshold=1.0, data_variance=0.125,
               num_levels=256, name="vqvae", **kwargs):
    super().__init__(name=name, **kwargs)
    self.image_shape = _validation.image_shape(image_shape)
    h, w, c = self.image_shape
    if h % 4 or w % 4:
      raise ValueError(f"VQVAE downsamples by 4: image height and width must be multiples of "
                       f"4, got image_shape {image_shape!r}.")
    if (not isinstance(levels, (int, np.integer)) or isinstance(levels, bool)
        or levels not in (1, 2)):
      raise ValueError(f"`levels` must be 1 (VQ-VAE) or 2 (VQ-VAE-2), got {levels!r}.")
    self.levels = levels
    self.num_codes = _validation.positive_int(num_codes, "num_codes")
    self.code_dim = _validation.positive_int(code_dim, "code_dim")
    self.hidden_channels = _validation.positive_int(hidden_channels, "hidden_channels")
    if isinstance(num_residual_blocks, bool) or not isinstance(num_residual_blocks, int) \
        or num_residual_blocks < 0:
      raise ValueError(f"`num_residual_blocks` must be an int >= 0, got "
                       f"{num_residual_blocks!r}.")
    self.num_residual_blocks = num_residual_blocks
    self.residual_channels = _validation.positive_int(
        residual_channels or max(1, hidden_channels // 2), "residual_channels")
    if not (isinstance(data_variance, (int, float)) and np.isfinite(data_variance)
            and data_variance > 0):
      raise ValueError(f"`data_variance` must be a positive number, got {data_variance!r}.")
    self.data_variance = float(data_variance)
    self.num_levels = _validation.positive_int(num_levels, "num_levels")
    if self.num_levels < 2:
      raise ValueError(f"`num_levels` must be at least 2, got {num_levels}.")
    self.event_shape = self.image_shape
    self._set_condition()
    quant = dict(num_codes=num_codes, code_dim=code_dim, commitment_cost=commitment_cost,
                 decay=decay, epsilon=epsilon, ema=ema, restart_threshold=restart_threshold)
    self.commitment_cost, self.decay, self.epsilon, self.ema = (
        float(commitment_cost), float(decay), float(epsilon), _validation.boolean(ema, "ema"))
    self.restart_threshold = float(restart_threshold)
    hid, res, blocks = self.hidden_channels, self.residual_channels, num_residual_blocks
    half = max(1, hid // 2)
    # Bottom encoder: ×4 down for one level, ×2 for two.
    self.enc_b = [_conv(half, 4, 2, "enc_b_down1")]
    if levels == 1:
      self.enc_b.append(_conv(hid, 4, 2, "enc_b_down2"))
    self.enc_b += [_conv(hid, 3, 1, "enc_b_conv"),
                   ResidualStack(hid, res, blocks, name="enc_b_res")]
    self.pre_q_b = _conv(code_dim, 1, 1, "pre_quantize_bottom")
    self.quantizers = []
    if levels == 2:
      self.enc_t = [_conv(hid, 4, 2, "enc_t_down"), _conv(hid, 3, 1, "enc_t_conv"),
                    ResidualStack(hid, res, blocks, name="enc_t_res")]
      self.pre_q_t = _conv(code_dim, 1, 1, "pre_quantize_top")
      self.dec_t = [_conv(hid, 3, 1, "dec_t_conv"),
                    ResidualStack(hid, res, blocks, name="dec_t_res"),
                    _conv(code_dim, 4, 2, "dec_t_up", transpose=True)]
      self.up_t = _conv(code_dim, 4, 2, "upsample_top", transpose=True)
      self.quantizers.append(VectorQuantizer(**quant, name="quantizer_top"))
    self.quantizers.append(VectorQuantizer(**quant, name="quantizer_bottom" if levels == 2
                                           else "quantizer"))
    self.dec = [_conv(hid, 3, 1, "dec_conv"), ResidualStack(hid, res, blocks, name="dec_res")]
    if levels == 1:
      self.dec.append(_conv(half, 4, 2, "dec_up1", transpose=True))
    self.dec_out = _conv(c, 4, 2, "dec_up_out", transpose=True)
    self.code_shapes = tuple((h // 4, w // 4) if (levels == 1 or n == 0) else (h // 2, w // 2)
                             for n in range(levels))
    self.code_names = ("codes",) if levels == 1 else ("codes_top", "codes_bottom")
    self.mse_tracker = keras.metrics.Mean(name="mse")
    self.loss_tracker = keras.metrics.Mean(name="loss")
    suffixes = [""] if levels == 1 else ["_top", "_bottom"]
    self.usage_trackers = [CodebookUsage(num_codes, "usage", name="usage" + s) for s in suffixes]
    self.perplexity_trackers = [CodebookUsage(num_codes, "perplexity", name="perplexity" + s)
                                for s in suffixes]
    self._forward(tf.zeros((1,) + self.image_shape))  # build every weight now
    self.built = True

  @property
  def metrics(self):
    return ([self.loss_tracker, self.mse_tracker] + self.usage_trackers
            + self.perplexity_trackers)


  # -- the network -----------------------------------------------------------------

  def _scale(self, x):
    return tf.cast(x, tf.float32) / (self.num_levels - 1)

  def _encode_float(self, x, training=False):
    """Scaled images → (quantized maps, code maps), top level first."""
    h_b = x
    for layer in self.enc_b:
      h_b = tf.nn.relu(layer(h_b)) if not isinstance(layer, ResidualStack) else layer(h_b)
    if self.levels == 1:
      q, k = self.quantizers[0](self.pre_q_b(h_b), training=training)
      return [q], [k]
    h_t = h_b
    for layer in self.enc_t:
      h_t = tf.nn.relu(layer(h_t)) if not isinstance(layer, ResidualStack) else layer(h_t)
    q_t, k_t = self.quantizers[0](self.pre_q_t(h_t), training=training)
    q_b, k_b = self.quantizers[1](self.pre_q_b(tf.concat([h_b, self._top_decoded(q_t)], -1)),
                                  training=training)
    return [q_t, q_b], [k_t, k_b]

  def _top_decoded(self, q_t):
    d = q_t
    for layer in self.dec_t[:-1]:
      d = tf.nn.relu(layer(d)) if not isinstance(layer, ResidualStack) else layer(d)
    return self.dec_t[-1](d)

  def _decode_float(self, quantized):
    """Quantized maps (top first) → reconstructions on the [0, 1] scale (unclipped)."""
    h = quantized[0] if self.levels == 1 else tf.concat([quantized[1], self.up_t(quantized[0])],
                                                        -1)
    for layer in self.dec:
      h = layer(h) if isinstance(layer, ResidualStack) else tf.nn.relu(layer(h))
    return tf.cast(self.dec_out(h), tf.float32) + 0.5   # float32 under mixed precision

  def _forward(self, x_scaled, training=False):
    quantized, codes = self._encode_float(x_scaled, training)
    return self._decode_float(quantized), codes

  def call(self, x, training=False):
    """Reconstructions of integer images ``x`` as floats on [0, 1] (unclipped)."""
    return self._forward(self._scale(self._check_data(x)), training)[0]

  # -- the public API -----------------------------------------------------------------

  def encode(self, x):
    """Integer images ``[B, H, W, C]`` → tuple of int32 code maps ``[B, h, w]``,
    top level first (one map for ``levels=1``)."""
    return tuple(self._encode_float(self._scale(self._check_data(x)))[1])

  def check_codes(self, codes):
    """Validated code maps: a tuple of int32 ``[B, h_l, w_l]`` (top first).
    ``codes`` is that tuple/list, or one map when ``levels=1``."""
    if self.levels == 1 and not isinstance(codes, (tuple, list)):
      codes = (codes,)
    if not isinstance(codes, (tuple, list)) or len(codes) != self.levels:
      raise ValueError(f"`codes` must be {self.levels} code map(s) (top first) of shapes "
                       f"{', '.join(f'[batch, {h}, {w}]' for h, w in self.code_shapes)}; got "
                       f"{type(codes).__name__}"
                       + (f" of {len(codes)}" if isinstance(codes, (tuple, list)) else "") + ".")
    out = []
    for name, shape, k in zip(self.code_names, self.code_shapes, codes):
      k = _validation.discrete_batch(k, list(shape), self.num_codes, name=name)
      out.append(k if not out else _validation.same_rows(k, tf.shape(out[0])[0], name))
    return tuple(out)

  def embed(self, codes, level=0):
    """Codebook vectors ``[..., code_dim]`` of int codes of level ``level`` (0 = top)."""
    return self.quantizers[level].lookup(codes)

  def _to_images(self, floats):
    levels = self.num_levels - 1
    out = tf.clip_by_value(tf.round(floats * levels), 0., float(levels))
    return tf.cast(out, self.data_dtype)

  def decode(self, codes):
    """Code maps (top first; one map for ``levels=1``) → images (uint8)."""
    codes = self.check_codes(codes)
    quantized = [self.embed(k, n) for n, k in enumerate(codes)]
    return self._to_images(self._decode_float(quantized))

  def reconstruct(self, x):
    """``decode(encode(x))``: integer images → images (uint8)."""
    return self._to_images(self(x))

  def preview(self, x):
    """Each image of ``x`` beside its reconstruction: ``[B, H, 2W, C]``."""
    x = self._check_data(x)
    return tf.concat([tf.cast(x, self.data_dtype), self.reconstruct(x)], axis=2)

  # -- training -------------------------------------------------------------------------

  def _objective(self, x, condition, training):
    x = self._scale(x)
    recon, codes = self._forward(x, training=training)
    mse = tf.reduce_mean(tf.square(recon - x), axis=[1, 2, 3])
    objective = mse / self.data_variance
    commitment = tf.add_n(self.losses) if self.losses else 0.
    values = {"loss": objective + commitment, "mse": mse}
    for usage, perplexity, k in zip(self.usage_trackers, self.perplexity_trackers, codes):
      values[usage.name] = values[perplexity.name] = k
    return objective, values

  def describe(self, result, spec=None):
    """``"reconstruction MSE 0.0071 (on [0, 1] pixels); codebook usage 61% ..."``."""
    parts = [f"reconstruction MSE {result['mse']:.5f} (on [0, 1] pixels)"]
    for usage, perplexity in zip(self.usage_trackers, self.perplexity_trackers):
      level = usage.name[len("usage_"):] + " " if usage.name != "usage" else ""
      parts.append(f"{level}codebook usage {result[usage.name]:.0%} of {self.num_codes} "
                   f"(perplexity {result[perplexity.name]:.1f})")
    return "; ".join(parts)

  # -- serving -------------------------------------------------------------------------

  def serving_functions(self):
    """``serving_default`` and ``reconstruct``: ``x`` (int32 images) →
    ``reconstructions`` (uint8); ``encode``: ``x`` → one int32 map per level
    (``codes``, or ``codes_top`` and ``codes_bottom``); ``decode``: those maps
    → ``images`` (uint8). Inputs are checked in the graph."""
    x = tf.TensorSpec([None] + list(self.image_shape), tf.int32, "x")
    codes = [tf.TensorSpec([None, h, w], tf.int32, name)
             for name, (h, w) in zip(self.code_names, self.code_shapes)]
    reconstruct = ServingFunction(lambda x: {"reconstructions": self.reconstruct(x)}, [x])
    return {"serving_default": reconstruct, "reconstruct": reconstruct,
            "encode": ServingFunction(lambda x: dict(zip(self.code_names, self.encode(x))), [x]),
            "decode": ServingFunction(lambda **maps: {"images": self.decode(
                tuple(maps[n] for n in self.code_names))}, codes)}

  def get_config(self):
    return {**super().get_config(), "image_shape": self.image_shape, "levels": self.levels,
            "num_codes": self.num_codes, "code_dim": self.code_dim,
            "hidden_channels": self.hidden_channels,
            "num_residual_blocks": self.num_residual_blocks,
            "residual_channels": self.residual_channels,
            "commitment_cost": self.commitment_cost, "decay": self.decay,
            "epsilon": self.epsilon, "ema": self.ema,
            "restart_threshold": self.restart_threshold, "data_variance": self.data_variance,
            "num_levels": self.num_levels}


FAMILY = ModelFamily(
    "vqvae", VQVAE, "van den Oord, Vinyals & Kavukcuoglu 2017, Neural Discrete Representation "
    "Learning; Razavi, van den Oord & Vinyals 2019 (VQ-VAE-2, --levels 2)",
    "fashion_mnist", demo=dict(levels=1, num_codes=256, code_dim=32, hidden_channels=64,
                               num_residual_blocks=2),
    sizes=(SizeOption("levels", "levels", int, "1: VQ-VAE, 2: VQ-VAE-2 (top and bottom codes)"),
           SizeOption("num-codes", "num_codes", int, "codes per codebook"),
           SizeOption("code-dim", "code_dim", int, "code vector size"),
           SizeOption("hidden-channels", "hidden_channels", int, "encoder/decoder width"),
           SizeOption("num-residual-blocks", "num_residual_blocks", int,
                      "residual blocks per stack")),
    tiny=dict(image_shape=(8, 8, 1), num_codes=4, code_dim=2, hidden_channels=4,
              num_residual_blocks=1))

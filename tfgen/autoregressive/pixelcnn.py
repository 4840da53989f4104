"""PixelCNN and Gated PixelCNN as Keras models that emit distributions."""

import tensorflow as tf
import tensorflow_probability as tfp

from tfgen import _validation
from tfgen.autoregressive import sampling
from tfgen.base import LikelihoodModel
from tfgen.flows.base import check_image_shape
from tfgen.layers.masked_conv import MaskedConv2D
from tfgen.layers.pixelcnn_stacks import GatedPixelCNNStack, PixelCNNStack

tfd = tfp.distributions


class PixelCNN(LikelihoodModel):
  """PixelCNN (van den Oord et al. 2016a) and Gated PixelCNN (2016b).

  ``p(x) = ∏ p(x_{i,j,c} | x_{<(i,j,c)})`` in raster-then-channel order
  (R → G → B inside a pixel), each conditional a ``num_levels``-way softmax.
  ``model(x)`` returns ``tfd.Independent(tfd.Categorical(logits), 3)`` over
  the whole image, so ``loss = −model(x).log_prob(x)``.

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
    num_classes: class-conditional on integer labels ``[B]``.
    conditional_shape: conditional on vectors ``[B, *conditional_shape]``.

  Example:

  >>> model = PixelCNN((28, 28, 1), filters=32, num_layers=5, gated=True)
  >>> model.compile(tfgen.training.default_optimizer(1e-3))
  >>> model.fit(images, epochs=1)                       # uint8 [N, 28, 28, 1]
  >>> model.sample(16, seed=[1, 2])                     # cached by default
  """

  def __init__(self, image_shape, num_levels=256, filters=96, num_layers=12, gated=False,
               kernel_size=3, num_classes=None, conditional_shape=None, name="pixelcnn",
               **kwargs):
    super().__init__(name=name, **kwargs)
    self.image_shape = check_image_shape(image_shape)
    h, w, c = self.image_shape
    if c not in (1, 3):
      raise ValueError(f"PixelCNN supports 1 or 3 channels, got image_shape {image_shape!r}.")
    self.num_levels = _validation.positive_int(num_levels, "num_levels")
    if self.num_levels < 2:
      raise ValueError(f"`num_levels` must be at least 2, got {num_levels}.")
    self.filters = _validation.positive_int(filters, "filters")
    if filters % c:
      raise ValueError(f"`filters` must be a multiple of the channel count {c}, got {filters}.")
    if num_classes is not None and conditional_shape is not None:
      raise ValueError("Pass at most one of `num_classes` and `conditional_shape`.")
    self.num_classes = None if num_classes is None else _validation.positive_int(
        num_classes, "num_classes")
    self.conditional_shape = None if conditional_shape is None else tuple(
        _validation.positive_int(d, "conditional_shape entry") for d in conditional_shape)
    self.gated, self.num_layers, self.kernel_size = bool(gated), num_layers, kernel_size
    self.num_dims = h * w * c
    cond = self.num_classes or (None if self.conditional_shape is None else
                                int(tf.reduce_prod(self.conditional_shape)))
    if gated:
      self.stack = GatedPixelCNNStack(c, filters, num_layers, kernel_size, condition_size=cond)
    else:
      self.stack = PixelCNNStack(c, filters, num_layers, kernel_size, condition_size=cond)
    self.head_hidden = MaskedConv2D(filters, 1, "B", c, name="head_hidden")
    self.head_out = MaskedConv2D(c * num_levels, 1, "B", c, name="head_out")
    x = tf.zeros((1,) + self.image_shape, tf.int32)
    self._logits(x, self._condition(self._dummy_labels(1), 1))  # build every weight now
    self.built = True

  # -- inputs ---------------------------------------------------------------

  def _dummy_labels(self, n):
    if self.num_classes:
      return tf.zeros([n], tf.int32)
    if self.conditional_shape:
      return tf.zeros((n,) + self.conditional_shape)
    return None

  def _condition(self, labels, batch):
    """Validated conditioning vector ``[B, d]``, or None."""
    if self.num_classes is None and self.conditional_shape is None:
      if labels is not None:
        raise ValueError("`labels` were given, but this model is unconditional.")
      return None
    if labels is None:
      kind = ("class labels [batch]" if self.num_classes else
              f"vectors [batch, {', '.join(map(str, self.conditional_shape))}]")
      raise ValueError(f"This model is conditional; pass `labels` ({kind}).")
    if self.num_classes:
      labels = _validation.discrete_batch(labels, [], self.num_classes, name="labels")
      cond = tf.one_hot(labels, self.num_classes)
    else:
      cond = tf.convert_to_tensor(labels, tf.float32)
      _validation.static_shape(cond, list(self.conditional_shape), "labels")
      cond = tf.reshape(cond, [tf.shape(cond)[0], -1])
    if batch is not None and cond.shape[0] is not None and cond.shape[0] != batch:
      raise ValueError(f"`labels` must have {batch} rows, got {cond.shape[0]}.")
    return cond

  def _scale(self, x):
    return tf.cast(x, tf.float32) * (2. / (self.num_levels - 1)) - 1.

  def _head(self, features):
    """``[..., F]`` features → logits ``[..., C, K]``."""
    h = tf.nn.relu(features)
    spatial = h.shape.rank == 4  # whole images, or one position [B, F] when sampling
    h = tf.nn.relu(self.head_hidden(h) if spatial else self.head_hidden.position(h))
    out = self.head_out(h) if spatial else self.head_out.position(h)
    out = tf.cast(out, tf.float32)  # float32 logits under a mixed-precision policy
    return tf.reshape(out, tf.concat([tf.shape(out)[:-1], [self.image_shape[2],
                                                            self.num_levels]], 0))

  def _logits(self, x, condition):
    return self._head(self.stack(self._scale(x), condition))

  def logits_from_float(self, x, labels=None):
    """Logits ``[B, H, W, C, K]`` for a float input already scaled to
    ``[−1, 1]``: differentiable in the input, for receptive-field analysis
    (``∂ logits[i] / ∂ x[j]`` is zero for every ``j ≥ i``)."""
    return self._head(self.stack(tf.convert_to_tensor(x, tf.float32),
                                 self._condition(labels, x.shape[0])))

  # -- likelihood ----------------------------------------------------------

  def call(self, inputs, labels=None, training=False):
    """Returns ``Independent(Categorical)`` over images ``[B, H, W, C]``."""
    if isinstance(inputs, (tuple, list)):
      inputs, labels = inputs
    x = _validation.discrete_batch(inputs, self.image_shape, self.num_levels, name="x")
    logits = self._logits(x, self._condition(labels, x.shape[0]))
    return tfd.Independent(tfd.Categorical(logits=logits), reinterpreted_batch_ndims=3)

  def log_prob(self, x, labels=None, training=False):
    x = _validation.discrete_batch(x, self.image_shape, self.num_levels, name="x")
    return self(x, labels=labels, training=training).log_prob(x)

  def bits_per_dim(self, x, labels=None):
    from tfgen.base import bits_per_dim
    return bits_per_dim(self.log_prob(x, labels=labels), self.num_dims)

  # -- sampling -------------------------------------------------------------

  def sample(self, n, seed=None, temperature=1.0, labels=None, method="cached", prefix=None):
    """Draws ``n`` images (int32 ``[n, H, W, C]``) one sub-pixel at a time.

    Args:
      n: number of images.
      seed: int ``[2]`` for reproducible (stateless) sampling.
      temperature: ``T > 0``; each conditional becomes ``softmax(logits/T)``.
      labels: conditioning for conditional models, ``n`` rows.
      method: ``'cached'`` (fast) or ``'naive'``; identical for a seed.
      prefix: integer images ``[n, h0, W, C]``: the top ``h0`` rows are kept
        and the rest completed.
    """
    n = _validation.positive_int(n, "n")
    _validation.one_of(method, "method", {"cached", "naive"})
    temperature = _validation.temperature(temperature)
    seed = _validation.seed(seed)
    h, w, c = self.image_shape
    images = tf.zeros([n, h, w, c], tf.int32)
    start = 0
    if prefix is not None:
      prefix = _validation.discrete_batch(prefix, [None, w, c], self.num_levels, name="prefix")
      if prefix.shape[0] != n or prefix.shape[1] > h:
        raise ValueError(f"`prefix` must have shape [{n}, rows <= {h}, {w}, {c}], "
                         f"got {prefix.shape.as_list()}.")
      images = tf.concat([prefix, images[:, prefix.shape[1]:]], axis=1)
      start = prefix.shape[1] * w * c
    condition = self._condition(labels, n)
    noise = sampling.gumbel_noise([n, h, w, c, self.num_levels], seed)
    fn = self._cached_fn if method == "cached" else self._naive_fn
    return fn(images, tf.constant(start), noise, tf.constant(temperature), condition)

  def sample_graph(self, n, seed, temperature, condition=None):
    """Cached sampling with tensor arguments (for export); ``condition`` is
    the already-encoded conditioning vector ``[n, d]`` or None."""
    h, w, c = self.image_shape
    images = tf.zeros(tf.stack([n, h, w, c]), tf.int32)
    noise = sampling.gumbel_noise(tf.stack([n, h, w, c, self.num_levels]), seed)
    return self._cached_fn(images, tf.constant(0), noise, temperature, condition)

  def encode_condition(self, labels, batch=None):
    """Validated conditioning vector for ``labels`` (None if unconditional)."""
    return self._condition(labels, batch)

  @tf.function(reduce_retracing=True)
  def _naive_fn(self, images, start, noise, temperature, condition):
    return sampling.sample_naive(lambda x: self._logits(x, condition), images, start, noise,
                                 temperature)

  @tf.function(reduce_retracing=True)
  def _cached_fn(self, images, start, noise, temperature, condition):
    return sampling.sample_cached(self.stack, self._head, self._scale, images, start, noise,
                                  temperature, condition)

  def get_config(self):
    return {"image_shape": self.image_shape, "num_levels": self.num_levels,
            "filters": self.filters, "num_layers": self.num_layers, "gated": self.gated,
            "kernel_size": self.kernel_size, "num_classes": self.num_classes,
            "conditional_shape": self.conditional_shape}

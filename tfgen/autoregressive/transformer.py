"""Decoder-only Transformers over bytes (GPT-style) and over image pixels (Sparse Transformer)."""

import tensorflow as tf
import tensorflow_probability as tfp

from tfgen import _validation
from tfgen._keras import keras
from tfgen.autoregressive import sampling
from tfgen.base import LikelihoodModel
from tfgen.family import ModelFamily, SizeOption
from tfgen.layers.sparse_attention import PATTERNS, default_block
from tfgen.layers.transformer_blocks import DecoderStack

tfd = tfp.distributions


class Transformer(LikelihoodModel):
  """A decoder-only Transformer: ``p(x) = ∏_t Categorical(x_t | x_<t)``.

  The input at position ``t`` is the embedding of ``x_{t−1}`` (a learned
  start token at ``t = 0``) plus a learned positional embedding (plus a
  learned projection of the condition, if any); ``num_layers``
  pre-LayerNorm blocks (:class:`tfgen.layers.DecoderStack`) and a linear
  head give the logits of ``x_t``. Byte-level by default (``num_levels=256``:
  no vocabulary).

  ``attention`` is ``'dense'`` (GPT), or a factorized sparse pattern of the
  Sparse Transformer (Child et al. 2019) with stride ``block_size``
  (default ``⌈√context_length⌉``): ``'strided'`` (half the heads see the
  previous ``l`` positions, half every ``l``-th position back) or
  ``'fixed'`` (half see their own block of ``l``, half the last position
  of every block). Sparse patterns cost O(n·√n), not O(n²). Two layers of
  either reach every earlier position.

  ``sample(n, length=T, prime=...)`` generates one position per step with a
  key/value cache per layer (``method='cached'``, XLA-compiled), or reruns
  the whole network for every position (``method='naive'``); both read the
  same Gumbel noise, so they return the same codes for a seed. Sequences
  longer than ``context_length`` are refused (no silent sliding window).

  Args:
    num_levels: ``K``; data are integers in ``[0, K)``.
    context_length: the longest sequence (positional embeddings).
    num_layers, d_model, num_heads: the size; ``d_model`` divisible by
      ``num_heads`` (even for sparse patterns).
    attention: ``'dense'``, ``'strided'`` or ``'fixed'``.
    block_size: the sparse stride ``l``.
    dropout: on residual branches, in training.
    num_classes, condition_shape: conditional on class ids or vectors.

  References:
    - Vaswani et al. (2017). Attention Is All You Need. arXiv:1706.03762.
    - Child, Gray, Radford & Sutskever (2019). Generating Long Sequences with Sparse
      Transformers. arXiv:1904.10509.
  """

  DATA_KINDS = ("text", "audio")

  def __init__(self, num_levels=256, context_length=256, num_layers=4, d_model=128,
               num_heads=4, attention="dense", block_size=None, dropout=0.0, num_classes=None,
               condition_shape=None, name="transformer", **kwargs):
    super().__init__(name=name, **kwargs)
    self.num_levels = _validation.positive_int(num_levels, "num_levels")
    if self.num_levels < 2:
      raise ValueError(f"`num_levels` must be at least 2, got {num_levels}.")
    self.context_length = _validation.positive_int(context_length, "context_length")
    _validation.one_of(attention, "attention", set(PATTERNS))
    if attention != "dense" and block_size is None:
      block_size = default_block(self.context_length)
    if not (isinstance(dropout, (int, float)) and 0 <= dropout < 1):
      raise ValueError(f"`dropout` must lie in [0, 1), got {dropout!r}.")
    self._set_condition(num_classes, condition_shape)
    self._set_event()
    self.stack = DecoderStack(num_layers, d_model, num_heads, attention, block_size, dropout,
                              name="decoder")
    self.num_layers, self.d_model, self.num_heads = num_layers, d_model, num_heads
    self.attention, self.block_size, self.dropout = attention, block_size, float(dropout)
    self.embed = keras.layers.Embedding(self.num_levels + 1, d_model, name="embed")
    self._make_positions()
    self.condition_proj = (keras.layers.Dense(d_model, use_bias=False, name="condition")
                           if self.condition_size else None)
    self.head = keras.layers.Dense(self.num_levels, name="head")
    cond = None if self.condition_size is None else tf.zeros([1, self.condition_size])
    self._logits(tf.zeros([1, 2], tf.int32), cond)  # build every weight now
    self.built = True

  # -- what a subclass changes ------------------------------------------------------

  def _set_event(self):
    self.event_shape = (None,)

  def _make_positions(self):
    self.positions = keras.layers.Embedding(self.context_length, self.d_model, name="positions")

  def _position_embedding(self, positions):
    """``positions`` (int ``[...]``) → ``[..., d_model]``."""
    return self.positions(positions)

  def _flat(self, x):
    return x

  # -- the network -------------------------------------------------------------------


  @property
  def default_window(self):
    return self.context_length

  @property
  def bos(self):
    return self.num_levels

  def check_window(self, window):
    window = super().check_window(window)
    if self.is_sequence and window is not None:
      self._check_length(int(window))
    return window

  def _check_length(self, length):
    message = (f"`x`: sequences are at most context_length={self.context_length} long; cut "
               "them into windows (tfgen.data.load(..., window=...)) or build a longer "
               "context")
    if isinstance(length, int):
      if length > self.context_length:
        raise ValueError(f"{message}: got {length}.")
      return None
    return _validation._check(lambda: length <= self.context_length, message + ".")

  def _inputs(self, flat, condition):
    """``[B, T]`` codes → input embeddings ``[B, T, d]`` (shifted: position t sees x_{t−1})."""
    bos = tf.fill(tf.stack([tf.shape(flat)[0], 1]), self.bos)
    tokens = tf.concat([bos, flat[:, :-1]], axis=1)
    h = self.embed(tokens) + self._position_embedding(tf.range(tf.shape(flat)[1]))[None]
    if condition is not None:
      h = h + self.condition_proj(condition)[:, None, :]
    return h

  def _logits(self, x, condition, training=False):
    flat = self._flat(x)
    length = flat.shape[1] if flat.shape[1] is not None else tf.shape(flat)[1]
    check = self._check_length(length)
    if check is not None:  # before the positional lookup, which would fail less clearly
      with tf.control_dependencies([check]):
        flat = tf.identity(flat)
    return self.logits_from_embedded(self._inputs(flat, condition), training=training)

  def logits_from_embedded(self, h, training=False):
    """Logits ``[B, T, K]`` from input embeddings ``[B, T, d_model]`` (differentiable in
    ``h``, for receptive-field analysis: logits[t] depends on h[j] only for allowed j)."""
    return tf.cast(self.head(self.stack(h, training=training)), tf.float32)

  def _conditionals(self, x, condition):
    """``Independent(Categorical)`` over the event: each conditional given ``x``."""
    logits = tf.reshape(self._logits(x, condition),
                        tf.concat([tf.shape(x), [self.num_levels]], 0))
    return tfd.Independent(tfd.Categorical(logits=logits), len(self.event_shape))

  def _log_prob(self, x, condition, training=False):
    flat = self._flat(x)
    logits = self._logits(x, condition, training=training)
    return tf.reduce_sum(tfd.Categorical(logits=logits).log_prob(flat), axis=1)

  def _event_dims(self, x):
    return tf.cast(tf.reduce_prod(tf.shape(x)[1:]), tf.float32)

  # -- sampling ----------------------------------------------------------------------

  SAMPLE_OPTIONS = ("length", "prime", "method")

  def _sample_elements(self, options):
    """Floats one sequence needs: its Gumbel noise and the key/value cache,
    ``2 · num_layers · d_model`` per position."""
    length = options.get("length")
    length = self.context_length if length is None else length
    return length * (self.num_levels + 2 * self.num_layers * self.d_model)

  def _sample(self, n, seed, temperature, condition, length=None, prime=None, method="cached"):
    """``n`` sequences of ``length`` (≤ context_length) codes, starting with ``prime``."""
    if length is None:
      length = self.context_length
    _validation.one_of(method, "method", {"cached", "naive"})
    check = self._check_length(length)
    prime = (tf.zeros([0], tf.int32) if prime is None
             else sampling.as_prime(prime, self.num_levels, length))
    if check is not None:
      with tf.control_dependencies([check]):
        prime = tf.identity(prime)
    noise = sampling.gumbel_noise(tf.stack([n, length, self.num_levels]), seed)
    cond = (tf.zeros(tf.stack([n, self.d_model])) if condition is None
            else self.condition_proj(condition))
    fn = self._cached_fn if method == "cached" else self._naive_fn
    return fn(noise, temperature, cond, prime)

  @sampling.compiled
  def _cached_fn(self, noise, temperature, cond, prime):
    n, length = tf.shape(noise)[0], tf.shape(noise)[1]
    cache = self.stack.empty_cache(n, length)

    def body(t, token, codes, cache):
      h = self.embed(token) + self._position_embedding(t)[None] + cond
      h, cache = self.stack.step(h, t, cache)
      logits = tf.cast(self.head(h), tf.float32)
      value = sampling.primed(t, prime, sampling.gumbel_argmax(logits, noise[:, t], temperature))
      return t + 1, value, sampling.put_step(codes, t, value), cache

    init = (0, tf.fill(tf.stack([n]), self.bos), tf.zeros(tf.stack([n, length]), tf.int32),
            cache)
    return tf.while_loop(lambda t, *_: t < length, body, init)[2]

  @tf.function(reduce_retracing=True)
  def _naive_fn(self, noise, temperature, cond, prime):
    n, length = tf.shape(noise)[0], tf.shape(noise)[1]

    def body(t, codes):
      tokens = tf.concat([tf.fill(tf.stack([n, 1]), self.bos), codes[:, :-1]], axis=1)
      h = (self.embed(tokens) + self._position_embedding(tf.range(length))[None]
           + cond[:, None, :])
      logits = tf.gather(self.logits_from_embedded(h), t, axis=1)
      value = sampling.primed(t, prime, sampling.gumbel_argmax(logits, noise[:, t], temperature))
      return t + 1, sampling.put_step(codes, t, value)

    return tf.while_loop(lambda t, _: t < length, body,
                         (0, tf.zeros(tf.stack([n, length]), tf.int32)))[1]

  def get_config(self):
    return {**super().get_config(), "num_levels": self.num_levels,
            "context_length": self.context_length, "num_layers": self.num_layers,
            "d_model": self.d_model, "num_heads": self.num_heads, "attention": self.attention,
            "block_size": self.block_size, "dropout": self.dropout,
            "num_classes": self.num_classes, "condition_shape": self.condition_shape}


class ImageTransformer(Transformer):
  """The Sparse Transformer on images: a :class:`Transformer` over sub-pixels in
  raster-then-channel order (R → G → B inside a pixel), ``H·W·C`` positions.

  Positions are embedded as the sum of learned row, column and channel
  embeddings. Data are integer images ``[B, H, W, C]`` (uint8 for 256
  levels) and samples come out in the same form; ``sample(n,
  prefix=rows)`` keeps the top rows of ``prefix`` and completes the rest,
  like ``PixelCNN.sample(prefix=...)``. ``block_size`` defaults to the row
  length in sub-pixels (``W·C``), so ``'strided'`` heads see the previous
  row and the column above (Child et al. §4.2).

  References:
    - Child, Gray, Radford & Sutskever (2019). Generating Long Sequences with Sparse
      Transformers. arXiv:1904.10509.
  """

  DATA_KINDS = ("image",)

  def __init__(self, image_shape, num_levels=256, num_layers=4, d_model=128, num_heads=4,
               attention="strided", block_size=None, dropout=0.0, num_classes=None,
               condition_shape=None, name="image_transformer", **kwargs):
    self.image_shape = _validation.image_shape(image_shape)
    h, w, c = self.image_shape
    if attention != "dense" and block_size is None:
      block_size = w * c
    super().__init__(num_levels=num_levels, context_length=h * w * c, num_layers=num_layers,
                     d_model=d_model, num_heads=num_heads, attention=attention,
                     block_size=block_size, dropout=dropout, num_classes=num_classes,
                     condition_shape=condition_shape, name=name, **kwargs)

  def _set_event(self):
    self.event_shape = self.image_shape

  def _make_positions(self):
    h, w, c = self.image_shape
    self.rows = keras.layers.Embedding(h, self.d_model, name="rows")
    self.cols = keras.layers.Embedding(w, self.d_model, name="cols")
    self.channels = keras.layers.Embedding(c, self.d_model, name="channels")

  def _position_embedding(self, positions):
    _, w, c = self.image_shape
    return (self.rows(positions // (w * c)) + self.cols((positions // c) % w)
            + self.channels(positions % c))

  def _flat(self, x):
    return tf.reshape(x, tf.stack([tf.shape(x)[0], -1]))

  SAMPLE_OPTIONS = ("prefix", "method")

  def _sample(self, n, seed, temperature, condition, prefix=None, method="cached"):
    """``n`` images; ``prefix`` (``[n, rows, W, C]``, ``rows < H``) keeps the top rows."""
    _validation.one_of(method, "method", {"cached", "naive"})
    h, w, c = self.image_shape
    if prefix is not None:
      images, start = sampling.image_prefix(prefix, n, self.image_shape, self.num_levels)
      prefix = images[:, :start // (w * c)]
    flat = self._image_graph(n, seed, temperature, condition, prefix, method)
    return tf.reshape(flat, tf.stack([n, h, w, c]))

  def _image_graph(self, n, seed, temperature, condition, prefix, method):
    noise = sampling.gumbel_noise(tf.stack([n, self.num_dims, self.num_levels]), seed)
    cond = (tf.zeros(tf.stack([n, self.d_model])) if condition is None
            else self.condition_proj(condition))
    fn = self._cached_fn if method == "cached" else self._naive_fn
    if prefix is None:
      return fn(noise, temperature, cond, tf.zeros([0], tf.int32))
    # A prefix differs per image: force it through the noise (a one-hot with
    # a huge margin is an exact "sample" of the given code).
    flat = tf.reshape(prefix, [n, -1])
    forced = tf.one_hot(flat, self.num_levels) * 1e9
    k = tf.shape(flat)[1]
    noise = tf.concat([forced, noise[:, k:]], axis=1)
    return fn(noise, temperature, cond, tf.zeros([0], tf.int32))


  @property
  def default_window(self):
    return None

  def get_config(self):
    config = super().get_config()
    config.pop("context_length")
    return {**config, "image_shape": self.image_shape}


_SIZES = (SizeOption("num-layers", "num_layers", int, "decoder blocks"),
          SizeOption("d-model", "d_model", int, "model width"),
          SizeOption("num-heads", "num_heads", int, "attention heads"),
          SizeOption("attention", "attention", str,
                     f"attention pattern: {', '.join(PATTERNS)}"),
          SizeOption("block-size", "block_size", int, "sparse attention stride"))

FAMILY = ModelFamily(
    "transformer", Transformer, "Radford et al. 2019 (GPT-2, byte level); Child et al. 2019, "
    "Generating Long Sequences with Sparse Transformers", "fortunes",
    demo=dict(context_length=256, num_layers=4, d_model=128, num_heads=4, attention="dense"),
    sizes=_SIZES + (SizeOption("context-length", "context_length", int,
                               "longest sequence"),),
    tiny=dict(num_levels=8, context_length=12, num_layers=1, d_model=8, num_heads=2,
              attention="strided"))

IMAGE_FAMILY = ModelFamily(
    "image_transformer", ImageTransformer, "Child et al. 2019, Generating Long Sequences with "
    "Sparse Transformers (images)", "binarized_fashion_mnist",
    demo=dict(num_layers=4, d_model=64, num_heads=4, attention="strided"), sizes=_SIZES,
    tiny=dict(image_shape=(4, 4, 1), num_levels=4, num_layers=1, d_model=8, num_heads=2))

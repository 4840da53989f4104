"""A DALL-E-style text-to-image prior: one Transformer over [caption bytes ; BOS ; image codes]."""

import math

import numpy as np
import tensorflow as tf

from tfgen import _validation
from tfgen._keras import keras
from tfgen.autoregressive import sampling
from tfgen.base import LikelihoodModel
from tfgen.export.signatures import ServingFunction
from tfgen.family import ModelFamily, SizeOption
from tfgen.data.captions import encode_captions, label_captions
from tfgen.latent.code_prior import _as_vqvae
from tfgen.layers.transformer_blocks import DecoderStack

#: Fashion-MNIST's class names, in label order (Xiao et al. 2017).
FASHION_MNIST_CLASSES = ("t-shirt", "trouser", "pullover", "dress", "coat", "sandal", "shirt",
                         "sneaker", "bag", "ankle boot")

#: Caption templates; ``{}`` is the class name.
TEMPLATES = ("{}", "{} photo", "photo of {}", "image of {}", "picture of {}", "grey {}",
             "small {}", "one {}")




class TextToImage(LikelihoodModel):
  """DALL-E's recipe (Ramesh et al. 2021) on a trained VQ-VAE: a decoder-only
  Transformer over one sequence per image::

    s = [ caption bytes (T, 0-padded) ; BOS ; image codes (N = h·w, raster order) ]
    log p(s) = Σ_t log p(s_t | s_<t)

  Caption bytes, a pad token, the image codes and BOS have their own token
  ids; text positions carry learned position embeddings and image positions
  the sum of a learned row and column embedding. The heads for text and for
  image tokens are separate softmaxes, so an image position always predicts
  a code. Training minimises the cross-entropy weighted between the two
  parts, as in DALL-E: ``text_loss_weight · (bits per text token) + (1 −
  text_loss_weight) · (bits per image code)`` (DALL-E: 1/8 and 7/8).

  ``log_prob(x, captions)`` is the exact ``log p(codes(x) | caption)`` in
  nats; ``bits_per_dim`` is bits per image code. ``condition`` is the
  captions: int32 bytes ``[B, text_length]`` (:func:`encode_captions`), or
  a list of strings.

  ``sample(n, prompt="ankle boot", seed=, temperature=)`` feeds the prompt
  through the key/value cache, samples the ``N`` codes (``method='naive'``
  reruns the network each step; same codes for a seed) and decodes them to
  uint8 images. With neither ``prompt`` nor ``condition``, sample ``i``
  gets the caption of class ``i mod C``.

  Training data: ``fit(images, captions)``, or images with class labels
  through ``data_encoder`` (``uses_labels``), which computes the codes once
  and draws each image a caption from ``templates`` with its class name.

  Args:
    vqvae: a trained one-level :class:`~tfgen.latent.VQVAE` (or its config).
    text_length: caption bytes ``T``.
    num_layers, d_model, num_heads, dropout: the Transformer.
    text_loss_weight: the text share of the loss.
    class_names: names of the dataset's classes, in label order.
    templates: caption templates with one ``{}``.

  References:
    - Ramesh et al. (2021). Zero-Shot Text-to-Image Generation. arXiv:2102.12092.
  """

  cannot_code_reason = ("its likelihood is over its VQ-VAE's codes, not over the images it "
                        "returns; a lossless image coder needs a likelihood over the pixels.")

  dimension_name = "code"
  uses_labels = True

  def __init__(self, vqvae, text_length=32, num_layers=4, d_model=128, num_heads=4,
               dropout=0.0, text_loss_weight=0.125, class_names=FASHION_MNIST_CLASSES,
               templates=TEMPLATES, name="text_to_image", **kwargs):
    super().__init__(name=name, **kwargs)
    self.vqvae = _as_vqvae(vqvae)
    if self.vqvae.levels != 1:
      raise ValueError("TextToImage models one code map: give it a VQ-VAE with levels=1, "
                       f"got levels={self.vqvae.levels}.")
    self.vqvae.trainable = False
    self.event_shape, self.num_levels = self.vqvae.image_shape, self.vqvae.num_levels
    self.text_length = _validation.positive_int(text_length, "text_length")
    if not (isinstance(text_loss_weight, (int, float)) and 0 <= text_loss_weight < 1):
      raise ValueError(f"`text_loss_weight` must lie in [0, 1), got {text_loss_weight!r}.")
    self.text_loss_weight = float(text_loss_weight)
    self.class_names = tuple(str(c) for c in class_names)
    self.templates = tuple(str(t) for t in templates)
    if not self.class_names or not self.templates or any(
        t.count("{}") != 1 for t in self.templates):
      raise ValueError("`class_names` must be non-empty and every template must hold "
                       f"one '{{}}', got templates {self.templates!r}.")
    encode_captions([t.format(c) for t in self.templates for c in self.class_names],
                    self.text_length)  # every caption it would make must fit
    self.num_codes = self.vqvae.num_codes
    (self.map_h, self.map_w), = self.vqvae.code_shapes
    self.num_dims = self.map_h * self.map_w
    self.num_layers, self.d_model, self.num_heads = num_layers, d_model, num_heads
    self.dropout = float(dropout)
    # Token ids: bytes 1..255 as themselves, 256 = pad (byte 0), codes after, then BOS.
    self.pad, self.code_offset = 256, 257
    self.bos = 257 + self.num_codes
    self.embed = keras.layers.Embedding(self.bos + 1, d_model, name="embed")
    self.text_positions = keras.layers.Embedding(self.text_length + 1, d_model,
                                                 name="text_positions")
    self.rows = keras.layers.Embedding(self.map_h, d_model, name="rows")
    self.cols = keras.layers.Embedding(self.map_w, d_model, name="cols")
    self.stack = DecoderStack(num_layers, d_model, num_heads, "dense", None, dropout,
                              name="decoder")
    self.text_head = keras.layers.Dense(257, name="text_head")
    self.image_head = keras.layers.Dense(self.num_codes, name="image_head")
    self.text_tracker = keras.metrics.Mean(name="text_bits_per_byte")
    self._logits(tf.zeros([1, self.num_dims], tf.int32),
                 tf.ones([1, self.text_length], tf.int32))  # build every weight now
    self.built = True

  @property
  def metrics(self):
    return super().metrics + [self.text_tracker]

  @classmethod
  def _from_dataset(cls, spec, vqvae=None, **sizes):
    vqvae = _as_vqvae(vqvae)
    if tuple(spec.shape) != tuple(vqvae.image_shape):
      raise ValueError(f"The VQ-VAE was trained on {vqvae.image_shape} images; dataset "
                       f"{spec.name!r} holds {spec.shape} {spec.kind} data.")
    names = sizes.pop("class_names", FASHION_MNIST_CLASSES)
    if spec.num_classes != len(names):
      raise ValueError(f"Dataset {spec.name!r} has {spec.num_classes} classes but "
                       f"{len(names)} class names were given.")
    return cls(vqvae, class_names=names, **sizes)

  # -- captions -------------------------------------------------------------------

  @property
  def condition_spec(self):
    return tf.TensorSpec([None, self.text_length], tf.int32, "condition")

  def captions_of(self, labels, seed=0):
    """int32 captions ``[B, T]`` for class ids: a template drawn per example."""
    return label_captions(labels, **self.label_encoding["captions"], seed=seed)

  @property
  def label_encoding(self):
    """Class labels become captions: a template per image with its class name."""
    return {"captions": {"class_names": list(self.class_names),
                         "templates": list(self.templates), "text_length": self.text_length}}

  def _encode_condition(self, condition, batch):
    if condition is None:
      raise ValueError(f"{self.name} needs captions: pass `condition` (int32 bytes [batch, "
                       f"{self.text_length}] from encode_captions, or a list of strings).")
    texts = isinstance(condition, (list, tuple)) and condition
    if texts and isinstance(condition[0], (str, bytes)):
      condition = encode_captions(condition, self.text_length)
    captions = _validation.discrete_batch(condition, [self.text_length], 256,
                                          name="condition")
    check = _validation._check(lambda: tf.reduce_all(tf.reduce_any(captions > 0, axis=1)),
                               "every caption needs at least one byte; got an empty one.")
    captions = _validation._guarded(captions, [check])
    return _validation.same_rows(captions, batch, "condition")

  @property
  def data_encoder(self):
    """``(images, labels) → (codes [B, N], captions [B, T])``, a template per image."""
    counter = [0]

    def encode(batch):
      images, labels = batch
      counter[0] += 1
      return (self.codes_of(images),
              tf.constant(self.captions_of(np.asarray(labels), seed=counter[0])))
    return encode

  def codes_of(self, x):
    """Integer images → flat int32 codes ``[B, N]``."""
    codes, = self.vqvae.encode(x)
    return tf.reshape(codes, [tf.shape(codes)[0], -1])

  def _check_data(self, x):
    if not isinstance(x, (tf.Tensor, tf.Variable)):
      x = tf.convert_to_tensor(x)
    if x.shape.rank == 2:
      return _validation.discrete_batch(x, [self.num_dims], self.num_codes, name="codes")
    return super()._check_data(x)

  def _event_dims(self, x):
    return float(self.num_dims)

  # -- the network -------------------------------------------------------------------

  def _text_tokens(self, captions):
    return tf.where(captions > 0, captions, self.pad)

  def _positions(self, length):
    """Position embeddings of sequence positions ``[0, length)``: ``[length, d]``."""
    t = tf.range(length)
    text = self.text_positions(tf.minimum(t, self.text_length))
    i = tf.maximum(t - self.text_length - 1, 0)
    image = self.rows(i // self.map_w) + self.cols(i % self.map_w)
    return tf.where((t <= self.text_length)[:, None], text, image)

  def _position(self, t):
    """The position embedding of one (tensor) position ``t``: ``[d]``."""
    i = tf.maximum(t - self.text_length - 1, 0)
    text = self.text_positions(tf.minimum(t, self.text_length))
    image = self.rows(i // self.map_w) + self.cols(i % self.map_w)
    return tf.where(t <= self.text_length, text, image)

  def _sequence(self, codes, captions):
    bos = tf.fill(tf.stack([tf.shape(codes)[0], 1]), self.bos)
    return tf.concat([self._text_tokens(captions), bos, codes + self.code_offset], axis=1)

  def _logits(self, codes, captions, training=False):
    """``(text logits [B, T−1, 257], image logits [B, N, K])``."""
    s = self._sequence(codes, captions)[:, :-1]
    h = self.embed(s) + self._positions(tf.shape(s)[1])[None]
    h = self.stack(h, training=training)
    t = self.text_length
    return (tf.cast(self.text_head(h[:, :t - 1]), tf.float32),
            tf.cast(self.image_head(h[:, t:]), tf.float32))

  def _nlls(self, x, captions, training):
    codes = x if x.shape.rank == 2 else self.codes_of(x)
    text_logits, image_logits = self._logits(codes, captions, training)
    text_targets = self._text_tokens(captions)[:, 1:]
    text_nll = tf.reduce_sum(tf.nn.sparse_softmax_cross_entropy_with_logits(
        text_targets, text_logits), axis=1)
    image_nll = tf.reduce_sum(tf.nn.sparse_softmax_cross_entropy_with_logits(
        codes, image_logits), axis=1)
    return text_nll, image_nll

  def _log_prob(self, x, condition, training=False):
    return -self._nlls(x, condition, training)[1]

  def _objective(self, x, condition, training):
    x = self._check_data(x)
    captions = self._encode_condition(condition, tf.shape(x)[0])
    text_nll, image_nll = self._nlls(x, captions, training)
    text_bits = text_nll / (max(self.text_length - 1, 1) * math.log(2.))
    image_bits = image_nll / (self.num_dims * math.log(2.))
    w = self.text_loss_weight
    return (w * text_bits + (1. - w) * image_bits,
            {"loss": image_nll, "bits_per_dim": image_bits, "text_bits_per_byte": text_bits})

  # -- sampling -----------------------------------------------------------------------

  SAMPLE_OPTIONS = ("method",)

  def _sample_elements(self, options):
    return self.num_dims * self.num_codes

  def _captions_for(self, n, prompt, condition):
    if prompt is not None:
      if condition is not None:
        raise ValueError("Pass `prompt` or `condition`, not both.")
      if not isinstance(prompt, (str, bytes, bytearray)):
        raise ValueError(f"`prompt` must be text (str or bytes), got "
                         f"{type(prompt).__name__}.")
      try:
        row = encode_captions([prompt], self.text_length)
      except ValueError as e:
        raise ValueError("`prompt`: " + str(e).replace("caption 0 ", "it ", 1)) from None
      return tf.tile(tf.constant(row), [n, 1])
    if condition is None:
      return tf.constant(encode_captions(
          [self.templates[0].format(self.class_names[i % len(self.class_names)])
         for i in range(n)], self.text_length))
    return condition

  def sample(self, n, *, seed=None, temperature=1.0, condition=None, prompt=None, **options):
    """``n`` images for a ``prompt`` (str), for ``condition`` captions, or
    (neither) for each class's caption in turn."""
    if isinstance(n, (int, np.integer)) and not isinstance(n, bool) and 1 <= n <= self.max_samples:
      condition = self._captions_for(int(n), prompt, condition)
    return super().sample(n, seed=seed, temperature=temperature, condition=condition, **options)

  def sample_options(self):
    return super().sample_options() + ["prompt"]

  def _sample(self, n, seed, temperature, condition, method="cached"):
    """Codes given the captions (``method``: ``'cached'`` or ``'naive'``,
    identical for a seed), decoded to images."""
    _validation.one_of(method, "method", {"cached", "naive"})
    codes = self.sample_codes(n, seed, temperature, condition, method)
    codes = tf.reshape(codes, tf.stack([n, self.map_h, self.map_w]))
    return self.vqvae.decode([codes])

  def sample_codes(self, n, seed, temperature, captions, method="cached"):
    """Flat codes ``[n, N]`` given encoded captions (tensor ``seed``)."""
    noise = sampling.gumbel_noise(tf.stack([n, self.num_dims, self.num_codes]), seed)
    fn = self._cached_fn if method == "cached" else self._naive_fn
    return fn(self._text_tokens(captions), noise, temperature)

  @tf.function(reduce_retracing=True, jit_compile=True)
  def _cached_fn(self, text, noise, temperature):
    n, t_len = tf.shape(noise)[0], self.text_length
    steps = t_len + self.num_dims
    forced = tf.concat([text, tf.fill(tf.stack([n, 1]), self.bos)], axis=1)  # [n, T + 1]
    cache = self.stack.empty_cache(n, steps)

    def body(t, token, codes, cache):
      h = self.embed(token) + self._position(t)[None]
      h, cache = self.stack.step(h, t, cache)
      drawn = sampling.gumbel_argmax(self.image_head(h), tf.gather(
          noise, tf.maximum(t - t_len, 0), axis=1), temperature)
      codes = tf.cond(t >= t_len, lambda: sampling.put_step(codes, t - t_len, drawn),
                      lambda: codes)
      following = tf.where(t + 1 <= t_len, tf.gather(forced, tf.minimum(t + 1, t_len),
                                                     axis=1), drawn + self.code_offset)
      return t + 1, following, codes, cache

    init = (0, forced[:, 0], tf.zeros(tf.stack([n, self.num_dims]), tf.int32), cache)
    return tf.while_loop(lambda t, *_: t < steps, body, init)[2]

  @tf.function(reduce_retracing=True)
  def _naive_fn(self, text, noise, temperature):
    n = tf.shape(noise)[0]

    def body(i, codes):
      captions = tf.where(text == self.pad, 0, text)
      _, logits = self._logits(codes, captions)
      drawn = sampling.gumbel_argmax(tf.gather(logits, i, axis=1), noise[:, i],
                                     temperature)
      return i + 1, sampling.put_step(codes, i, drawn)

    return tf.while_loop(lambda i, _: i < self.num_dims, body,
                         (0, tf.zeros(tf.stack([n, self.num_dims]), tf.int32)))[1]

  def preview(self, x):
    return self.vqvae.preview(x)

  # -- serving and config -----------------------------------------------------------------

  def serving_functions(self):
    """``serving_default`` (``x`` images, ``condition`` captions → ``log_prob``,
    ``bits_per_dim`` per code); ``sample`` (``num_samples``, ``seed``,
    ``temperature``, ``prompt``: int32 UTF-8 bytes ``[P]``, 1 ≤ P ≤
    text_length, no zeros → uint8 ``samples``); the VQ-VAE's ``encode``,
    ``decode`` and ``reconstruct``."""
    functions = super().serving_functions()
    sample_in = [tf.TensorSpec([], tf.int32, "num_samples"), tf.TensorSpec([2], tf.int32, "seed"),
                 tf.TensorSpec([], tf.float32, "temperature"),
                 tf.TensorSpec([None], tf.int32, "prompt")]
    functions["sample"] = ServingFunction(self._serve_prompt, sample_in, {
        "num_samples": 1, "temperature": 1.0, "prompt": list(b"bag")})
    vq = self.vqvae.serving_functions()
    return {**functions, **{k: vq[k] for k in ("encode", "decode", "reconstruct")}}

  def _serve_prompt(self, num_samples, seed, temperature, prompt):
    num_samples = _validation.in_range(num_samples, 1, self.max_samples, "num_samples")
    prompt = _validation.discrete_batch(prompt[None], [None], 256, name="prompt",
                                        allow_empty=True)[0]
    size = tf.size(prompt)
    prompt = _validation.at_least(prompt, tf.reduce_min(tf.concat([prompt, [1]], 0)), 1,
                                  "`prompt` bytes must lie in [1, 255] (0 pads captions).")
    prompt = _validation.at_least(prompt, self.text_length, size,
                                  f"`prompt` must be 1 to {self.text_length} bytes.")
    prompt = _validation.at_least(prompt, size, 1, "`prompt` is empty.")
    row = tf.pad(prompt, [[0, self.text_length - size]])[None]
    captions = self._encode_condition(tf.tile(row, tf.stack([num_samples, 1])), num_samples)
    return {"samples": tf.cast(self.sample_encoded(num_samples, seed, temperature, captions),
                               tf.uint8)}

  def get_config(self):
    return {**super().get_config(), "vqvae": self.vqvae.get_config(),
            "text_length": self.text_length, "num_layers": self.num_layers,
            "d_model": self.d_model, "num_heads": self.num_heads, "dropout": self.dropout,
            "text_loss_weight": self.text_loss_weight, "class_names": list(self.class_names),
            "templates": list(self.templates)}


FAMILY = ModelFamily(
    "text_to_image", TextToImage, "Ramesh et al. 2021, Zero-Shot Text-to-Image Generation "
    "(DALL-E), on a VQ-VAE's codes", "fashion_mnist",
    demo=dict(text_length=24, num_layers=4, d_model=128, num_heads=4),
    sizes=(SizeOption("num-layers", "num_layers", int, "decoder blocks"),
         SizeOption("d-model", "d_model", int, "model width"),
         SizeOption("num-heads", "num_heads", int, "attention heads")),
    builds_on={"vqvae": "vqvae"},
    tiny=dict(text_length=24, num_layers=1, d_model=8, num_heads=2))

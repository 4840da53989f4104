"""WaveNet (van den Oord et al. 2016) over μ-law codes, with fast generation."""

import tensorflow as tf
import tensorflow_probability as tfp

from tfgen import _validation
from tfgen._keras import keras
from tfgen.autoregressive import sampling
from tfgen.autoregressive.sampling import gumbel_argmax, gumbel_noise, put_step
from tfgen._deprecation import MISSING, deprecated_alias
from tfgen.base import LikelihoodModel
from tfgen.layers.causal_conv import CausalConv1D
from tfgen.family import ModelFamily, SizeOption

tfd = tfp.distributions


def _pointwise(conv, v):
  """A 1×1 Conv1D applied to one time step ``[B, C]``, in its compute dtype."""
  dtype = conv.compute_dtype
  return tf.matmul(tf.cast(v, dtype), tf.cast(conv.kernel[0], dtype)) + tf.cast(conv.bias, dtype)


class WaveNet(LikelihoodModel):
  """WaveNet: ``p(x) = ∏_t Categorical(x_t | x_<t)`` over ``num_levels`` μ-law codes.

  The input ``x_{t−1}`` (an embedding, zero before the start) passes through
  ``num_stacks`` stacks of ``num_layers_per_stack`` layers with dilations
  1, 2, …, 2^(L−1). Each layer::

      z = W_d ∗ h  (+ V_g g + V_l l_t)      dilated causal conv, 2 × dilation_channels
      u = tanh(z₁) ⊙ σ(z₂)
      skip += W_s u,    h ← h + W_r u

  and the output is ReLU → 1×1 → ReLU → 1×1 → logits on the summed skips.
  ``g`` is a global condition (a speaker/class embedding), ``l`` local
  features (e.g. log-mel frames) upsampled to the sample rate by repetition
  (``local_upsample`` samples per frame).

  ``model(x)`` is ``log_prob(x)``; ``conditionals(x)`` returns
  ``tfd.Independent(tfd.Categorical(logits), 1)`` over the sequence. Under a
  Keras mixed-precision policy the network computes in 16 bits and the
  logits and loss in float32; cached and naive generation then agree up to
  16-bit rounding (identical codes for a seed in float32). ``log_prob`` (and
  so training) scores steps from ``loss_start`` on; set it to
  ``receptive_field`` to leave out samples whose context was cut off by the
  window.

  Conditioning (``condition=``): ``num_classes=K`` takes class ids ``[B]``
  (global: a speaker or class); ``condition_shape=(None, C)`` takes local
  features ``[B, frames, C]`` (e.g. log-mel frames), upsampled to the
  sample rate by repeating each frame ``local_upsample`` times. With both,
  ``condition`` is the pair ``(ids, features)``. The old names
  ``global_condition_classes`` and ``local_condition_channels`` still work
  and warn.

  ``sample(n, length=T)`` generates ``n`` sequences of ``T`` codes with
  Fast WaveNet's queues (``method='cached'``: XLA-compiled chunks of
  ``generation_chunk`` steps, so a new length compiles nothing) or by rerunning
  the network over the last receptive field (``method='naive'``); both give
  the same codes for a seed. ``generate(T, batch=n)`` is the old name.

  ``sample_rate`` (Hz, optional) records the rate of the audio it models;
  ``from_dataset`` sets it, and a Parallel WaveNet student checks it.

  References:
    - van den Oord et al. (2016). WaveNet: A Generative Model for Raw Audio. arXiv:1609.03499.
    - Paine et al. (2016). Fast Wavenet Generation Algorithm. arXiv:1611.09482.
  """

  DATA_KINDS = ("audio", "text")

  def __init__(self, num_layers_per_stack=10, num_stacks=2, residual_channels=32,
               dilation_channels=32, skip_channels=64, kernel_size=2, num_levels=256,
               num_classes=None, condition_shape=None, local_upsample=None, loss_start=0,
               sample_rate=None, name="wavenet", global_condition_classes=MISSING,
               local_condition_channels=MISSING, **kwargs):
    num_classes = deprecated_alias(num_classes, global_condition_classes,
                                   "global_condition_classes", "num_classes", "WaveNet")
    old_local = (MISSING if local_condition_channels in (MISSING, None)
                 else (None, local_condition_channels))
    condition_shape = deprecated_alias(condition_shape, old_local, "local_condition_channels",
                                       "condition_shape", "WaveNet")
    super().__init__(name=name, **kwargs)
    p = _validation.positive_int
    self.num_layers_per_stack = p(num_layers_per_stack, "num_layers_per_stack")
    self.num_stacks = p(num_stacks, "num_stacks")
    self.residual_channels = p(residual_channels, "residual_channels")
    self.dilation_channels = p(dilation_channels, "dilation_channels")
    self.skip_channels = p(skip_channels, "skip_channels")
    self.kernel_size = p(kernel_size, "kernel_size")
    self.num_levels = p(num_levels, "num_levels")
    self._set_condition(num_classes, condition_shape, allow_both=True)
    if self.condition_shape is not None and (len(self.condition_shape) != 2
                                             or self.condition_shape[0] is not None):
      raise ValueError("WaveNet's `condition_shape` must be (None, channels): local features "
                       f"[batch, frames, channels]; got {self.condition_shape!r}.")
    self.global_condition_classes = self.num_classes
    self.local_condition_channels = (None if self.condition_shape is None
                                     else self.condition_shape[1])
    if self.local_condition_channels and local_upsample is None:
      raise ValueError("`local_upsample` (samples per local-feature frame) is required with "
                       "local features (condition_shape).")
    self.local_upsample = None if local_upsample is None else p(local_upsample, "local_upsample")
    if not (isinstance(loss_start, int) and loss_start >= 0):
      raise ValueError(f"`loss_start` must be a non-negative int, got {loss_start!r}.")
    self.loss_start = loss_start
    self.sample_rate = None if sample_rate is None else p(sample_rate, "sample_rate")
    self.dilations = [2 ** i for i in range(self.num_layers_per_stack)] * self.num_stacks
    r, d, s = residual_channels, dilation_channels, skip_channels
    self.embed = keras.layers.Embedding(num_levels, r, name="embed")
    self.dilated = [CausalConv1D(2 * d, kernel_size, dil, name=f"dilated_{n}")
                    for n, dil in enumerate(self.dilations)]
    # The last layer feeds only the skips, so it has no residual output.
    self.residual = [keras.layers.Conv1D(r, 1, name=f"residual_{n}")
                     for n in range(len(self.dilations) - 1)]
    self.skip = [keras.layers.Conv1D(s, 1, name=f"skip_{n}") for n in range(len(self.dilations))]
    self.global_cond = ([keras.layers.Embedding(self.global_condition_classes, 2 * d,
                                                name=f"global_{n}")
                         for n in range(len(self.dilations))]
                        if self.global_condition_classes else [])
    self.local_cond = ([keras.layers.Conv1D(2 * d, 1, name=f"local_{n}")
                        for n in range(len(self.dilations))]
                       if self.local_condition_channels else [])
    self.head_hidden = keras.layers.Conv1D(s, 1, name="head_hidden")
    self.head_out = keras.layers.Conv1D(num_levels, 1, name="head_out")
    self.event_shape = (None,)
    x = tf.zeros([1, 2], tf.int32)
    self._logits(x, *self._conditions(self._dummy_labels(), 2))  # build every weight now
    self.built = True

  @staticmethod
  def receptive_field_of(num_layers_per_stack, num_stacks, kernel_size=2):
    """``(k−1)·Σd + 1`` for dilations ``1, 2, …, 2^(L−1)`` per stack."""
    return (kernel_size - 1) * num_stacks * (2 ** num_layers_per_stack - 1) + 1

  @property
  def receptive_field(self):
    """Samples of the past that can influence one output: ``(k−1)·Σd + 1``."""
    return self.receptive_field_of(self.num_layers_per_stack, self.num_stacks, self.kernel_size)

  @property
  def default_window(self):
    return max(1024, 4 * self.receptive_field)

  @classmethod
  def _from_dataset(cls, spec, **sizes):
    """A WaveNet for sequence data (audio codes or bytes); ``dilation_channels``
    follows ``residual_channels`` unless given, and the first receptive field
    of each window is left out of the loss (those steps see zero padding)."""
    sizes = dict(sizes)
    sizes.setdefault("dilation_channels", sizes.get("residual_channels", 32))
    rf = cls.receptive_field_of(sizes.get("num_layers_per_stack", 10),
                                sizes.get("num_stacks", 2), sizes.get("kernel_size", 2))
    sizes.setdefault("loss_start", rf)
    if spec.kind == "audio":
      sizes.setdefault("sample_rate", spec.sample_rate)
    return cls(num_levels=spec.num_levels, **sizes)

  # -- conditions -----------------------------------------------------------

  def _dummy_labels(self):
    if not (self.num_classes or self.local_condition_channels):
      return None
    g = tf.zeros([1], tf.int32) if self.num_classes else None
    l = tf.zeros([1, 1, self.local_condition_channels]) if self.local_condition_channels else None
    return g, l

  def _conditions(self, labels, length):
    """Per-layer bias terms: global ``[B, 1, 2D]`` and local ``[B, T, 2D]`` (or None)."""
    if labels is None:
      return None, None
    g, l = labels
    g_terms = None if g is None else [layer(g)[:, None, :] for layer in self.global_cond]
    l_terms = None
    if l is not None:
      up = tf.repeat(l, self.local_upsample, axis=1)
      if up.shape[1] is not None and isinstance(length, int):
        if up.shape[1] < length:
          raise ValueError(f"the local condition covers {up.shape[1]} samples ({l.shape[1]} "
                           f"frames × {self.local_upsample}), fewer than {length}.")
      elif length is not None:
        up = _validation.at_least(up, tf.shape(up)[1], length,
                                  "the local condition must cover every generated sample")
      up = up[:, :length]
      l_terms = [layer(up) for layer in self.local_cond]
    return g_terms, l_terms

  def _encode_condition(self, condition, batch):
    """Validated ``(class ids or None, local features or None)``, or None."""
    g_on, l_on = bool(self.num_classes), bool(self.local_condition_channels)
    if not (g_on or l_on) or condition is None:
      return super()._encode_condition(condition, batch)
    if g_on and l_on:
      if not isinstance(condition, (tuple, list)) or len(condition) != 2:
        raise ValueError("This WaveNet has global and local conditions; pass `condition` as "
                         "the pair (class ids [batch], features [batch, frames, channels]).")
      g, l = condition
    else:
      g, l = (condition, None) if g_on else (None, condition)
    if g is not None:
      g = _validation.discrete_batch(g, [], self.num_classes, name="condition")
      g = _validation.same_rows(g, batch, "condition")
    if l is not None:
      l = _validation.float_batch(l, [None, self.local_condition_channels], "condition")
      l = _validation.same_rows(l, batch, "condition")
    return g, l

  # -- the network ----------------------------------------------------------

  def logits_encoded(self, codes, condition=None):
    """Per-step logits ``[B, T, K]`` of int codes ``[B, T]`` given an encoded
    ``condition`` (``(class ids or None, local features or None)``, as
    ``_encode_condition`` returns it, or None): for models built on a trained
    WaveNet, such as Parallel WaveNet's teacher."""
    return self._logits(codes, *self._conditions(condition, None))

  def _logits(self, x, g_terms, l_terms):
    """Codes ``[B, T]`` → logits ``[B, T, K]`` for ``x_t`` given ``x_<t``."""
    return self._logits_from_embedded(self.embed(x), g_terms, l_terms)

  def logits_from_embedded(self, e):
    """Logits ``[B, T, K]`` of an unconditional model from input embeddings
    ``e = model.embed(x)`` (``[B, T, residual_channels]``): differentiable in
    ``e``, for receptive-field analysis."""
    e = tf.cast(tf.convert_to_tensor(e, tf.float32), self.compute_dtype)
    return self._logits_from_embedded(e, None, None)

  def _logits_from_embedded(self, e, g_terms, l_terms):
    h = tf.pad(e[:, :-1], [[0, 0], [1, 0], [0, 0]])  # input at t is x_{t-1}; zero at t = 0
    skips = 0.
    for n in range(len(self.dilations)):
      z = self.dilated[n](h)
      if g_terms is not None:
        z += g_terms[n]
      if l_terms is not None:
        z += l_terms[n]
      f, gate = tf.split(z, 2, axis=-1)
      u = tf.tanh(f) * tf.sigmoid(gate)
      skips += self.skip[n](u)
      if n < len(self.residual):
        h = h + self.residual[n](u)
    logits = self.head_out(tf.nn.relu(self.head_hidden(tf.nn.relu(skips))))
    return tf.cast(logits, tf.float32)  # float32 logits under a mixed-precision policy

  def _conditionals(self, x, condition):
    """``Independent(Categorical)`` over the sequence: every ``p(x_t | x_<t)`` given ``x``."""
    logits = self._logits(x, *self._conditions(condition, x.shape[1]))
    return tfd.Independent(tfd.Categorical(logits=logits), reinterpreted_batch_ndims=1)

  def _log_prob(self, x, condition, training=False):
    """Per-example ``Σ_{t ≥ loss_start} log p(x_t | x_<t)`` in nats."""
    length = x.shape[1] if x.shape[1] is not None else tf.shape(x)[1]
    logits = self._logits(x, *self._conditions(condition, length))
    per_step = tfd.Categorical(logits=logits).log_prob(x)
    return tf.reduce_sum(per_step[:, self.loss_start:], axis=1)

  def _check_data(self, x):
    """Codes ``[B, T]`` with ``T > loss_start`` (at least one scored step)."""
    x = super()._check_data(x)
    message = f"`x` must be longer than loss_start={self.loss_start} steps"
    if x.shape[1] is not None:
      if x.shape[1] <= self.loss_start:
        raise ValueError(f"{message}, got {x.shape[1]}.")
      return x
    return _validation.at_least(x, tf.shape(x)[1], self.loss_start + 1, message + ".")

  def _event_dims(self, x):
    return tf.cast(tf.shape(x)[1] - self.loss_start, tf.float32)

  # -- generation -----------------------------------------------------------

  def generate(self, num_samples, batch=1, seed=None, temperature=1.0, condition=None,
               method="cached"):
    """The old name: ``sample(batch, length=num_samples, ...)``."""
    return self.sample(batch, length=num_samples, seed=seed, temperature=temperature,
                       condition=condition, method=method)

  SAMPLE_OPTIONS = ("length", "method")

  def _sample(self, n, seed, temperature, condition, length=None, method="cached"):
    """``n`` sequences of ``length`` codes; ``method`` ``'cached'`` or ``'naive'``."""
    if length is None:
      raise ValueError("WaveNet.sample needs `length`, the number of codes per sequence.")
    _validation.one_of(method, "method", {"cached", "naive"})
    noise = gumbel_noise(tf.stack([n, length, self.num_levels]), seed)
    g_terms, l_terms = self._conditions(condition, length)
    fn = self._generate_cached if method == "cached" else self._generate_naive
    return fn(noise, temperature, g_terms, l_terms)

  @tf.function(reduce_retracing=True)
  def _generate_naive(self, noise, temperature, g_terms, l_terms):
    b, n = tf.shape(noise)[0], tf.shape(noise)[1]  # dynamic: traces are shared across sizes
    width = tf.minimum(self.receptive_field + 1, n)

    def body(t, codes):
      start = tf.maximum(0, t - width + 1)
      window = tf.slice(codes, [0, start], [-1, width])
      local = None if l_terms is None else [tf.slice(l, [0, start, 0], [-1, width, -1])
                                             for l in l_terms]
      logits = tf.gather(self._logits(window, g_terms, local), t - start, axis=1)
      value = gumbel_argmax(logits, tf.gather(noise, t, axis=1), temperature)
      return t + 1, put_step(codes, t, value)

    return tf.while_loop(lambda t, _: t < n, body, (0, tf.zeros(tf.stack([b, n]), tf.int32)))[1]

  #: Steps per call of the compiled generation loop. Generation of any
  #: length runs whole chunks of one XLA program (compiled once per batch
  #: size), so a new length costs no compilation.
  generation_chunk = 1024

  def _generate_cached(self, noise, temperature, g_terms, l_terms):
    """Fast WaveNet: ``noise [B, T, K]`` → codes ``[B, T]``, ``generation_chunk``
    steps per call of :meth:`_cached_chunk`, with the queues carried over.
    Not a ``tf.function`` itself: eagerly the chunk loop runs in Python, so a
    new length traces nothing; inside a graph (export) it is a while loop."""
    b, n = tf.shape(noise)[0], tf.shape(noise)[1]
    size = self.generation_chunk
    padded = (n + size - 1) // size * size
    noise = tf.pad(noise, [[0, 0], [0, padded - n], [0, 0]])
    if l_terms is not None:
      l_terms = [tf.pad(l, [[0, 0], [0, padded - n], [0, 0]]) for l in l_terms]
    k, r, dtype = self.kernel_size, self.residual_channels, self.compute_dtype
    queues = [tf.zeros(tf.stack([b, (k - 1) * d, r]), dtype) for d in self.dilations]
    chunks = tf.TensorArray(tf.int32, size=padded // size)

    def body(c, prev, queues, chunks):
      t0 = c * size
      local = None if l_terms is None else [l[:, t0:t0 + size] for l in l_terms]
      prev, codes, queues = self._cached_chunk(t0, tf.minimum(size, n - t0),
                                               noise[:, t0:t0 + size], temperature, g_terms,
                                               local, prev, queues)
      return c + 1, prev, queues, chunks.write(c, codes)

    # A tensor counter: Python ints would make each chunk a new trace eagerly.
    init = (tf.constant(0), tf.zeros(tf.stack([b, r]), dtype), queues, chunks)
    chunks = tf.while_loop(lambda c, *_: c < padded // size, body, init)[3]
    codes = tf.transpose(chunks.stack(), [1, 0, 2])             # [B, chunks, size]
    return tf.reshape(codes, tf.stack([b, padded]))[:, :n]

  # XLA fuses the ~10 small ops per layer of one step: on 2 CPU cores it made
  # the 2×10-layer, 32-channel model 16× faster (real-time factor 7.7 → 0.48).
  @sampling.compiled
  def _cached_chunk(self, t0, steps, noise, temperature, g_terms, l_terms, prev, queues):
    """``steps`` (≤ ``generation_chunk``) steps from absolute time ``t0``:
    ``noise [B, chunk, K]``, the previous step's embedding ``prev`` and one
    queue of past inputs per layer → ``(prev, codes [B, chunk], queues)``."""
    b = tf.shape(noise)[0]
    k = self.kernel_size
    lengths = [(k - 1) * d for d in self.dilations]
    dtype = self.compute_dtype  # 16-bit under a mixed-precision policy

    def body(i, prev, codes, queues):
      t = t0 + i
      h = prev
      skips = 0.
      new_queues = []
      for m, (conv, length, d) in enumerate(zip(self.dilated, lengths, self.dilations)):
        q = queues[m]
        past = [tf.gather(q, tf.math.floormod(t - (k - 1 - j) * d, length), axis=1)
                for j in range(k - 1)]
        z = conv.step(tf.stack(past + [h], axis=1))
        if g_terms is not None:
          z += g_terms[m][:, 0]
        if l_terms is not None:
          z += tf.gather(l_terms[m], i, axis=1)
        f, gate = tf.split(z, 2, axis=-1)
        u = tf.tanh(f) * tf.sigmoid(gate)
        skips += _pointwise(self.skip[m], u)
        slot = tf.stack([tf.range(b), tf.fill([b], tf.math.floormod(t, length))], 1)
        new_queues.append(tf.tensor_scatter_nd_update(q, slot, h))
        if m < len(self.residual):
          h = h + _pointwise(self.residual[m], u)
      logits = tf.cast(_pointwise(self.head_out, tf.nn.relu(
          _pointwise(self.head_hidden, tf.nn.relu(skips)))), tf.float32)
      value = gumbel_argmax(logits, tf.gather(noise, i, axis=1), temperature)
      return i + 1, tf.cast(self.embed(value), dtype), put_step(codes, i, value), new_queues

    init = (0, prev, tf.zeros(tf.shape(noise)[:2], tf.int32), queues)
    _, prev, codes, queues = tf.while_loop(lambda i, *_: i < steps, body, init)
    return prev, codes, queues

  def serving_functions(self):
    if self.num_classes and self.local_condition_channels:
      raise ValueError("Exporting a WaveNet with both global and local conditions is not "
                       "supported; export one conditioned on either.")
    return super().serving_functions()

  def get_config(self):
    return {**super().get_config(), **{k: getattr(self, k) for k in (
        "num_layers_per_stack", "num_stacks", "residual_channels", "dilation_channels",
        "skip_channels", "kernel_size", "num_levels", "num_classes", "condition_shape",
        "local_upsample", "loss_start", "sample_rate")}}


FAMILY = ModelFamily(
    "wavenet", WaveNet, "van den Oord et al. 2016, WaveNet: A Generative Model for Raw Audio",
    "speech",
    demo=dict(num_layers_per_stack=8, num_stacks=2, residual_channels=32, skip_channels=64),
    sizes=(SizeOption("layers-per-stack", "num_layers_per_stack", int,
                      "dilated layers per stack (dilations 1..2^(n-1))"),
           SizeOption("stacks", "num_stacks", int, "stacks"),
           SizeOption("channels", "residual_channels", int, "residual and dilation channels"),
           SizeOption("skip-channels", "skip_channels", int, "skip channels")),
    tiny=dict(num_layers_per_stack=2, num_stacks=1, residual_channels=4, dilation_channels=4,
              skip_channels=4, num_levels=8))

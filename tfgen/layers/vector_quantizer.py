"""Vector quantization with a straight-through gradient (VQ-VAE, van den Oord et al. 2017)."""

import math

import tensorflow as tf

from tfgen import _validation
from tfgen._keras import keras


class VectorQuantizer(keras.layers.Layer):
  """Snaps each ``code_dim``-vector to its nearest codebook entry.

  For encoder outputs ``f`` (``[..., code_dim]``) and codebook ``z_1 … z_K``::

      k = argmin_j ‖f − z_j‖²
      quantized = f + sg(z_k − f)        (value z_k; gradient ∂L/∂f := ∂L/∂z_k)
      loss      = β ‖f − sg(z_k)‖²        (commitment, mean over entries; add_loss)

  ``call(f, training)`` returns ``(quantized, codes)`` with integer codes
  ``k`` of shape ``f.shape[:-1]``.

  **Codebook updates.** With ``ema=True`` (the paper's Appendix A.1) the
  codebook is not trained by the optimizer but follows exponential moving
  averages, updated only when ``training=True``::

      N_k ← γ N_k + (1 − γ) n_k,   m_k ← γ m_k + (1 − γ) Σ_{i: k_i = k} f_i
      z_k = m_k / Ñ_k,   Ñ_k = (N_k + ε) / (Σ_j N_j + K ε) · Σ_j N_j   (Laplace smoothing)

  Under ``tf.distribute`` the batch statistics ``n_k`` and ``Σ f_i`` are
  summed over replicas first, so every replica's codebook stays identical.
  Codes whose smoothed count ``Ñ_k`` falls below ``restart_threshold`` are
  restarted from encoder outputs of the current batch (drawn on the first
  replica and shared). With ``ema=False`` the codebook is a trainable
  variable and the layer also adds the codebook loss ``‖sg(f) − z_k‖²``.

  **Precision.** The layer always computes in float32 (its dtype policy is
  ``'float32'`` unless one is passed): nearest-code distances and the EMA
  statistics need it, so under a mixed-precision policy the encoder's
  16-bit output is cast up here and the decoder casts it down again.

  ``statistics(codes)`` gives the batch's codebook usage (the fraction of
  codes used) and perplexity ``exp(−Σ p_k log p_k)``.

  Args:
    num_codes: ``K``.
    code_dim: the vector size.
    commitment_cost: ``β``.
    decay: ``γ`` in ``(0, 1)``.
    epsilon: Laplace smoothing ``ε``.
    ema: EMA codebook (True) or a learned one (False).
    restart_threshold: smoothed count below which a code restarts (EMA
      only; 0 turns restarts off).

  Example:

  >>> vq = VectorQuantizer(num_codes=16, code_dim=4)
  >>> q, k = vq(tf.random.normal([2, 7, 7, 4]), training=True)
  >>> q.shape, k.shape
  (TensorShape([2, 7, 7, 4]), TensorShape([2, 7, 7]))

  References:
    - van den Oord, Vinyals & Kavukcuoglu (2017). Neural Discrete Representation Learning,
      Appendix A.1 (EMA updates). arXiv:1711.00937.
  """

  def __init__(self, num_codes=512, code_dim=64, commitment_cost=0.25, decay=0.99,
               epsilon=1e-5, ema=True, restart_threshold=1e-2, **kwargs):
    kwargs.setdefault("dtype", "float32")
    super().__init__(**kwargs)
    self.num_codes = _validation.positive_int(num_codes, "num_codes")
    self.code_dim = _validation.positive_int(code_dim, "code_dim")
    for name, value, ok in (("commitment_cost", commitment_cost, lambda v: v >= 0),
                            ("decay", decay, lambda v: 0 < v < 1),
                            ("epsilon", epsilon, lambda v: v > 0),
                            ("restart_threshold", restart_threshold, lambda v: v >= 0)):
      if (isinstance(value, bool) or not isinstance(value, (int, float))
          or not math.isfinite(value) or not ok(value)):
        raise ValueError(f"`{name}` is out of range, got {value!r}.")
    self.commitment_cost, self.decay, self.epsilon = (float(commitment_cost), float(decay),
                                                      float(epsilon))
    self.ema, self.restart_threshold = _validation.boolean(ema, "ema"), float(restart_threshold)

  def build(self, input_shape):
    if input_shape[-1] != self.code_dim:
      raise ValueError(f"VectorQuantizer(code_dim={self.code_dim}) got inputs whose last "
                       f"dimension is {input_shape[-1]}.")
    sync = dict(aggregation=tf.VariableAggregation.ONLY_FIRST_REPLICA)
    init = keras.initializers.VarianceScaling(distribution="uniform")
    self.codebook = self.add_weight("codebook", [self.num_codes, self.code_dim],
                                    initializer=init, trainable=not self.ema,
                                    **({} if not self.ema else sync))
    if self.ema:
      self.ema_count = self.add_weight("ema_count", [self.num_codes], initializer="ones",
                                       trainable=False, **sync)
      self.ema_sum = self.add_weight("ema_sum", [self.num_codes, self.code_dim],
                                     initializer="zeros", trainable=False, **sync)
      self.ema_sum.assign(self.codebook)  # z = m / N starts at the initial codebook
      self.updates_done = self.add_weight("updates_done", [], dtype=tf.int64,
                                          initializer="zeros", trainable=False, **sync)
    super().build(input_shape)

  def nearest(self, flat):
    """Codes ``[N]`` of the nearest codebook entries to ``flat`` ``[N, code_dim]``."""
    codebook = tf.cast(self.codebook, flat.dtype)
    distances = (tf.reduce_sum(tf.square(flat), 1, keepdims=True)
                 - 2. * tf.matmul(flat, codebook, transpose_b=True)
                 + tf.reduce_sum(tf.square(codebook), 1)[None, :])
    return tf.argmin(distances, axis=1, output_type=tf.int32)

  def lookup(self, codes):
    """Codebook vectors ``[..., code_dim]`` of integer ``codes``."""
    return tf.gather(tf.convert_to_tensor(self.codebook), codes)

  def call(self, inputs, training=False):
    f = tf.cast(inputs, tf.float32)
    flat = tf.reshape(f, [-1, self.code_dim])
    codes = self.nearest(flat)
    z = tf.gather(tf.convert_to_tensor(self.codebook), codes)
    commitment = tf.reduce_mean(tf.square(flat - tf.stop_gradient(z)))
    self.add_loss(self.commitment_cost * commitment)
    if not self.ema:
      self.add_loss(tf.reduce_mean(tf.square(tf.stop_gradient(flat) - z)))
    elif training:
      with tf.control_dependencies([self._ema_update(tf.stop_gradient(flat), codes)]):
        codes = tf.identity(codes)
    quantized = flat + tf.stop_gradient(z - flat)
    shape = tf.shape(f)
    return (tf.cast(tf.reshape(quantized, shape), inputs.dtype),
            tf.reshape(codes, shape[:-1]))

  def _ema_update(self, flat, codes):
    one_hot = tf.one_hot(codes, self.num_codes)
    counts = tf.reduce_sum(one_hot, 0)
    sums = tf.matmul(one_hot, flat, transpose_a=True)
    ctx = tf.distribute.get_replica_context()
    across = ctx is not None and ctx.num_replicas_in_sync > 1
    if across:
      counts, sums = ctx.all_reduce(tf.distribute.ReduceOp.SUM, [counts, sums])
    g = self.decay
    count = g * self.ema_count + (1. - g) * counts
    total = tf.reduce_sum(count)
    smoothed = (count + self.epsilon) / (total + self.num_codes * self.epsilon) * total
    ema_sum = g * self.ema_sum + (1. - g) * sums
    if self.restart_threshold > 0:
      candidates = self._restart_candidates(flat, ctx if across else None)
      dead = smoothed < self.restart_threshold
      ema_sum = tf.where(dead[:, None], candidates, ema_sum)
      count = tf.where(dead, tf.ones_like(count), count)
      smoothed = tf.where(dead, tf.ones_like(smoothed), smoothed)
    return tf.group(self.ema_count.assign(count), self.ema_sum.assign(ema_sum),
                    self.codebook.assign(ema_sum / smoothed[:, None]),
                    self.updates_done.assign_add(1))

  def _restart_candidates(self, flat, ctx):
    """``num_codes`` encoder outputs of this batch (with repeats), chosen by a
    stateless draw; under tf.distribute, the first replica's, on every replica."""
    seed = tf.stack([tf.cast(self.updates_done % (2 ** 31 - 1), tf.int32), 17])
    index = tf.random.stateless_uniform([self.num_codes], seed, 0, tf.shape(flat)[0],
                                        dtype=tf.int32)
    picked = tf.gather(flat, index)
    if ctx is None:
      return picked
    first = tf.cast(tf.equal(ctx.replica_id_in_sync_group, 0), picked.dtype)
    return ctx.all_reduce(tf.distribute.ReduceOp.SUM, picked * first)

  def statistics(self, codes):
    """``{"usage": fraction of codes used, "perplexity": exp(entropy)}`` of ``codes``."""
    counts = tf.math.bincount(tf.reshape(codes, [-1]), minlength=self.num_codes,
                              maxlength=self.num_codes, dtype=tf.float32)
    p = counts / tf.maximum(tf.reduce_sum(counts), 1.)
    entropy = -tf.reduce_sum(tf.where(p > 0, p * tf.math.log(tf.maximum(p, 1e-30)), 0.))
    return {"usage": tf.reduce_mean(tf.cast(counts > 0, tf.float32)),
            "perplexity": tf.exp(entropy)}

  def get_config(self):
    return {**super().get_config(), "num_codes": self.num_codes, "code_dim": self.code_dim,
            "commitment_cost": self.commitment_cost, "decay": self.decay,
            "epsilon": self.epsilon, "ema": self.ema,
            "restart_threshold": self.restart_threshold}

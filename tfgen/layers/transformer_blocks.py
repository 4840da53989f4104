"""Pre-LayerNorm decoder blocks with dense or sparse causal attention and a key/value cache."""

import tensorflow as tf

from tfgen import _validation
from tfgen._keras import keras
from tfgen.layers import sparse_attention


class DecoderStack(keras.layers.Layer):
  """``num_layers`` pre-LayerNorm decoder blocks and a final LayerNorm.

  Each block (Radford et al. 2019; Child et al. 2019)::

      h ← h + W_o · Attention(LN(h))            causal, dense or sparse (heads split)
      h ← h + W_2 · GELU(W_1 · LN(h))           hidden width ff_multiplier · d_model

  ``call(h)`` maps ``[B, T, d_model]`` to ``[B, T, d_model]`` with every
  position seeing only earlier or equal positions under the pattern.
  ``step(h_t, t, cache)`` does the same for one position per sequence,
  keeping every layer's keys and values: ``cache`` from
  :meth:`empty_cache`, each ``[B, H, T_max, d_head]``.

  Args:
    num_layers, d_model, num_heads: the size; ``d_model`` divisible by ``num_heads``.
    attention: ``'dense'``, ``'strided'`` or ``'fixed'``.
    block_size: the sparse stride ``l`` (required for sparse patterns).
    dropout: on attention and MLP outputs, in training.
  """

  def __init__(self, num_layers, d_model, num_heads, attention="dense", block_size=None,
               dropout=0.0, ff_multiplier=4, **kwargs):
    super().__init__(**kwargs)
    self.num_layers = _validation.positive_int(num_layers, "num_layers")
    self.d_model = _validation.positive_int(d_model, "d_model")
    self.num_heads = _validation.positive_int(num_heads, "num_heads")
    if self.d_model % self.num_heads:
      raise ValueError(f"`d_model` ({d_model}) must be divisible by `num_heads` ({num_heads}).")
    self.attention = _validation.one_of(attention, "attention",
                                        set(sparse_attention.PATTERNS))
    if self.attention != "dense":
      if self.num_heads % 2:
        raise ValueError(f"{attention!r} attention splits the heads into two groups; "
                         f"`num_heads` must be even, got {num_heads}.")
      block_size = _validation.positive_int(block_size, "block_size")
    self.block_size = block_size
    self.dropout = float(dropout)
    self.ff_multiplier = _validation.positive_int(ff_multiplier, "ff_multiplier")
    self.head_dim = self.d_model // self.num_heads
    d = self.d_model
    self.norm_attn = [keras.layers.LayerNormalization(epsilon=1e-5, name=f"ln_a{n}")
                      for n in range(num_layers)]
    self.qkv = [keras.layers.Dense(3 * d, name=f"qkv_{n}") for n in range(num_layers)]
    self.out = [keras.layers.Dense(d, name=f"attn_out_{n}") for n in range(num_layers)]
    self.norm_mlp = [keras.layers.LayerNormalization(epsilon=1e-5, name=f"ln_m{n}")
                     for n in range(num_layers)]
    self.mlp_in = [keras.layers.Dense(self.ff_multiplier * d, activation="gelu",
                                      name=f"mlp_in_{n}") for n in range(num_layers)]
    self.mlp_out = [keras.layers.Dense(d, name=f"mlp_out_{n}") for n in range(num_layers)]
    self.final_norm = keras.layers.LayerNormalization(epsilon=1e-5, name="ln_final")
    self.drop = keras.layers.Dropout(self.dropout)

  def _heads(self, x):
    """``[B, T, d]`` → ``[B, H, T, d_head]``."""
    s = tf.shape(x)
    return tf.transpose(tf.reshape(x, tf.stack([s[0], s[1], self.num_heads, self.head_dim])),
                        [0, 2, 1, 3])

  def _merge(self, x):
    s = tf.shape(x)
    return tf.reshape(tf.transpose(x, [0, 2, 1, 3]), tf.stack([s[0], s[2], self.d_model]))

  def call(self, h, training=False):
    for n in range(self.num_layers):
      q, k, v = tf.split(self.qkv[n](self.norm_attn[n](h)), 3, axis=-1)
      a = sparse_attention.causal_attention(self._heads(q), self._heads(k), self._heads(v),
                                            self.attention, self.block_size)
      h = h + self.drop(self.out[n](self._merge(a)), training=training)
      h = h + self.drop(self.mlp_out[n](self.mlp_in[n](self.norm_mlp[n](h))), training=training)
    return self.final_norm(h)

  def empty_cache(self, batch, length, dtype=tf.float32):
    """Zeroed keys and values for every layer: a list of ``(k, v)`` pairs."""
    shape = tf.stack([batch, self.num_heads, length, self.head_dim])
    return [(tf.zeros(shape, dtype), tf.zeros(shape, dtype)) for _ in range(self.num_layers)]

  def step(self, h, t, cache):
    """One position ``t`` per sequence: ``h [B, d]`` → ``([B, d], new cache)``."""
    new_cache = []
    x = h[:, None]  # [B, 1, d]: the layers were built on [B, T, d]
    for n in range(self.num_layers):
      q, k, v = tf.split(self.qkv[n](self.norm_attn[n](x)), 3, axis=-1)
      q, k, v = self._heads(q), self._heads(k), self._heads(v)     # [B, H, 1, dh]
      keys, values = (_write(c, t, new) for c, new in zip(cache[n], (k, v)))
      a = sparse_attention.cached_attention(q, keys, values, t, self.attention,
                                            self.block_size or 1)
      x = x + self.out[n](self._merge(a))
      x = x + self.mlp_out[n](self.mlp_in[n](self.norm_mlp[n](x)))
      new_cache.append((keys, values))
    return self.final_norm(x)[:, 0], new_cache

  def get_config(self):
    return {**super().get_config(), "num_layers": self.num_layers, "d_model": self.d_model,
            "num_heads": self.num_heads, "attention": self.attention,
            "block_size": self.block_size, "dropout": self.dropout,
            "ff_multiplier": self.ff_multiplier}


def _write(cache, t, row):
  """``cache[:, :, t] = row[:, :, 0]``, as a masked blend (O(T·d), like the
  attention read that follows; compiles under XLA with a dynamic ``t``)."""
  here = tf.one_hot(t, tf.shape(cache)[2], dtype=cache.dtype)[None, None, :, None]
  return cache * (1. - here) + row * here

"""Causal attention, dense or with the factorized sparse patterns of Child et al. (2019).

Queries, keys and values are ``[B, H, T, d]``. Position ``t`` may attend to
position ``j`` only if ``j ≤ t`` and the head's pattern allows it. With a
stride (block size) ``l ≈ √T``:

- ``'dense'``: every ``j ≤ t`` (O(T²)).
- ``'strided'`` (Child et al. §4.2): the first half of the heads attend to
  the previous ``l`` positions (``t − l < j ≤ t``), the other half to every
  ``l``-th position back (``(t − j) mod l = 0``). Good for data with a
  period, such as images with ``l`` = the row length.
- ``'fixed'``: the first half attend within their own block of ``l``
  (``⌊j/l⌋ = ⌊t/l⌋``), the other half to the "summary" columns, the last
  ``c`` positions of every block (``j mod l ≥ l − c``).

Sparse patterns are computed with block reshapes, never with a dense
``T × T`` mask: local and block heads attend within one or two blocks
(O(T·l)), strided heads within the ``l`` interleaved sub-sequences of
length ``T/l`` (O(T²/l)), summary heads to the ``T·c/l`` summary positions
(O(T²c/l)); with ``l ≈ √T`` all are O(T√T) in compute and memory.
:func:`allowed` gives the same patterns as a boolean test, for one query
row at a time (the key/value-cached sampler) and for the tests.
"""

import math

import tensorflow as tf

PATTERNS = ("dense", "strided", "fixed")
_NEG = -1e9


def default_block(length):
  """``l = ⌈√T⌉``, the stride Child et al. recommend."""
  return max(1, int(math.ceil(math.sqrt(length))))


def allowed(pattern, t, j, block, summary=1, second_half=False):
  """Whether query ``t`` may attend to key ``j`` (broadcasting int tensors)."""
  causal = j <= t
  if pattern == "dense":
    return causal
  if pattern == "strided":
    if not second_half:
      return causal & (t - j < block)
    return causal & (tf.math.floormod(t - j, block) == 0)
  if not second_half:
    return causal & (tf.math.floordiv(j, block) == tf.math.floordiv(t, block))
  return causal & (tf.math.floormod(j, block) >= block - summary)


def _softmax_attend(q, k, v, mask):
  """``softmax(q kᵀ/√d + mask) v`` over the last key axis; ``mask`` is boolean."""
  scores = tf.matmul(q, k, transpose_b=True) * tf.cast(1. / math.sqrt(q.shape[-1]), q.dtype)
  scores = tf.where(mask, scores, tf.cast(_NEG, scores.dtype))
  # A row with no allowed key (a summary head before the first summary
  # column) must read nothing, not a uniform average of masked keys.
  probs = tf.nn.softmax(scores, axis=-1) * tf.cast(mask, scores.dtype)
  return tf.matmul(probs, v)


def _causal(n):
  return tf.linalg.band_part(tf.ones([n, n], tf.bool), -1, 0)


def _blocks(x, block):
  """``[B, H, T, d]`` (T a multiple of ``block``) → ``[B, H, T/block, block, d]``."""
  s = tf.shape(x)
  return tf.reshape(x, tf.stack([s[0], s[1], s[2] // block, block, s[3]]))


def _unblocks(x):
  s = tf.shape(x)
  return tf.reshape(x, tf.stack([s[0], s[1], s[2] * s[3], s[4]]))


def _local(q, k, v, block):
  """Each query attends to itself and the ``block − 1`` positions before it."""
  qb, kb, vb = _blocks(q, block), _blocks(k, block), _blocks(v, block)
  shift = lambda x: tf.pad(x, [[0, 0], [0, 0], [1, 0], [0, 0], [0, 0]])[:, :, :-1]
  keys = tf.concat([shift(kb), kb], axis=3)        # previous block, then this one
  values = tf.concat([shift(vb), vb], axis=3)
  r = tf.range(block)[:, None]                      # query offset in its block
  u = tf.range(2 * block)[None, :]                  # key index in [previous, current]
  mask = (u > r) & (u <= r + block)                 # t − j = block + r − u ∈ [0, block)
  first = tf.concat([tf.zeros([block, block], tf.bool), tf.ones([block, block], tf.bool)], 1)
  nb = tf.shape(qb)[2]
  block_mask = tf.where(tf.range(nb)[:, None, None] == 0, mask & first, mask)  # no block −1
  return _unblocks(_softmax_attend(qb, keys, values, block_mask))


def _strided(q, k, v, block):
  """Each query attends to the positions a multiple of ``block`` before it."""
  perm = [0, 1, 3, 2, 4]
  qs, ks, vs = (tf.transpose(_blocks(x, block), perm) for x in (q, k, v))  # [B, H, l, nb, d]
  out = _softmax_attend(qs, ks, vs, _causal(tf.shape(qs)[3]))
  return _unblocks(tf.transpose(out, perm))


def _block_local(q, k, v, block):
  """Each query attends to the earlier positions of its own block."""
  out = _softmax_attend(_blocks(q, block), _blocks(k, block), _blocks(v, block), _causal(block))
  return _unblocks(out)


def _summary(q, k, v, block, summary):
  """Each query attends to the last ``summary`` positions of every block up to it."""
  kb, vb = _blocks(k, block)[:, :, :, block - summary:], _blocks(v, block)[:, :, :, block - summary:]
  ks, vs = _unblocks(kb), _unblocks(vb)             # [B, H, nb·c, d], in position order
  nb = tf.shape(kb)[2]
  key_pos = (tf.range(nb)[:, None] * block + tf.range(block - summary, block)[None, :])
  key_pos = tf.reshape(key_pos, [-1])
  t = tf.range(tf.shape(q)[2])[:, None]
  return _softmax_attend(q, ks, vs, key_pos[None, :] <= t)


def causal_attention(q, k, v, pattern="dense", block=None, summary=1):
  """Attention outputs ``[B, H, T, d]`` for ``pattern`` (see the module docstring).

  ``block`` defaults to ``⌈√T⌉`` for the static ``T``. Sparse patterns split
  the heads in two halves (``H`` must be even); the sequence is padded to a
  multiple of ``block`` at the end, which causality makes invisible.
  """
  if pattern not in PATTERNS:
    raise ValueError(f"`pattern` must be one of {list(PATTERNS)}, got {pattern!r}.")
  length = tf.shape(q)[2]
  if pattern == "dense":
    return _softmax_attend(q, k, v, _causal(length))
  block = block or default_block(q.shape[2])
  heads = q.shape[1]
  if heads % 2:
    raise ValueError(f"sparse attention splits the heads in two groups; got {heads} heads.")
  pad = tf.math.floormod(-length, block)
  padded = [tf.pad(x, [[0, 0], [0, 0], [0, pad], [0, 0]]) for x in (q, k, v)]
  first = [x[:, :heads // 2] for x in padded]
  second = [x[:, heads // 2:] for x in padded]
  if pattern == "strided":
    out = tf.concat([_local(*first, block), _strided(*second, block)], axis=1)
  else:
    out = tf.concat([_block_local(*first, block), _summary(*second, block, summary)], axis=1)
  return out[:, :, :length]


def cached_attention(q, k_cache, v_cache, t, pattern="dense", block=1, summary=1):
  """Attention of one query per sequence ``q [B, H, 1, d]`` at position ``t``
  over a key/value cache ``[B, H, T_max, d]`` whose first ``t + 1`` rows are
  filled: the same pattern as :func:`causal_attention`, as a mask on one row."""
  heads = q.shape[1]
  j = tf.range(tf.shape(k_cache)[2])
  if pattern == "dense":
    mask = tf.broadcast_to(allowed("dense", t, j, block), [heads, tf.shape(j)[0]])
  else:
    a = allowed(pattern, t, j, block, summary, second_half=False)
    b = allowed(pattern, t, j, block, summary, second_half=True)
    half = heads // 2
    mask = tf.concat([tf.tile(a[None], [half, 1]), tf.tile(b[None], [heads - half, 1])], 0)
  return _softmax_attend(q, k_cache, v_cache, mask[None, :, None, :])

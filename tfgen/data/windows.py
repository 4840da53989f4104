"""Fixed-length windows cut from a list of variable-length integer sequences."""

import numpy as np
import tensorflow as tf


def _check(clips, window):
  if not isinstance(window, int) or window < 1:
    raise ValueError(f"`window` must be a positive int, got {window!r}.")
  lengths = np.array([len(c) for c in clips], np.int64)
  if not len(clips) or lengths.max() < window:
    longest = int(lengths.max()) if len(clips) else 0
    raise ValueError(f"No sequence is {window} long (the longest has {longest}); "
                     "use a shorter window.")
  return lengths


def random_windows(clips, window, batch_size, seed=None):
  """An endless dataset of int32 ``[batch_size, window]`` windows.

  Each window starts at a uniformly random position over all windows of all
  sequences: a sequence is drawn with probability proportional to its number
  of windows, then a start inside it. Sequences shorter than ``window`` are
  never drawn. The draw is stateless, so ``seed`` makes it reproducible.
  """
  lengths = _check(clips, window)
  keep = lengths >= window
  clips = [c for c, k in zip(clips, keep) if k]
  lengths = lengths[keep]
  flat = tf.constant(np.concatenate(clips).astype(np.int32))
  offsets = tf.constant(np.concatenate([[0], np.cumsum(lengths)[:-1]]), tf.int64)
  spans = tf.constant(lengths - window + 1, tf.int64)
  weights = tf.math.log(tf.cast(spans, tf.float32))[None]

  def draw(seed_pair):
    clip = tf.random.stateless_categorical(weights, 1, seed=seed_pair)[0, 0]
    start = tf.random.stateless_uniform([], seed=seed_pair + 1, maxval=spans[clip],
                                        dtype=tf.int64)
    return tf.slice(flat, [offsets[clip] + start], [window])

  seeds = tf.data.Dataset.random(seed=seed).batch(2).map(lambda s: tf.cast(s % (2**31), tf.int32))
  return (seeds.map(draw, num_parallel_calls=tf.data.AUTOTUNE).batch(batch_size)
          .prefetch(tf.data.AUTOTUNE))


def fixed_windows(clips, window, batch_size):
  """A finite dataset of every non-overlapping ``window`` of every sequence
  (the ragged tail of each is left out), in order: for evaluation."""
  _check(clips, window)
  pieces = [np.asarray(c[:len(c) // window * window], np.int32).reshape(-1, window)
            for c in clips if len(c) >= window]
  return (tf.data.Dataset.from_tensor_slices(np.concatenate(pieces)).batch(batch_size)
          .prefetch(tf.data.AUTOTUNE))

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


# Batches of up to this many windows copy each window as one slice.
_SLICED = 256


def random_windows(clips, window, batch_size, seed=None):
  """An endless dataset of int32 ``[batch_size, window]`` windows.

  Each window starts at a uniformly random position over all windows of all
  sequences: a sequence is drawn with probability proportional to its number
  of windows, then a start inside it. Sequences shorter than ``window`` are
  never drawn. The draw is stateless, so ``seed`` makes it reproducible.
  A batch is drawn at once (its sequences, its starts, one gather of every
  window), so the pipeline's cost is per batch, not per window.
  """
  lengths = _check(clips, window)
  keep = lengths >= window
  clips = [c for c, k in zip(clips, keep) if k]
  lengths = lengths[keep]
  flat = np.concatenate(clips)
  # Byte-sized codes (mu-law, bytes) are kept and copied as uint8: a quarter
  # of the memory traffic; each batch is cast to int32 once.
  small = flat.size == 0 or (flat.min() >= 0 and flat.max() < 256)
  flat = tf.constant(flat.astype(np.uint8 if small else np.int32))
  offsets = tf.constant(np.concatenate([[0], np.cumsum(lengths)[:-1]]), tf.int64)
  spans = tf.constant(lengths - window + 1, tf.int64)
  weights = tf.math.log(tf.cast(spans, tf.float32))[None]

  def draw(seed_pair):
    clip = tf.random.stateless_categorical(weights, batch_size, seed=seed_pair)[0]
    span = tf.gather(spans, clip)
    # A uniform integer in [0, span) per window: span < 2^53, so float64 is exact enough.
    u = tf.random.stateless_uniform([batch_size], seed=seed_pair + 1, dtype=tf.float64)
    start = tf.minimum(tf.cast(u * tf.cast(span, tf.float64), tf.int64), span - 1)
    begin = tf.gather(offsets, clip) + start
    if batch_size <= _SLICED:
      # One contiguous copy per window: 3-4x faster than indexing every element.
      windows = tf.stack([flat[begin[i]:begin[i] + window] for i in range(batch_size)])
    else:   # a graph of one slice per window would grow with the batch
      windows = tf.gather(flat, begin[:, None] + tf.range(window, dtype=tf.int64)[None])
    return tf.cast(windows, tf.int32)

  if seed is None:
    seed = int(np.random.default_rng().integers(2 ** 31))
  # Batch i draws from the stateless seed (seed, i): no random-number dataset
  # (whose per-element cost was a third of a batch's).
  seeds = tf.data.Dataset.counter().map(
      lambda i: tf.stack([tf.constant(seed % 2 ** 31, tf.int32), tf.cast(i % 2 ** 31, tf.int32)]))
  return seeds.map(draw, num_parallel_calls=tf.data.AUTOTUNE).prefetch(tf.data.AUTOTUNE)


def fixed_windows(clips, window, batch_size):
  """A finite dataset of every non-overlapping ``window`` of every sequence
  (the ragged tail of each is left out), in order: for evaluation."""
  _check(clips, window)
  pieces = [np.asarray(c[:len(c) // window * window], np.int32).reshape(-1, window)
            for c in clips if len(c) >= window]
  return (tf.data.Dataset.from_tensor_slices(np.concatenate(pieces)).batch(batch_size)
          .prefetch(tf.data.AUTOTUNE))

"""Codebook usage and perplexity over a whole evaluation, as Keras metrics."""

import tensorflow as tf

from tfgen import _validation
from tfgen._keras import keras


class CodebookUsage(keras.metrics.Metric):
  """Counts how often each of ``num_codes`` codes is chosen, over every batch
  since the last reset, and reports

  - ``statistic='usage'``: the fraction of codes chosen at least once;
  - ``statistic='perplexity'``: ``exp(−Σ_k p_k log p_k)`` of the code
    frequencies ``p`` (``num_codes`` when all are equally used, 1 when one
    code takes everything).

  Unlike a mean of per-batch values, this is the usage of the whole set
  (a batch of 64 images cannot show 512 codes in use). ``update_state(codes,
  sample_weight)`` takes integer codes ``[B, ...]`` and optional per-example
  weights ``[B]``.
  """

  def __init__(self, num_codes, statistic="usage", name=None, **kwargs):
    _validation.one_of(statistic, "statistic", {"usage", "perplexity"})
    super().__init__(name=name or statistic, **kwargs)
    self.num_codes = _validation.positive_int(num_codes, "num_codes")
    self.statistic = statistic
    self.counts = self.add_weight("counts", [self.num_codes], initializer="zeros")

  def update_state(self, codes, sample_weight=None):
    codes = tf.cast(codes, tf.int32)
    weights = tf.ones(tf.shape(codes), tf.float32)
    if sample_weight is not None:
      per_example = tf.reshape(tf.cast(sample_weight, tf.float32),
                               tf.concat([[-1], tf.ones([tf.rank(codes) - 1], tf.int32)], 0))
      weights = weights * per_example
    counts = tf.math.unsorted_segment_sum(tf.reshape(weights, [-1]), tf.reshape(codes, [-1]),
                                          self.num_codes)
    return self.counts.assign_add(counts)

  def result(self):
    if self.statistic == "usage":
      return tf.reduce_mean(tf.cast(self.counts > 0, tf.float32))
    p = self.counts / tf.maximum(tf.reduce_sum(self.counts), 1e-12)
    return tf.exp(-tf.reduce_sum(tf.where(p > 0, p * tf.math.log(tf.maximum(p, 1e-30)), 0.)))

  def reset_state(self):
    self.counts.assign(tf.zeros_like(self.counts))

  def get_config(self):
    return {**super().get_config(), "num_codes": self.num_codes, "statistic": self.statistic}

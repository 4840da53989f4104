"""The Keras base class for models with an exact log-likelihood."""

import math
import sys

import tensorflow as tf

from tfgen._keras import keras


def bits_per_dim(log_prob, num_dims):
  """``−log₂ p(x) / D`` from a log-likelihood in nats."""
  return -log_prob / (num_dims * math.log(2.))


class StopOnNonFinite(keras.callbacks.Callback):
  """Stops ``fit`` once a step met a NaN/Inf loss or gradient.

  :class:`LikelihoodModel` skips such a step (the weights stay as they were
  after the last good step) and counts it; this callback then ends training
  with a message that says so. ``fit`` adds it for you.
  """

  def on_train_batch_end(self, batch, logs=None):
    if int(self.model.nonfinite_steps.numpy()) > 0 and not self.model.stop_training:
      self.model.stop_training = True
      print(f"\ntfgen: non-finite loss or gradient at batch {batch}; training stopped. "
            "The update was skipped, so the model keeps the weights of the last good step. "
            "Try a lower learning rate, or a smaller n_bits / log_scale_bound.",
            file=sys.stderr, flush=True)


class LikelihoodModel(keras.Model):
  """A ``tf_keras.Model`` trained by maximum likelihood.

  Subclasses implement ``log_prob(x, labels=None, training=False)``, the
  per-example log-likelihood in nats of discrete data ``x``, and set
  ``self.num_dims`` (``D``). Then::

      loss = mean over the batch of −log p(x)        (nats)
      bits_per_dim = −log₂ p(x) / D

  ``compile(optimizer)`` needs no loss. ``fit`` and ``evaluate`` take a
  dataset of ``x`` or of ``(x, labels)`` and report ``loss`` and
  ``bits_per_dim``. Under ``tf.distribute`` the batch is global and the loss
  is averaged over it. A step whose loss or gradients are not finite is
  skipped on every replica, and ``fit`` stops with a message.
  """

  def __init__(self, **kwargs):
    super().__init__(**kwargs)
    self.num_dims = None
    self.loss_tracker = keras.metrics.Mean(name="loss")
    self.bpd_tracker = keras.metrics.Mean(name="bits_per_dim")
    self.nonfinite_steps = tf.Variable(0, trainable=False, name="nonfinite_steps",
                                       aggregation=tf.VariableAggregation.ONLY_FIRST_REPLICA)

  @property
  def metrics(self):
    return [self.loss_tracker, self.bpd_tracker]

  def log_prob(self, x, labels=None, training=False):
    raise NotImplementedError

  def call(self, inputs, training=False):
    x, labels = inputs if isinstance(inputs, (tuple, list)) else (inputs, None)
    return self.log_prob(x, labels=labels, training=training)

  def _unpack(self, data):
    x, labels, _ = keras.utils.unpack_x_y_sample_weight(data)
    return x, labels

  def _record(self, nll, weight=None):
    self.loss_tracker.update_state(nll, sample_weight=weight)
    self.bpd_tracker.update_state(nll / (self.num_dims * math.log(2.)), sample_weight=weight)
    return {m.name: m.result() for m in self.metrics}

  def train_step(self, data):
    x, labels = self._unpack(data)
    with tf.GradientTape() as tape:
      nll = -self.log_prob(x, labels=labels, training=True)
      loss = tf.nn.compute_average_loss(nll)
      if self.losses:
        loss += tf.nn.scale_regularization_loss(tf.add_n(self.losses))
    variables = self.trainable_variables
    grads = tape.gradient(loss, variables)
    finite = tf.reduce_all([tf.reduce_all(tf.math.is_finite(g)) for g in grads if g is not None]
                           + [tf.math.is_finite(loss)])
    bad = tf.cast(tf.logical_not(finite), tf.int32)
    ctx = tf.distribute.get_replica_context()
    if ctx is not None and ctx.num_replicas_in_sync > 1:
      bad = ctx.all_reduce(tf.distribute.ReduceOp.SUM, bad)
    ok = tf.equal(bad, 0)

    def apply():
      self.optimizer.apply_gradients(zip(grads, variables))
      return tf.constant(True)

    def skip():
      self.nonfinite_steps.assign_add(1)
      return tf.constant(False)

    tf.cond(ok, apply, skip)
    return self._record(tf.where(ok, nll, tf.zeros_like(nll)),
                        weight=tf.fill(tf.shape(nll), tf.cast(ok, nll.dtype)))

  def test_step(self, data):
    x, labels = self._unpack(data)
    return self._record(-self.log_prob(x, labels=labels, training=False))

  def fit(self, *args, callbacks=None, **kwargs):
    callbacks = list(callbacks or [])
    if not any(isinstance(c, StopOnNonFinite) for c in callbacks):
      callbacks.append(StopOnNonFinite())
    self.nonfinite_steps.assign(0)
    return super().fit(*args, callbacks=callbacks, **kwargs)

"""The Keras base class for models with an exact log-likelihood."""

import math
import sys

import tensorflow as tf

from tfgen._keras import keras


def bits_per_dim(log_prob, num_dims):
  """``−log₂ p(x) / D`` from a log-likelihood in nats."""
  return -log_prob / (num_dims * math.log(2.))


class _Held:
  """Keeps distribution strategies from unwrapping mirrored variables when
  they pass through merge_call / call_for_each_replica."""

  __slots__ = ["variables"]

  def __init__(self, variables):
    self.variables = variables


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

  Mixed precision (flows): build the model under
  ``keras.mixed_precision.set_global_policy('mixed_float16')`` (GPUs) or
  ``'mixed_bfloat16'``. The networks inside the bijectors then compute in
  16 bits, while every bijector's arithmetic, log-det and the loss stay in
  float32. With ``mixed_float16`` Keras wraps the optimizer in a
  ``LossScaleOptimizer``; its overflow skips are not counted as failures.
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

  def _event_dims(self, x):
    """``D`` for bits/dim: scored dimensions per example of batch ``x``."""
    return float(self.num_dims)

  def _record(self, nll, dims, weight=None):
    self.loss_tracker.update_state(nll, sample_weight=weight)
    self.bpd_tracker.update_state(nll / (dims * math.log(2.)), sample_weight=weight)
    return {m.name: m.result() for m in self.metrics}

  def train_step(self, data):
    x, labels = self._unpack(data)
    with tf.GradientTape() as tape:
      nll = -self.log_prob(x, labels=labels, training=True)
      # Optimise bits/dim (∝ NLL): gradient norms then do not grow with D,
      # so one clipping threshold suits every image size.
      dims = self._event_dims(x)
      loss = tf.nn.compute_average_loss(nll / (dims * math.log(2.)))
      if self.losses:
        loss += tf.nn.scale_regularization_loss(tf.add_n(self.losses))
      # mixed_float16: Keras wrapped the optimizer in a LossScaleOptimizer.
      scaling = isinstance(self.optimizer, keras.mixed_precision.LossScaleOptimizer)
      if scaling:
        scaled_loss = self.optimizer.get_scaled_loss(loss)
    variables = self.trainable_variables
    if scaling:
      grads = self.optimizer.get_unscaled_gradients(tape.gradient(scaled_loss, variables))
    else:
      grads = tape.gradient(loss, variables)
    ctx = tf.distribute.get_replica_context()
    multi = ctx is not None and ctx.num_replicas_in_sync > 1
    if multi:
      # Sum over replicas here, outside the skip-cond below: a cond may not
      # contain a cross-replica sync. Then every replica sees the same
      # gradients and makes the same skip decision.
      grads = [g for g, _ in self.optimizer.aggregate_gradients(list(zip(grads, variables)))]
    if scaling:
      # Overflowing float16 gradients are the loss scale's business: the
      # LossScaleOptimizer skips that update and lowers the scale. Only a
      # non-finite loss means the model itself failed.
      finite = tf.math.is_finite(loss)
    else:
      # One fused reduction: the global norm is finite iff every gradient
      # entry is (or the gradients are so large their norm overflows, which
      # no update survives either). Per-tensor is_finite checks cost ~4% of
      # a Glow step on CPU.
      norm = tf.linalg.global_norm([g for g in grads if g is not None])
      finite = tf.logical_and(tf.math.is_finite(loss), tf.math.is_finite(norm))
    bad = tf.cast(tf.logical_not(finite), tf.int32)
    if multi:
      bad = ctx.all_reduce(tf.distribute.ReduceOp.SUM, bad)
    ok = tf.equal(bad, 0)

    def apply(replica_grads, held):
      self.optimizer.apply_gradients(zip(replica_grads, held.variables),
                                     skip_gradients_aggregation=multi)
      return tf.constant(True)

    def skip():
      self.nonfinite_steps.assign_add(1)
      return tf.constant(False)

    if not multi:
      tf.cond(ok, lambda: apply(grads, _Held(variables)), skip)
    else:
      # The optimizer update syncs replicas (merge_call), and a sync may not
      # sit inside a replica-context cond: branch in cross-replica context,
      # as Keras's LossScaleOptimizer does.
      def cross_replica(strategy, replica_grads, held, replica_ok):
        go = strategy.experimental_local_results(replica_ok)[0]

        def apply_everywhere():
          strategy.extended.call_for_each_replica(apply, args=(replica_grads, held))
          return tf.constant(True)
        tf.cond(go, apply_everywhere, skip)
      ctx.merge_call(cross_replica, args=(grads, _Held(variables), ok))
    return self._record(tf.where(ok, nll, tf.zeros_like(nll)), dims,
                        weight=tf.fill(tf.shape(nll), tf.cast(ok, nll.dtype)))

  def test_step(self, data):
    x, labels = self._unpack(data)
    return self._record(-self.log_prob(x, labels=labels, training=False), self._event_dims(x))

  def _data_dependent_init(self, x, batch_size):
    """Hook: initialise data-dependent layers from the first batch of ``x``."""

  def fit(self, x=None, y=None, *args, callbacks=None, **kwargs):
    self._data_dependent_init(x if y is None else (x, y), kwargs.get("batch_size"))
    callbacks = list(callbacks or [])
    if not any(isinstance(c, StopOnNonFinite) for c in callbacks):
      callbacks.append(StopOnNonFinite())
    self.nonfinite_steps.assign(0)
    self._build_optimizer()
    return super().fit(x, y, *args, callbacks=callbacks, **kwargs)

  def _build_optimizer(self):
    """Creates the optimizer's slot variables before ``fit`` traces its step.

    Left to the first step, the optimizer creates them while ``tf.function``
    traces it, and ``tf.function`` then traces the whole step a second time
    (for Glow on 28x28 that doubled the time to the first step, ~12 s on a
    2-core CPU).
    """
    optimizer = getattr(self, "optimizer", None)
    if optimizer is None or not hasattr(optimizer, "build"):
      return  # not compiled: Keras's fit raises its own error
    with self.distribute_strategy.scope():
      optimizer.build(self.trainable_variables)

"""The training engine every tfgen model shares: ``compile`` / ``fit`` with
no loss, a step that skips non-finite updates, and clear errors from graphs.

:class:`TrainingStep` is a mixin for a ``tf_keras.Model`` that defines
``_objective(x, condition, training) → (per-example loss [B], {metric: value})``
and lists its trackers in ``metrics``. ``tfgen.base.GenerativeModel`` (so
every family, the RevNet classifier included) is built on it.

The step minimises ``mean(objective) + sum(self.losses)`` over the global
batch. When the loss or any gradient is not finite, on any replica, the
step is skipped on every replica and the weights go back to the last ones
whose loss was finite; :class:`StopOnNonFinite` then ends ``fit``.
"""

import logging

import tensorflow as tf

from tfgen import _validation
from tfgen._keras import keras
from tfgen.training.optimizers import default_optimizer

logger = logging.getLogger("tfgen")

class _Held:
  """Keeps distribution strategies from unwrapping mirrored variables when
  they pass through merge_call / call_for_each_replica."""

  __slots__ = ["variables"]

  def __init__(self, variables):
    self.variables = variables


class StopOnNonFinite(keras.callbacks.Callback):
  """Stops ``fit`` once a step met a NaN/Inf loss or gradient.

  :class:`LikelihoodModel` skips such a step, returns the weights to the
  last ones whose loss was finite (the update before the bad step was
  computed from finite values, but nothing had checked where it landed),
  and counts it; this callback then ends training and logs a warning on the
  ``tfgen`` logger. ``fit`` adds it for you. After ``fit``,
  ``model.nonfinite_steps`` tells whether it fired.
  """

  def on_train_batch_end(self, batch, logs=None):
    if int(self.model.nonfinite_steps.numpy()) > 0 and not self.model.stop_training:
      self.model.stop_training = True
      logger.warning("non-finite loss or gradient at batch %d; training stopped. The model "
                     "is back at the last weights whose loss was finite. Try a lower learning "
                     "rate.", batch)


def clear_errors(method):
  """Turns a tfgen check that failed inside Keras's graph into the ValueError
  an eager call gives (instead of an InvalidArgumentError with a graph trace)."""
  def wrapper(self, *args, **kwargs):
    try:
      return method(self, *args, **kwargs)
    except tf.errors.InvalidArgumentError as e:
      message = _validation.assertion_message(e)
      if message is None:
        raise
      raise ValueError(message) from None
    except ValueError as e:
      # A check that failed while Keras traced the step: autograph wraps the
      # message in the trace ("in user code: ..."); keep tfgen's own line.
      message = _validation.traced_message(e)
      if message is None:
        raise
      raise ValueError(message) from None
  wrapper.__name__, wrapper.__doc__ = method.__name__, method.__doc__
  return wrapper


class TrainingStep:
  """Keras ``train_step`` / ``test_step`` / ``fit`` for a model with an ``_objective``.

  - ``compile(optimizer=None)`` needs no loss; with no optimizer it takes
    :func:`~tfgen.training.default_optimizer` (Adam with gradient clipping).
  - ``fit(x, y)``: ``y`` is the condition (class ids or vectors), not a
    target; ``sample_weight`` weights each example's loss. It first runs
    the ``_data_dependent_init(x, batch_size)`` hook (ActNorm) and adds
    :class:`StopOnNonFinite`.
  - A non-finite step is skipped on every replica: by tfgen's Adam inside
    its own kernels (:meth:`tfgen.training.Adam.apply_gradients_if`, no
    control flow), or, for any other optimizer, by a ``tf.cond`` and a copy
    of the last good weights. ``nonfinite_steps`` counts skipped steps.
  - A tfgen check that fails inside ``fit``, ``evaluate`` or ``predict``
    raises the ``ValueError`` an eager call gives, not a graph trace.
  """

  def __init__(self, **kwargs):
    super().__init__(**kwargs)
    self.nonfinite_steps = tf.Variable(0, trainable=False, name="nonfinite_steps",
                                       aggregation=tf.VariableAggregation.ONLY_FIRST_REPLICA)

  def _unpack(self, data):
    """``fit``/``evaluate`` data: ``x``, ``(x, condition)`` or ``(x, condition, sample_weight)``."""
    x, condition, weight = keras.utils.unpack_x_y_sample_weight(data)
    if isinstance(x, (tuple, list)) and condition is None and len(x) in (2, 3):
      # fit((x, condition)) or fit((x, condition, weight)): Keras passes the
      # tuple as one multi-part input; a tfgen model's data are one tensor.
      x, condition, weight = (tuple(x) + (weight,))[:3]
    if weight is not None:
      weight = tf.cast(tf.reshape(weight, [-1]), tf.float32)
    return x, condition, weight

  def _objective(self, x, condition, training):
    """``(per-example loss to minimise [B], {metric name: per-example [B] or
    batch scalar value})`` for a batch. ``self.losses`` are added to the loss."""
    raise NotImplementedError

  def _record(self, values, weight=None, ok=None):
    """Updates the trackers in ``self.metrics`` from ``values`` by name.
    Per-example values are weighted by ``weight``; batch scalars count once
    (or not at all when ``ok`` is False: a skipped step)."""
    for m in self.metrics:
      value = values[m.name]
      if value.shape.rank == 0:
        m.update_state(value, sample_weight=None if ok is None else tf.cast(ok, tf.float32))
      else:
        m.update_state(value, sample_weight=weight)
    return {m.name: m.result() for m in self.metrics}

  def train_step(self, data):
    x, condition, weight = self._unpack(data)
    with tf.GradientTape() as tape:
      objective, values = self._objective(x, condition, training=True)
      loss = tf.nn.compute_average_loss(objective, sample_weight=weight)
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

    if self._guarded_optimizer():
      # tfgen's Adam skips the step (and puts the weights back) within its
      # own update kernels: no tf.cond, which would about double the traced
      # step and its graph optimisation (Glow 28x28: ~2 s of the first step).
      self.optimizer.apply_gradients_if(ok, zip(grads, variables), global_norm=norm,
                                        skip_gradients_aggregation=True)
      self.nonfinite_steps.assign_add(1 - tf.cast(ok, tf.int32))
      return self._record_step(objective, values, weight, ok)

    good = self._last_good

    def apply(replica_grads, held):
      # These weights just gave a finite loss and gradients: keep them, so a
      # later non-finite step can return to them.
      for copy, v in zip(good.variables, held.variables):
        copy.assign(v)
      self.optimizer.apply_gradients(zip(replica_grads, held.variables),
                                     skip_gradients_aggregation=multi)
      return tf.constant(True)

    def skip():
      # The weights now in place came from an update whose loss was never
      # seen finite: go back to the last weights whose loss was.
      for copy, v in zip(good.variables, variables):
        v.assign(copy)
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
    return self._record_step(objective, values, weight, ok)

  def _record_step(self, objective, values, weight, ok):
    """The metrics of a training step, which count nothing if it was skipped."""
    kept = tf.fill(tf.shape(objective), tf.cast(ok, tf.float32))
    values = {k: tf.where(ok, v, tf.zeros_like(v)) for k, v in values.items()}
    return self._record(values, weight=kept if weight is None else kept * weight, ok=ok)

  def test_step(self, data):
    x, condition, weight = self._unpack(data)
    return self._record(self._objective(x, condition, training=False)[1], weight=weight)

  def _step_count(self):
    """The optimizer's step (int64; 0 before ``compile``): a seed for
    per-step randomness that is the same with and without XLA and on resume."""
    optimizer = getattr(self, "optimizer", None)
    return optimizer.iterations if optimizer is not None else tf.constant(0, tf.int64)

  def _data_dependent_init(self, x, batch_size):
    """Hook: initialise data-dependent layers from the first batch of ``x``."""

  @clear_errors
  def evaluate(self, *args, **kwargs):
    """Keras ``evaluate``; a model never compiled is compiled first (it needs no loss)."""
    self._compile_if_needed()
    return super().evaluate(*args, **kwargs)

  def _compile_if_needed(self):
    if not getattr(self, "_is_compiled", False):
      self.compile()

  @clear_errors
  def predict(self, *args, **kwargs):
    return super().predict(*args, **kwargs)

  def compile(self, optimizer=None, **kwargs):
    """Keras ``compile``; with no ``optimizer``, tfgen's
    :func:`~tfgen.training.default_optimizer` (Adam with gradient clipping)
    instead of Keras's RMSprop. No loss is needed: the model has its own."""
    if optimizer is None:
      optimizer = default_optimizer()
    self._built_optimizer_id = None  # the next train function builds the new optimizer
    return super().compile(optimizer=optimizer, **kwargs)

  @clear_errors
  def fit(self, x=None, y=None, *args, callbacks=None, **kwargs):
    """Keras ``fit``. ``x`` is the data; ``y``, when given, is the
    ``condition`` (class ids or vectors), not a target; ``sample_weight``
    weights each example's loss. A model never compiled is compiled with
    the default optimizer first."""
    self._compile_if_needed()
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
      if self._guarded_optimizer():
        optimizer.forget_last_update()  # the weights may have been set since
      else:
        self._snapshot_weights()
    self._built_optimizer_id = id(optimizer)  # an int: Keras would track the object

  def _guarded_optimizer(self):
    """Whether the optimizer skips a bad step itself (tfgen's Adam, see
    :meth:`tfgen.training.Adam.apply_gradients_if`); other optimizers are
    skipped by a ``tf.cond`` and a copy of the last good weights, and so is
    a loss-scaled step (the LossScaleOptimizer forwards attributes)."""
    optimizer = getattr(self, "optimizer", None)
    return (not isinstance(optimizer, keras.mixed_precision.LossScaleOptimizer)
            and getattr(optimizer, "guards_updates", False))

  def make_train_function(self, force=False):
    if getattr(self, "_built_optimizer_id", None) != id(self.optimizer):  # train_on_batch
      self._build_optimizer()
    return super().make_train_function(force=force)

  def _snapshot_weights(self):
    """(Re)starts the copy of the last weights whose loss was finite from the
    current weights. The copy is not tracked: checkpoints hold the model only."""
    held = getattr(self, "_last_good", None)
    variables = self.trainable_variables
    if held is None or len(held.variables) != len(variables):
      sync = dict(trainable=False, aggregation=tf.VariableAggregation.ONLY_FIRST_REPLICA)
      self._last_good = _Held([tf.Variable(v, name="last_good", **sync) for v in variables])
    else:
      for copy, v in zip(held.variables, variables):
        copy.assign(v)

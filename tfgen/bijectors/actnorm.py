"""ActNorm: per-channel affine map with data-dependent initialisation (Glow)."""

import logging

import tensorflow as tf

from tfgen import _validation
from tfgen.bijectors.base import Bijector, event_positions


# A constant first batch (say, all-black images) has only dequantization noise
# left, std ≈ 0.001 in the flow's units: 1/std would blow every later input
# up ~1000×. Real data have std ≈ 0.3 there, far above this floor.
_MIN_VARIANCE = 1e-4


class ActNorm(Bijector):
  """Per-channel scale and shift, initialised from the first data batch.

  With ``s = exp(log_scale)`` and ``b = shift`` (both of shape ``[C]``)::

      forward:  y = x · s + b
      inverse:  x = (y − b) / s
      log|det ∂y/∂x| = N · Σ_c log_scale_c

  where ``N`` is the number of positions per channel in the event (``H·W``
  for images, ``T`` for sequences, 1 for vectors).

  Data-dependent initialisation (Kingma & Dhariwal 2018, §3.1): the first
  call to ``inverse`` (the data → latent direction, as in ``log_prob``) sets
  ``b`` to the per-channel mean and ``s`` to the per-channel standard
  deviation of its input, so that the latent has zero mean and unit variance
  per channel on that batch (the std is floored at 0.01, and a warning is
  logged, when the batch is nearly constant). The statistics are all-reduced across replicas
  under ``tf.distribute``, so every replica starts identical. The flag
  ``initialized`` is a variable, so this works inside ``tf.function`` and is
  saved in checkpoints. ``forward`` (sampling) never initialises.

  Args:
    channels: number of channels ``C`` (the last event dimension).
    event_ndims: rank of the event: 3 for ``[H, W, C]``, 2 for ``[T, C]``,
      1 for ``[C]``.
    min_std: the floor on a channel's std at initialisation (0.01 suits a
      flow's units for images; a table's columns keep their own units).

  References:
    - Kingma & Dhariwal (2018). Glow: Generative Flow with Invertible 1x1 Convolutions.
      arXiv:1807.03039.
  """

  def __init__(self, channels, event_ndims=3, min_std=_MIN_VARIANCE ** 0.5, validate_args=False,
               name="actnorm"):
    parameters = dict(locals())
    self._channels = _validation.positive_int(channels, "channels")
    if isinstance(min_std, bool) or not isinstance(min_std, (int, float)) or not min_std > 0:
      raise ValueError(f"`min_std` must be a positive number, got {min_std!r}.")
    self._min_variance = float(min_std) ** 2
    self._event_ndims = _validation.one_of(event_ndims, "event_ndims", {1, 2, 3})
    super().__init__(forward_min_event_ndims=event_ndims, is_constant_jacobian=True,
                     validate_args=validate_args, parameters=parameters, name=name)
    self._known_initialized = False
    with tf.name_scope(name):
      sync = dict(aggregation=tf.VariableAggregation.ONLY_FIRST_REPLICA)
      self.shift = tf.Variable(tf.zeros([channels]), name="shift", **sync)
      self.log_scale = tf.Variable(tf.zeros([channels]), name="log_scale", **sync)
      self.initialized = tf.Variable(False, trainable=False, name="initialized", **sync)

  def _statistics(self, y):
    """Per-channel mean and log-std of ``y``, averaged over all replicas."""
    axes = list(range(len(y.shape) - 1))
    ctx = tf.distribute.get_replica_context()
    across = ctx is not None and ctx.num_replicas_in_sync > 1
    mean_over = lambda t: (ctx.all_reduce(tf.distribute.ReduceOp.MEAN, tf.reduce_mean(t, axes))
                           if across else tf.reduce_mean(t, axes))
    mean = mean_over(y)
    var = mean_over(tf.square(y - mean))  # two passes: no E[y²] − E[y]² cancellation
    if tf.executing_eagerly() and bool(tf.reduce_any(var < self._min_variance)):
      logging.getLogger("tfgen").warning(
          "%s: the batch that initialises ActNorm has (nearly) constant channels; their "
          "scale is floored at std %.g. Initialise with a representative batch.", self.name,
          self._min_variance ** 0.5)
    return mean, 0.5 * tf.math.log(tf.maximum(var, self._min_variance))

  def _maybe_initialize(self, y):
    if self._known_initialized:
      return tf.no_op()
    y = tf.stop_gradient(y)
    ctx = tf.distribute.get_replica_context()
    if ctx is not None and ctx.num_replicas_in_sync > 1:
      # A cross-replica reduction may not sit inside tf.cond: compute always, select.
      mean, log_std = self._statistics(y)
      done = self.initialized
      return tf.group(self.shift.assign(tf.where(done, self.shift, mean)),
                      self.log_scale.assign(tf.where(done, self.log_scale, log_std)),
                      self.initialized.assign(True))

    def init():
      mean, log_std = self._statistics(y)
      return tf.group(self.shift.assign(mean), self.log_scale.assign(log_std),
                      self.initialized.assign(True))
    return tf.cond(self.initialized, tf.no_op, init)

  def freeze_initialization(self):
    """Once ``initialized`` is True, stop emitting the init check into new
    traces (``fit`` calls this after its data-dependent init step)."""
    self._known_initialized = bool(self.initialized.numpy())

  def _positions(self, x):
    return event_positions(x, self._event_ndims)

  def _forward(self, x):
    return x * tf.exp(self.log_scale) + self.shift

  def _inverse(self, y):
    with tf.control_dependencies([self._maybe_initialize(y)]):
      return (y - self.shift) * tf.exp(-self.log_scale)

  def _forward_log_det_jacobian(self, x):
    return self._positions(x) * tf.reduce_sum(self.log_scale)

  def _inverse_log_det_jacobian(self, y):
    with tf.control_dependencies([self._maybe_initialize(y)]):
      return -self._positions(y) * tf.reduce_sum(self.log_scale)

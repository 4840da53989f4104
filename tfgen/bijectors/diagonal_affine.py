"""A learned, optionally conditional, diagonal affine map."""

import tensorflow as tf

from tfgen import _validation
from tfgen.bijectors.base import Bijector
from tfgen._keras import keras


class DiagonalAffine(Bijector):
  """Elementwise ``y = μ + exp(ρ) ⊙ x`` with learned (conditional) ``μ, ρ``.

  With an optional conditioning vector ``c`` (for example a class one-hot)::

      μ = μ₀ + A c,   ρ = ρ₀ + B c
      forward:  y = μ + exp(ρ) ⊙ x
      inverse:  x = (y − μ) ⊙ exp(−ρ)
      log|det ∂y/∂x| = Σ ρ

  All parameters start at zero, so the map starts as the identity. Placed
  directly after a standard-normal base it makes the base a learned
  diagonal Gaussian: Glow's learned (class-conditional) top prior
  (Kingma & Dhariwal 2018). It is also NICE's final diagonal scaling layer
  (Dinh et al. 2015, §3.3) with a shift.

  Args:
    event_shape: the shape of one event, for example ``[H, W, C]``.
    condition_size: length of ``c``, or ``None`` for an unconditional map.
  """

  def __init__(self, event_shape, condition_size=None, validate_args=False,
               name="diagonal_affine"):
    parameters = dict(locals())
    self._shape = [_validation.positive_int(d, "event_shape entry") for d in event_shape]
    self._condition_size = self._validate_condition_size(condition_size)
    super().__init__(forward_min_event_ndims=len(self._shape),
                     is_constant_jacobian=condition_size is None,
                     validate_args=validate_args, parameters=parameters, name=name)
    size = 1
    for d in self._shape:
      size *= d
    with tf.name_scope(name):
      self.shift = tf.Variable(tf.zeros(self._shape), name="shift")
      self.log_scale = tf.Variable(tf.zeros(self._shape), name="log_scale")
      if condition_size is not None:
        self.condition_proj = keras.layers.Dense(2 * size, kernel_initializer="zeros",
                                                 use_bias=False)
        self.condition_proj.build([None, condition_size])

  def _params(self, condition):
    self._check_condition(condition)
    if condition is None:
      return self.shift, self.log_scale
    delta = tf.reshape(tf.cast(self.condition_proj(condition), tf.float32), [-1, 2] + self._shape)
    return self.shift + delta[:, 0], self.log_scale + delta[:, 1]

  def _forward(self, x, condition=None):
    shift, log_scale = self._params(condition)
    return shift + tf.exp(log_scale) * x

  def _inverse(self, y, condition=None):
    shift, log_scale = self._params(condition)
    return (y - shift) * tf.exp(-log_scale)

  def _forward_log_det_jacobian(self, x, condition=None):
    _, log_scale = self._params(condition)
    axes = list(range(-len(self._shape), 0))
    return tf.reduce_sum(log_scale, axes)

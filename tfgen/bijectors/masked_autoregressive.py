"""The affine autoregressive bijector of MAF and IAF, on TFP's MaskedAutoregressiveFlow."""

import numpy as np
import tensorflow as tf
import tensorflow_probability as tfp

from tfgen import _validation
from tfgen.bijectors.base import Bijector

tfb = tfp.bijectors


class MaskedAutoregressive(Bijector, tfb.MaskedAutoregressiveFlow):
  """An affine autoregressive map with a MADE conditioner (Papamakarios et al. 2017)::

      forward (u → x):  x_i = u_i · exp(α_i(x_<i)) + μ_i(x_<i)      D passes
      inverse (x → u):  u_i = (x_i − μ_i(x_<i)) · exp(−α_i(x_<i))   one pass
      log|det ∂x/∂u| = Σ_i α_i

  ``μ, α`` come from one ``tfp.bijectors.AutoregressiveNetwork`` (MADE,
  ``params=2``) over ``D`` inputs in their natural order; ``α`` is soft-
  clamped to ``(−max_log_scale, max_log_scale)`` by a scaled tanh, so one
  layer can never scale by more than ``e^max_log_scale``. The forward
  direction runs as TFP's ``tf.while_loop`` of ``D`` network passes (one
  compiled loop inside ``tf.function``), settling one more dimension per
  pass. In a ``TransformedDistribution`` over a base ``u`` this is MAF
  (one-pass density, ``D``-pass sampling); wrapped in ``tfb.Invert`` it is
  IAF (one-pass sampling, ``D``-pass density).

  With ``condition_size`` the network also reads ``condition=`` (``[B,
  condition_size]``), in every method.

  Args:
    event_size: ``D``.
    hidden_units: widths of the masked hidden layers.
    activation: of the hidden layers.
    condition_size: length of the conditioning vector, or None.
    max_log_scale: the soft clamp of ``α``.
  """

  def __init__(self, event_size, hidden_units=(64, 64), activation="relu", condition_size=None,
               max_log_scale=3.0, validate_args=False, name="masked_autoregressive"):
    self._event_size = _validation.positive_int(event_size, "event_size")
    self._hidden_units = [_validation.positive_int(u, "hidden_units entry")
                          for u in hidden_units]
    self._condition_size = self._validate_condition_size(condition_size)
    if not (isinstance(max_log_scale, (int, float)) and np.isfinite(max_log_scale)
            and max_log_scale > 0):
      raise ValueError(f"`max_log_scale` must be a positive number, got {max_log_scale!r}.")
    self._max_log_scale = float(max_log_scale)
    self.network = tfb.AutoregressiveNetwork(
        params=2, event_shape=[self._event_size], hidden_units=self._hidden_units,
        activation=activation, conditional=condition_size is not None,
        conditional_event_shape=None if condition_size is None else [condition_size],
        name=f"{name}_made",
        # TFP builds its masked Dense layers in the network's own dtype, so
        # it computes in float32 under a mixed-precision policy too.
        dtype="float32")
    self.network.build([None, self._event_size])
    tfb.MaskedAutoregressiveFlow.__init__(
        self, shift_and_log_scale_fn=self._shift_and_log_scale, validate_args=validate_args,
        name=name)

  def _forward(self, x, condition=None):
    # The D-pass direction always runs compiled: eagerly, TFP's while_loop
    # would be D Python-level iterations.
    return self._compiled_forward(x, condition)

  @tf.function(reduce_retracing=True)
  def _compiled_forward(self, x, condition):
    kwargs = {} if condition is None else {"condition": condition}
    return tfb.MaskedAutoregressiveFlow._forward(self, x, **kwargs)

  def _shift_and_log_scale(self, x, condition=None):
    self._check_condition(condition)
    out = self.network(x, conditional_input=condition)
    shift, raw = tf.unstack(out, 2, axis=-1)
    return shift, self._max_log_scale * tf.tanh(raw / self._max_log_scale)


class InverseAutoregressive(Bijector):
  """The inverse of a :class:`MaskedAutoregressive` map: IAF's layer (Kingma et al. 2016)::

      forward (u → x, one pass):  x_i = (u_i − μ_i(u_<i)) · exp(−α_i(u_<i))
      inverse (x → u, D passes):  u_i = x_i · exp(α_i(u_<i)) + μ_i(u_<i)
      log|det ∂x/∂u| = −Σ_i α_i(u_<i)

  (``tfb.Invert`` of the same map, but a tfgen bijector: it reports
  ``is_conditional`` and takes ``condition=`` like the others.) Same
  arguments as :class:`MaskedAutoregressive`.
  """

  def __init__(self, event_size, hidden_units=(64, 64), activation="relu", condition_size=None,
               max_log_scale=3.0, validate_args=False, name="inverse_autoregressive"):
    parameters = dict(locals())
    self.made = MaskedAutoregressive(event_size, hidden_units, activation, condition_size,
                                     max_log_scale, validate_args, name=name + "_made")
    self._condition_size = self.made._condition_size
    super().__init__(forward_min_event_ndims=1, validate_args=validate_args,
                     parameters=parameters, name=name)

  def _kw(self, condition):
    return {} if condition is None else {"condition": condition}

  def _forward(self, x, condition=None):
    return self.made.inverse(x, **self._kw(condition))

  def _inverse(self, y, condition=None):
    return self.made.forward(y, **self._kw(condition))

  def _forward_log_det_jacobian(self, x, condition=None):
    return self.made.inverse_log_det_jacobian(x, event_ndims=1, **self._kw(condition))

  def _inverse_log_det_jacobian(self, y, condition=None):
    return self.made.forward_log_det_jacobian(y, event_ndims=1, **self._kw(condition))

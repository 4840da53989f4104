"""Any batch shape for a bijector that takes one batch axis."""

import tensorflow as tf
import tensorflow_probability as tfp
from tensorflow_probability.python.internal import prefer_static as ps

tfb = tfp.bijectors


class FlattenBatch(tfb.Bijector):
  """``inner`` applied to inputs of any batch shape ``A`` (none included).

  Convolutional conditioners take exactly one batch axis; this bijector
  folds ``A`` into it and unfolds the result::

      forward(x)  = reshape(inner.forward(reshape(x, [-1, *E_in])), A + E_out)
      log|det J|  = reshape(inner.forward_log_det_jacobian(…), A)

  (and the same for the inverse), so a flow's ``TransformedDistribution``
  has TFP's shape semantics: ``sample()``, ``sample([2, 3])``, unbatched
  and doubly batched ``log_prob``. The log-det is ``inner``'s.

  Args:
    inner: a bijector whose forward maps ``[B, *E_in]`` to ``[B, *E_out]``.
    event_shape_in: ``E_in``, the forward input's event shape.
    event_shape_out: ``E_out``, the forward output's event shape.
  """

  def __init__(self, inner, event_shape_in, event_shape_out, validate_args=False,
               name="flatten_batch"):
    parameters = dict(locals())
    self._inner = inner
    self._in, self._out = list(event_shape_in), list(event_shape_out)
    super().__init__(forward_min_event_ndims=len(self._in),
                     inverse_min_event_ndims=len(self._out), is_constant_jacobian=False,
                     validate_args=validate_args, parameters=parameters, name=name)

  @property
  def inner(self):
    return self._inner

  @classmethod
  def _parameter_properties(cls, dtype):
    return {}

  @staticmethod
  def _split(x, event):
    shape = ps.shape(x)
    batch = shape[:ps.rank(x) - len(event)]
    return tf.reshape(x, [-1] + event), batch

  def _forward(self, x, **kwargs):
    flat, batch = self._split(x, self._in)
    return tf.reshape(self._inner.forward(flat, **kwargs), ps.concat([batch, self._out], 0))

  def _inverse(self, y, **kwargs):
    flat, batch = self._split(y, self._out)
    return tf.reshape(self._inner.inverse(flat, **kwargs), ps.concat([batch, self._in], 0))

  def _forward_log_det_jacobian(self, x, **kwargs):
    flat, batch = self._split(x, self._in)
    ldj = self._inner.forward_log_det_jacobian(flat, event_ndims=len(self._in), **kwargs)
    return tf.reshape(ldj, batch)

  def _inverse_log_det_jacobian(self, y, **kwargs):
    flat, batch = self._split(y, self._out)
    ldj = self._inner.inverse_log_det_jacobian(flat, event_ndims=len(self._out), **kwargs)
    return tf.reshape(ldj, batch)

  def _forward_event_shape(self, input_shape):
    return tf.TensorShape(self._out)

  def _inverse_event_shape(self, output_shape):
    return tf.TensorShape(self._in)

  def _forward_event_shape_tensor(self, input_shape):
    return tf.constant(self._out, tf.int32)

  def _inverse_event_shape_tensor(self, output_shape):
    return tf.constant(self._in, tf.int32)

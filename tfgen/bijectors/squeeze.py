"""Squeeze: trade spatial resolution for channels."""

import tensorflow as tf

from tfgen import _validation
from tfgen.bijectors.base import Bijector


class Squeeze(Bijector):
  """Space-to-depth reshaping of an image event, and its inverse.

  For factor f, ``forward`` maps an event of shape ``[H, W, C]`` to
  ``[H/f, W/f, C·f²]``::

      y[i, j, (a·f + b)·C + c] = x[i·f + a, j·f + b, c]

  (the order of ``tf.nn.space_to_depth``), and ``inverse`` is depth-to-space.
  It only permutes entries, so ``log|det J| = 0`` in both directions.

  Example:

  >>> Squeeze().forward(tf.zeros([8, 4, 6, 3])).shape
  TensorShape([8, 2, 3, 12])

  References:
    - Dinh, Sohl-Dickstein & Bengio (2017). Density estimation using Real NVP, §3.6.
      arXiv:1605.08803.
  """

  def __init__(self, factor=2, validate_args=False, name="squeeze"):
    parameters = dict(locals())
    self._factor = _validation.positive_int(factor, "factor")
    super().__init__(forward_min_event_ndims=3, is_constant_jacobian=True,
                     validate_args=validate_args, parameters=parameters, name=name)

  @property
  def factor(self):
    return self._factor

  def _check_divisible(self, shape):
    f = self._factor
    h, w = shape[-3], shape[-2]
    if (h is not None and h % f) or (w is not None and w % f):
      raise ValueError(f"Squeeze(factor={f}) needs height and width divisible by {f}, "
                       f"got event shape {shape[-3:]}.")

  def _forward(self, x):
    shape = tf.shape(x)
    x4 = tf.reshape(x, tf.concat([[-1], shape[-3:]], 0))
    y4 = tf.nn.space_to_depth(x4, self._factor)
    return tf.reshape(y4, tf.concat([shape[:-3], tf.shape(y4)[1:]], 0))

  def _inverse(self, y):
    shape = tf.shape(y)
    y4 = tf.reshape(y, tf.concat([[-1], shape[-3:]], 0))
    x4 = tf.nn.depth_to_space(y4, self._factor)
    return tf.reshape(x4, tf.concat([shape[:-3], tf.shape(x4)[1:]], 0))

  def _forward_log_det_jacobian(self, x):
    return tf.zeros([], dtype=x.dtype)

  def _forward_event_shape(self, input_shape):
    if input_shape.rank is None:
      return input_shape
    self._check_divisible(input_shape.as_list())
    h, w, c = input_shape[-3:]
    f = self._factor
    div = lambda d: None if d is None else d // f
    return input_shape[:-3].concatenate([div(h), div(w), None if c is None else c * f * f])

  def _inverse_event_shape(self, output_shape):
    if output_shape.rank is None:
      return output_shape
    h, w, c = output_shape[-3:]
    f = self._factor
    if c is not None and c % (f * f):
      raise ValueError(f"Squeeze(factor={f}).inverse needs channels divisible by {f * f}, "
                       f"got event shape {output_shape[-3:]}.")
    mul = lambda d: None if d is None else d * f
    return output_shape[:-3].concatenate([mul(h), mul(w), None if c is None else c // (f * f)])

  def _forward_event_shape_tensor(self, input_shape):
    f = self._factor
    return tf.concat([input_shape[:-3], input_shape[-3:-1] // f, input_shape[-1:] * f * f], 0)

  def _inverse_event_shape_tensor(self, output_shape):
    f = self._factor
    return tf.concat([output_shape[:-3], output_shape[-3:-1] * f, output_shape[-1:] // (f * f)], 0)


class Unsqueeze(Squeeze):
  """Depth-to-space: :class:`Squeeze` with its directions swapped.

  ``forward`` maps ``[H, W, C]`` to ``[H·f, W·f, C/f²]`` and ``inverse``
  squeezes back; ``log|det J| = 0``. In a generative chain (latent → data)
  this is the squeeze seen from the data side, without wrapping
  ``Squeeze`` in ``tfb.Invert``.
  """

  def __init__(self, factor=2, validate_args=False, name="unsqueeze"):
    super().__init__(factor=factor, validate_args=validate_args, name=name)

  def _forward(self, x):
    return Squeeze._inverse(self, x)

  def _inverse(self, y):
    return Squeeze._forward(self, y)

  def _forward_event_shape(self, input_shape):
    return Squeeze._inverse_event_shape(self, input_shape)

  def _inverse_event_shape(self, output_shape):
    return Squeeze._forward_event_shape(self, output_shape)

  def _forward_event_shape_tensor(self, input_shape):
    return Squeeze._inverse_event_shape_tensor(self, input_shape)

  def _inverse_event_shape_tensor(self, output_shape):
    return Squeeze._forward_event_shape_tensor(self, output_shape)

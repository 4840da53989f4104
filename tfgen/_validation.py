"""Checks at the public boundary: discrete data batches and plain arguments.

Static facts (rank, shape, dtype) are checked in Python and raise
``ValueError``. Value facts (finiteness, integrality, range) raise
``ValueError`` when run eagerly; inside a ``tf.function`` they become
``tf.debugging.Assert`` ops that fail with the same message.
"""

import numpy as np
import tensorflow as tf


def positive_int(value, name):
  """Returns ``value`` as an int, or raises a ValueError naming ``name``."""
  if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
    raise ValueError(f"`{name}` must be a positive integer, got {value!r}.")
  return int(value)


def one_of(value, name, choices):
  """Returns ``value`` if it is in ``choices``, else raises a ValueError."""
  if value not in choices:
    raise ValueError(f"`{name}` must be one of {sorted(choices)}, got {value!r}.")
  return value


def static_shape(x, event_shape, name):
  """Checks rank and known dimensions of ``[batch, *event_shape]``."""
  expected = "[batch, " + ", ".join("?" if d is None else str(d) for d in event_shape) + "]"
  got = x.shape.as_list() if x.shape.rank is not None else None
  if got is None:
    return
  if len(got) != len(event_shape) + 1 or any(
      g is not None and w is not None and g != w for g, w in zip(got[1:], event_shape)):
    raise ValueError(f"`{name}` must have shape {expected}, got shape {got}.")


def discrete_batch(x, event_shape, num_levels, name="x"):
  """Validates a batch of discrete data and returns it as an int32 tensor.

  Args:
    x: array-like of shape ``[batch, *event_shape]`` with an integer dtype,
      or a float dtype holding whole numbers.
    event_shape: expected trailing shape; ``None`` entries match any size.
    num_levels: values must lie in ``[0, num_levels)``.
    name: argument name used in messages.

  Raises:
    ValueError: wrong rank, shape or dtype, non-finite or non-integer
      values, or values outside ``[0, num_levels)``.
  """
  if not isinstance(x, (tf.Tensor, tf.Variable)):
    x = tf.convert_to_tensor(np.asarray(x) if not isinstance(x, np.ndarray) else x)
  if not (x.dtype.is_integer or x.dtype.is_floating):
    raise ValueError(f"`{name}` must have an integer dtype (for example uint8), got {x.dtype.name}.")
  static_shape(x, event_shape, name)
  wide = tf.cast(x, tf.float64 if x.dtype.is_floating else tf.int64)
  checks = []
  if x.dtype.is_floating:
    checks.append((lambda: tf.reduce_all(tf.math.is_finite(wide)),
                   f"`{name}` must hold finite values; found NaN or Inf."))
    checks.append((lambda: tf.reduce_all(tf.equal(wide, tf.round(wide))),
                   f"`{name}` must hold whole numbers (discrete data); found non-integer values. "
                   "tfgen never rounds silently: quantize the data yourself."))
  in_range = lambda: tf.reduce_all((wide >= 0) & (wide < tf.cast(num_levels, wide.dtype)))
  range_msg = f"`{name}` values must lie in [0, {num_levels - 1}]"
  if tf.executing_eagerly():
    for condition, message in checks:
      if not bool(condition()):
        raise ValueError(message)
    if tf.size(wide) > 0 and not bool(in_range()):
      lo, hi = tf.reduce_min(wide).numpy(), tf.reduce_max(wide).numpy()
      raise ValueError(f"{range_msg}, got values in [{lo}, {hi}].")
    return tf.cast(x, tf.int32)
  ops = [tf.debugging.Assert(c(), [m]) for c, m in checks + [(in_range, range_msg + ".")]]
  with tf.control_dependencies(ops):
    return tf.cast(x, tf.int32)


def temperature(value):
  """Returns a positive float temperature, or raises a ValueError."""
  try:
    t = float(value)
  except (TypeError, ValueError):
    t = float("nan")
  if not t > 0:
    raise ValueError(f"`temperature` must be > 0, got {value!r}.")
  return t


def seed(value):
  """A stateless seed: an int tensor of shape ``[2]``; one is drawn if None."""
  if value is None:
    return tf.random.uniform([2], maxval=2**31 - 1, dtype=tf.int32)
  s = tf.convert_to_tensor(value)
  if s.shape != [2] or not s.dtype.is_integer:
    raise ValueError(f"`seed` must be None or an int tensor of shape [2], got {value!r}.")
  return s


def full_precision(model_name):
  """Raises ``ValueError`` when a mixed-precision Keras policy is active, for
  models that compute in float32 only (MADE: TFP's AutoregressiveNetwork)."""
  from tfgen._keras import keras
  policy = keras.mixed_precision.global_policy()
  if policy.compute_dtype != "float32":
    raise ValueError(f"{model_name} does not support the mixed-precision policy "
                     f"{policy.name!r} yet (flows, PixelCNN and WaveNet do); build it under the "
                     "'float32' policy.")

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


def boolean(value, name):
  """Returns ``value`` as a bool if it is one (numpy's too), or raises a
  ValueError naming ``name``: ``'no'`` or ``0`` is not a flag."""
  if not isinstance(value, (bool, np.bool_)):
    raise ValueError(f"`{name}` must be True or False, got {value!r}.")
  return bool(value)


def non_negative_int(value, name):
  """Returns ``value`` as an int ≥ 0, or raises a ValueError naming ``name``."""
  if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 0:
    raise ValueError(f"`{name}` must be an integer ≥ 0, got {value!r}.")
  return int(value)


def one_of(value, name, choices):
  """Returns ``value`` if it is in ``choices``, else raises a ValueError."""
  if value not in choices:
    raise ValueError(f"`{name}` must be one of {sorted(choices)}, got {value!r}.")
  return value


def static_shape(x, event_shape, name):
  """Checks rank and known dimensions of ``[batch, *event_shape]``: a
  ValueError for what is known statically, and in a graph (a served request
  can bypass static shapes) an assert on the run-time shape. Returns ``x``."""
  expected = "[batch, " + ", ".join("?" if d is None else str(d) for d in event_shape) + "]"
  got = x.shape.as_list() if x.shape.rank is not None else None
  if got is not None and (len(got) != len(event_shape) + 1 or any(
      g is not None and w is not None and g != w for g, w in zip(got[1:], event_shape))):
    raise ValueError(f"`{name}` must have shape {expected}, got shape {got}.")
  if tf.executing_eagerly():
    return x
  shape = tf.shape(x)
  ok = tf.equal(tf.size(shape), len(event_shape) + 1)
  padded = tf.concat([shape, tf.zeros([len(event_shape) + 1], tf.int32)], 0)
  for axis, d in enumerate(event_shape, start=1):
    if d is not None:
      ok = tf.logical_and(ok, tf.equal(padded[axis], d))
  assertion = tf.debugging.Assert(ok, [f"`{name}` must have shape {expected}; got", shape])
  with tf.control_dependencies([assertion]):
    return tf.identity(x)


def discrete_batch(x, event_shape, num_levels, name="x", allow_empty=False):
  """Validates a batch of discrete data and returns it as an int32 tensor.

  Args:
    x: array-like of shape ``[batch, *event_shape]`` with an integer dtype,
      or a float dtype holding whole numbers.
    event_shape: expected trailing shape; ``None`` entries match any size.
    num_levels: values must lie in ``[0, num_levels)``.
    name: argument name used in messages.
    allow_empty: accept a batch of zero examples (models never do: an
      empty batch would, for example, initialise ActNorm from nothing).

  Raises:
    ValueError: wrong rank, shape or dtype, an empty batch, non-finite or
      non-integer values, or values outside ``[0, num_levels)``.
  """
  if not isinstance(x, (tf.Tensor, tf.Variable)):
    try:
      x = tf.convert_to_tensor(np.asarray(x) if not isinstance(x, np.ndarray) else x)
    except (TypeError, ValueError, OverflowError) as e:
      raise ValueError(f"`{name}` must be an array of integers, got {type(x).__name__} "
                       f"({' '.join(str(e).split())[:120]}).") from None
  if not (x.dtype.is_integer or x.dtype.is_floating):
    raise ValueError(f"`{name}` must have an integer dtype (for example uint8), got {x.dtype.name}.")
  x = static_shape(x, event_shape, name)
  if not allow_empty:
    x = _non_empty(x, name)
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
    # identity: tf.cast of an int32 tensor returns that same tensor, which
    # would not carry the checks (a served gather could then run first).
    return tf.identity(tf.cast(x, tf.int32))


def temperature(value):
  """Returns a finite temperature ``T`` with ``1e-3 ≤ T ≤ 1e3``, or raises a ValueError.

  Outside that range ``logits / T`` overflows float32 or flattens to noise.
  """
  try:
    t = float(value)
  except (TypeError, ValueError):
    t = float("nan")
  if not (1e-3 <= t <= 1e3):
    raise ValueError(f"`temperature` must be a finite number in [0.001, 1000], got {value!r}.")
  return t


def seed(value):
  """A stateless seed: an int32 tensor of shape ``[2]``.

  Takes what TFP takes: ``None`` (one is drawn at random), a Python or
  numpy int (mapped deterministically to a pair, so ``seed=42`` is
  reproducible), or any integer array of shape ``[2]`` whose entries fit in
  int32. Raises a ValueError naming the value otherwise.
  """
  if value is None:
    return tf.random.uniform([2], maxval=2**31 - 1, dtype=tf.int32)
  if isinstance(value, (int, np.integer)) and not isinstance(value, bool):
    v = int(value)
    if not -2**63 <= v < 2**64:
      raise ValueError(f"`seed` must fit in 64 bits, got {value!r}.")
    v %= 2**64
    pair = np.array([v >> 32, v & 0xFFFFFFFF], np.uint32).view(np.int32)
    return tf.constant(pair)
  if isinstance(value, (tf.Tensor, tf.Variable)):
    if value.shape != [2] or not value.dtype.is_integer:
      raise ValueError(f"`seed` must be an int, None or an int tensor of shape [2], "
                       f"got a {value.dtype.name} tensor of shape {value.shape}.")
    return tf.cast(value, tf.int32)
  try:
    arr = np.asarray(value)
  except (TypeError, ValueError, OverflowError):
    arr = None
  if (arr is None or arr.shape != (2,) or arr.dtype == bool
      or not np.issubdtype(arr.dtype, np.integer)):
    raise ValueError(f"`seed` must be an int, None or an int array of shape [2], got {value!r}.")
  if arr.min() < -2**31 or arr.max() >= 2**31:
    raise ValueError(f"`seed` entries must fit in int32 ([-2**31, 2**31)), got {value!r}.")
  return tf.constant(arr.astype(np.int32))


def image_shape(value):
  """Returns ``(height, width, channels)`` of positive ints, or raises a ValueError."""
  shape = tuple(value) if isinstance(value, (tuple, list)) else None
  if shape is None or len(shape) != 3 or not all(
      isinstance(d, (int, np.integer)) and not isinstance(d, bool) and d > 0 for d in shape):
    raise ValueError(f"`image_shape` must be (height, width, channels) of positive ints, "
                     f"got {value!r}.")
  return tuple(int(d) for d in shape)


def vector_shape(value, name):
  """``(D,)`` from ``D`` or a one-entry shape of a positive int, or a ValueError."""
  shape = tuple(value) if isinstance(value, (tuple, list)) else (value,)
  if len(shape) != 1 or isinstance(shape[0], bool) or not isinstance(
      shape[0], (int, np.integer)) or shape[0] < 1:
    raise ValueError(f"`{name}` must be (D,) with D a positive int (a flow over vectors), got "
                     f"{value!r}.")
  return (int(shape[0]),)


def event_shape(event_size):
  """``D`` or an event shape (e.g. ``(28, 28, 1)``) → a tuple of positive ints."""
  if isinstance(event_size, (tuple, list)):
    return tuple(positive_int(d, "event_size entry") for d in event_size)
  return (positive_int(event_size, "event_size"),)


def _check(condition_fn, message):
  """Raises ``ValueError(message)`` eagerly, or returns an Assert op in a graph."""
  if tf.executing_eagerly():
    if not bool(condition_fn()):
      raise ValueError(message)
    return None
  return tf.debugging.Assert(condition_fn(), [message])


def _guarded(t, ops):
  ops = [op for op in ops if op is not None]
  if not ops:
    return t
  with tf.control_dependencies(ops):
    return tf.identity(t)


def describe_condition(num_classes, condition_shape):
  if num_classes:
    return f"class ids in [0, {num_classes - 1}] of shape [batch]"
  return "float vectors of shape [batch, " + ", ".join(
      "?" if d is None else str(d) for d in condition_shape) + "]"


def _non_empty(x, name):
  message = f"`{name}` is an empty batch; pass at least one example."
  if x.shape.rank is not None and x.shape[0] is not None:
    if x.shape[0] == 0:
      raise ValueError(message)
    return x
  return _guarded(x, [_check(lambda: tf.shape(x)[0] > 0, message)])


def float_batch(x, event_shape, name):
  """A float32 batch ``[batch, *event_shape]`` of finite values (ValueError / graph assert)."""
  if not isinstance(x, (tf.Tensor, tf.Variable)):
    try:
      x = np.asarray(x)
    except (TypeError, ValueError) as e:
      raise ValueError(f"`{name}` must be numeric, got {type(x).__name__}: {e}") from None
    if not (np.issubdtype(x.dtype, np.number) or x.dtype == bool):
      raise ValueError(f"`{name}` must be numeric, got dtype {x.dtype}.")
  x = _non_empty(static_shape(tf.cast(x, tf.float32), event_shape, name), name)
  op = _check(lambda: tf.reduce_all(tf.math.is_finite(x)),
              f"`{name}` must hold finite values; found NaN or Inf.")
  return _guarded(x, [op])


def same_rows(t, batch, name):
  """Checks that ``t`` has ``batch`` rows (one per example; no broadcasting)."""
  rows = t.shape[0]
  static_batch = batch if isinstance(batch, int) else tf.get_static_value(batch)
  if rows is not None and static_batch is not None:
    if rows != int(static_batch):
      raise ValueError(f"`{name}` must have one row per example ({int(static_batch)}), "
                       f"got {rows}.")
    return t
  op = _check(lambda: tf.equal(tf.shape(t)[0], tf.cast(batch, tf.int32)),
              f"`{name}` must have one row per example.")
  return _guarded(t, [op])


def in_range(value, low, high, name):
  """An int32 scalar tensor checked to lie in ``[low, high]`` (graph-safe)."""
  value = tf.convert_to_tensor(value, tf.int32)
  op = _check(lambda: tf.logical_and(value >= low, value <= high),
              f"`{name}` must lie in [{low}, {high}].")
  return _guarded(value, [op])


def positive_finite(value, name):
  """A float32 scalar tensor checked to be finite and > 0 (graph-safe)."""
  value = tf.convert_to_tensor(value, tf.float32)
  op = _check(lambda: tf.logical_and(tf.math.is_finite(value), value > 0.),
              f"`{name}` must be finite and > 0.")
  return _guarded(value, [op])


def at_least(t, value, minimum, message):
  """Returns ``t`` guarded by ``value >= minimum`` (ValueError eagerly, assert in a graph)."""
  op = _check(lambda: tf.greater_equal(tf.cast(value, tf.int64), tf.cast(minimum, tf.int64)),
              message)
  return _guarded(t, [op])


def assertion_message(error):
  """The tfgen check behind a graph ``InvalidArgumentError``, or None.

  tfgen's in-graph checks (``tf.debugging.Assert``) carry messages that
  start with the argument's name in backticks; this recovers that message,
  so ``fit``/``evaluate``/``predict`` can raise the same ValueError a fresh,
  eager call raises.
  """
  import re
  message = getattr(error, "message", str(error))
  for line in message.splitlines():
    if "assertion failed: [`" in line:
      text = line.split("assertion failed: [", 1)[1]
      return re.sub(r"\]( \[(.*)\])?\s*$",
                    lambda m: " " + m.group(2) if m.group(2) else "", text).strip()
  return None


def traced_message(error):
  """The message of a ValueError raised while ``tf.function`` traced a step,
  without the trace autograph wraps it in (None if it is not wrapped)."""
  message = str(error)
  if "in user code:" not in message:
    return None
  marker = f"{type(error).__name__}: "
  tail = message.rsplit(marker, 1)[-1] if marker in message else message.splitlines()[-1]
  return " ".join(tail.split()) or None


def model_or_config(value, cls, name, what):
  """``value`` if it is a ``cls`` model, ``cls.from_config(value)`` if it is a
  config dict; ValueError otherwise (``what``: e.g. 'a trained tfgen WaveNet')."""
  if isinstance(value, dict):
    return cls.from_config(value)
  if not isinstance(value, cls):
    raise ValueError(f"`{name}` must be {what} (or its config), got {type(value).__name__}.")
  return value

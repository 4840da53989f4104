"""What every tfgen bijector shares: variables it owns, float32 arithmetic,
and a one-pass log-det that never returns stale values."""

import contextlib
import threading

import numpy as np
import tensorflow as tf
import tensorflow_probability as tfp

from tfgen import _validation
from tfgen.bijectors import _tfp_cache

tfb = tfp.bijectors


@contextlib.contextmanager
def one_pass():
  """Lets tfgen bijectors share work between ``inverse`` and its log-det in eager mode.

  ``TransformedDistribution.log_prob(y)`` calls ``bijector.inverse(y)`` and
  then ``bijector.inverse_log_det_jacobian(y)``. Inside ``tf.function``
  TFP's bijector cache makes the second call free, so a coupling's network
  runs once. In eager mode tfgen caches only inside this context, and
  forgets everything when the outermost one exits, so a result never
  outlives the variables it was computed from::

      with tfgen.bijectors.one_pass():
        lp = dist.log_prob(y)        # each coupling network runs once

  tfgen's models (``log_prob``, ``encode``, ``decode``) enter it for you.
  Do not change a bijector's variables inside it.
  """
  _SCOPE.depth = getattr(_SCOPE, "depth", 0) + 1
  try:
    yield
  finally:
    _SCOPE.depth -= 1
    if _SCOPE.depth == 0:
      _tfp_cache.forget()


_SCOPE = threading.local()


def _caching():
  return not tf.executing_eagerly() or getattr(_SCOPE, "depth", 0) > 0


def event_positions(x, event_ndims):
  """``N``, the number of positions a per-channel map acts on in each event
  of ``x`` (``H·W`` for ``[..., H, W, C]`` events), as a float32 scalar: a
  Python number when the shape is static (no shape ops in the graph)."""
  dims = x.shape[len(x.shape) - event_ndims:-1] if x.shape.rank is not None else None
  if dims is not None and all(d is not None for d in dims):
    return float(np.prod(dims, dtype=np.int64))
  return tf.cast(tf.reduce_prod(tf.shape(x)[-event_ndims:-1]), tf.float32)


def _float32(value, bijector, arg):
  """``value`` as a float32 tensor; a clear ValueError for any other float/int dtype."""
  dtype = None
  if isinstance(value, (tf.Tensor, tf.Variable)):
    dtype = value.dtype
  elif isinstance(value, (np.ndarray, np.generic)):
    dtype = tf.as_dtype(value.dtype)
  if dtype is not None and dtype != tf.float32:
    raise ValueError(f"{bijector.name}: `{arg}` must be float32 (tfgen bijectors compute in "
                     f"float32), got {dtype.name}; cast it with tf.cast({arg}, tf.float32).")
  return tf.convert_to_tensor(value, tf.float32)


class Bijector(tfb.Bijector):
  """A ``tfb.Bijector`` whose parameters are variables it owns.

  Such bijectors have no batch-shaped parameters for TFP to infer from, so
  ``_parameter_properties`` is empty. ``validate_args=True`` checks every
  input at run time: finite, and of at least the event rank (a cost on
  every call, so off by default, as in TFP). They compute in float32: inputs of
  any other dtype are refused with a ValueError. Conditional bijectors
  (those built with a ``condition_size``) take ``condition=`` of shape
  ``[batch, condition_size]`` in every method and report ``is_conditional``.

  TFP caches a bijector's outputs keyed by its input tensor. tfgen bijectors
  own variables, so an eager result must not be reused after they change:
  their cache is live only inside ``tf.function`` and inside
  :func:`one_pass` (see there).
  """

  _condition_size = None
  _cache = _tfp_cache.scoped_cache(_caching)

  @classmethod
  def _parameter_properties(cls, dtype=None):
    return {}

  @staticmethod
  def _validate_condition_size(condition_size):
    if condition_size is None:
      return None
    return _validation.positive_int(condition_size, "condition_size")

  # Identity, not TFP's value equality: a tfgen bijector is its variables,
  # so two bijectors are the same only if they are one object. TFP hashes a
  # bijector on every cache lookup, by walking its parameters (and for a
  # Chain, every bijector inside it): for the demo Glow that walk was about
  # a quarter of the time it takes to trace a training step.
  def __hash__(self):
    return id(self)

  def __eq__(self, other):
    return self is other

  @property
  def is_conditional(self):
    return self._condition_size is not None

  def _check_condition(self, condition):
    if (condition is None) != (self._condition_size is None):
      raise ValueError(f"{self.name} was built with condition_size={self._condition_size}; "
                       f"`condition` must be {'given' if self._condition_size else 'None'}.")

  def _input(self, value, arg):
    """``value`` as float32; with ``validate_args=True`` also checked to be
    finite and to have the event rank (``InvalidArgumentError`` otherwise, as
    TFP's own checks raise)."""
    value = _float32(value, self, arg)
    if not self.validate_args:
      return value
    if value.shape.rank is not None and value.shape.rank < self.forward_min_event_ndims:
      raise ValueError(f"{self.name}: `{arg}` must have at least "
                       f"{self.forward_min_event_ndims} dimensions, got shape {value.shape}.")
    return tf.debugging.assert_all_finite(value, f"{self.name}: `{arg}` must be finite "
                                          "(validate_args=True)")

  def forward(self, x, name="forward", **kwargs):
    return super().forward(self._input(x, "x"), name=name, **kwargs)

  def inverse(self, y, name="inverse", **kwargs):
    return super().inverse(self._input(y, "y"), name=name, **kwargs)

  def forward_log_det_jacobian(self, x, event_ndims=None, name="forward_log_det_jacobian",
                               **kwargs):
    return super().forward_log_det_jacobian(self._input(x, "x"), event_ndims=event_ndims,
                                            name=name, **kwargs)

  def inverse_log_det_jacobian(self, y, event_ndims=None, name="inverse_log_det_jacobian",
                               **kwargs):
    return super().inverse_log_det_jacobian(self._input(y, "y"), event_ndims=event_ndims,
                                            name=name, **kwargs)


class OnePassBijector(Bijector):
  """A bijector that gets its log-det in the same pass as its output.

  Subclasses implement ``_augmented_forward(x, **kw)`` and
  ``_augmented_inverse(y, **kw)``, each returning ``(output, {"fldj": …,
  "ildj": …})``. The greedy-attribute cache keeps the log-dets, so
  ``log_prob`` through a ``TransformedDistribution`` runs the network
  inside once (in ``tf.function``, or eagerly inside :func:`one_pass`), not
  once for ``inverse`` and again for its log-det.
  """

  _cache = _tfp_cache.scoped_cache(_caching, greedy=True,
                                   forward_name="_augmented_forward",
                                   inverse_name="_augmented_inverse")

  def _forward(self, x, **kwargs):
    return self._augmented_forward(x, **kwargs)[0]

  def _inverse(self, y, **kwargs):
    return self._augmented_inverse(y, **kwargs)[0]

  def _forward_log_det_jacobian(self, x, **kwargs):
    cached = self._cache.forward_attributes(x, **kwargs)
    if "fldj" not in cached:
      cached.update(self._augmented_forward(x, **kwargs)[1])
    return cached["fldj"]

  def _inverse_log_det_jacobian(self, y, **kwargs):
    cached = self._cache.inverse_attributes(y, **kwargs)
    if "ildj" not in cached:
      cached.update(self._augmented_inverse(y, **kwargs)[1])
    return cached["ildj"]

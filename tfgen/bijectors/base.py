"""What every tfgen bijector shares."""

import tensorflow_probability as tfp
from tensorflow_probability.python.internal import cache_util

from tfgen import _validation

tfb = tfp.bijectors


class Bijector(tfb.Bijector):
  """A ``tfb.Bijector`` whose parameters are variables it owns.

  Such bijectors have no batch-shaped parameters for TFP to infer from, so
  ``_parameter_properties`` is empty. Conditional bijectors (those built
  with a ``condition_size``) take ``condition=`` of shape ``[batch,
  condition_size]`` in every method and report ``is_conditional``.
  """

  _condition_size = None

  @classmethod
  def _parameter_properties(cls, dtype=None):
    return {}

  @staticmethod
  def _validate_condition_size(condition_size):
    if condition_size is None:
      return None
    return _validation.positive_int(condition_size, "condition_size")

  @property
  def is_conditional(self):
    return self._condition_size is not None

  def _check_condition(self, condition):
    if (condition is None) != (self._condition_size is None):
      raise ValueError(f"{self.name} was built with condition_size={self._condition_size}; "
                       f"`condition` must be {'given' if self._condition_size else 'None'}.")


class OnePassBijector(Bijector):
  """A bijector that gets its log-det in the same pass as its output.

  Subclasses implement ``_augmented_forward(x, **kw)`` and
  ``_augmented_inverse(y, **kw)``, each returning ``(output, {"fldj": …,
  "ildj": …})``. TFP's greedy-attribute cache keeps the log-dets, so
  ``log_prob`` through a ``TransformedDistribution`` runs the network
  inside once, not once for ``inverse`` and again for its log-det.
  """

  _cache = cache_util.BijectorCacheWithGreedyAttrs(
      forward_name="_augmented_forward", inverse_name="_augmented_inverse")

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

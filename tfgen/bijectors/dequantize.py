"""Dequantization of n-bit data, with all log-dets counted."""

import tensorflow as tf

from tfgen import _validation
from tfgen.bijectors.base import Bijector


class Dequantize(Bijector):
  """Maps the model's real space onto the dequantized data cube ``[0, K)^D``.

  Discrete data ``x ∈ {0, …, K−1}^D`` with ``K = 2^n_bits`` is dequantized by
  uniform noise, ``y = x + u`` with ``u ~ U[0, 1)^D`` (:meth:`add_noise`).
  Since every bin has unit volume, ``E_u[log p(y)] ≤ log P(x)`` (Theis et
  al. 2016), so a density on ``y`` reports a bound on the discrete
  likelihood, in the data space: bits/dim are comparable with published
  numbers. This bijector is the deterministic map between ``y`` and the
  flow's space. With ``w = y / K`` in ``[0, 1)``::

      logit=False:  inverse  z = w − 1/2
                    forward  y = K (z + 1/2)
                    log|det ∂y/∂z| = D log K
      logit=True:   inverse  z = logit(α + (1 − 2α) w)     (Dinh et al. 2017, §4.1)
                    forward  y = K (σ(z) − α) / (1 − 2α)
                    log|det ∂y/∂z| = Σ [log K − log(1 − 2α) + log σ(z) + log σ(−z)]

  ``data_bits``-bit input (8 for uint8 images) is reduced to ``n_bits`` by
  ``x // 2^(data_bits − n_bits)`` in :meth:`add_noise`, and :meth:`quantize`
  maps back, so users see data-space integers in and out.

  Args:
    n_bits: model bit depth, ``1 ≤ n_bits ≤ data_bits``.
    logit: apply the logit transform.
    alpha: the logit margin ``α``, in ``(0, 0.5)``.
    event_ndims: rank of one datum (3 for images).
    data_bits: bit depth of the integer data users pass.

  References:
    - Theis, van den Oord & Bethge (2016). A note on the evaluation of generative models.
      arXiv:1511.01844.
  """

  def __init__(self, n_bits=8, logit=False, alpha=0.05, event_ndims=3, data_bits=8,
               validate_args=False, name="dequantize"):
    parameters = dict(locals())
    self._data_bits = _validation.positive_int(data_bits, "data_bits")
    self._n_bits = _validation.positive_int(n_bits, "n_bits")
    if self._n_bits > self._data_bits:
      raise ValueError(f"`n_bits` must be at most data_bits={data_bits}, got {n_bits}.")
    if logit and not 0. < alpha < 0.5:
      raise ValueError(f"`alpha` must lie in (0, 0.5), got {alpha!r}.")
    self._logit, self._alpha = _validation.boolean(logit, "logit"), float(alpha)
    self._event_ndims = _validation.positive_int(event_ndims, "event_ndims")
    super().__init__(forward_min_event_ndims=event_ndims, is_constant_jacobian=not logit,
                     validate_args=validate_args, parameters=parameters, name=name)

  @property
  def num_levels(self):
    """``K = 2^n_bits``, the number of discrete levels modelled."""
    return 2 ** self._n_bits

  @property
  def data_levels(self):
    """``2^data_bits``, the number of levels of the data users pass."""
    return 2 ** self._data_bits

  def add_noise(self, x, seed=None, midpoint=False):
    """Reduces integer data to ``n_bits`` and adds ``U[0, 1)`` noise.

    ``seed`` (an int or an int ``[2]``) makes the noise stateless and
    reproducible: one draw ``u`` of the event's shape, shared by every
    example, so an example's result does not depend on the rest of the
    batch (each is still an unbiased one-sample estimate of the bound).
    ``seed=None`` draws fresh noise for every entry. ``midpoint=True`` adds
    ``u = 1/2`` instead of noise, for exact inference (``quantize`` undoes it).
    """
    x = tf.cast(x // (2 ** (self._data_bits - self._n_bits)), tf.float32)
    if midpoint:
      if seed is not None:
        raise ValueError("Pass `seed` or `midpoint=True`, not both: the midpoint has no noise.")
      return x + 0.5
    if seed is None:
      return x + tf.random.uniform(tf.shape(x))
    event = tf.shape(x)[tf.rank(x) - self._event_ndims:]
    return x + tf.random.stateless_uniform(event, seed=_validation.seed(seed))

  def quantize(self, y):
    """Maps ``[0, K)`` back to integer data in ``[0, 2^data_bits)`` (int32)."""
    levels = tf.clip_by_value(tf.floor(y), 0., self.num_levels - 1.)
    return tf.cast(levels, tf.int32) * (2 ** (self._data_bits - self._n_bits))

  def _log_k(self, dtype):
    return tf.math.log(tf.cast(self.num_levels, dtype))

  def _count(self, x):
    return tf.cast(tf.reduce_prod(tf.shape(x)[-self._event_ndims:]), x.dtype)

  def _inverse(self, y):
    w = y / tf.cast(self.num_levels, y.dtype)
    if not self._logit:
      return w - 0.5
    p = self._alpha + (1. - 2. * self._alpha) * w
    return tf.math.log(p) - tf.math.log1p(-p)

  def _forward(self, z):
    k = tf.cast(self.num_levels, z.dtype)
    if not self._logit:
      return k * (z + 0.5)
    return k * (tf.sigmoid(z) - self._alpha) / (1. - 2. * self._alpha)

  def _forward_log_det_jacobian(self, z):
    if not self._logit:
      return self._count(z) * self._log_k(z.dtype)
    axes = list(range(-self._event_ndims, 0))
    per = (self._log_k(z.dtype) - tf.math.log(1. - 2. * self._alpha)
           + tf.math.log_sigmoid(z) + tf.math.log_sigmoid(-z))
    return tf.reduce_sum(per, axes)

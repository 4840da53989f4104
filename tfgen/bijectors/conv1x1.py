"""Invertible 1×1 convolution (Glow), dense or LU-decomposed."""

import tensorflow as tf

from tfgen import _validation
from tfgen.bijectors.base import Bijector, event_positions
from tfgen._keras import keras


class InvertibleConv1x1(Bijector):
  """A learned invertible channel mixing applied at every position.

  With ``W`` a ``C×C`` matrix acting on the channel vector at each of the
  ``N`` positions of the event (``N = H·W`` for images)::

      inverse (data → latent):  z[..., :] = W x[..., :]
      forward (latent → data):  x[..., :] = W⁻¹ z[..., :]
      log|det ∂x/∂z| = −N · log|det W|

  As in Glow, ``W`` itself acts in the density direction, so ``log_prob``
  and its gradients never go through a matrix inverse; only sampling does.

  With ``lu=True`` (Kingma & Dhariwal 2018, §3.2) the matrix is stored as
  ``W = P L (U + diag(sign · exp(log_s)))`` with a fixed permutation ``P``,
  unit lower-triangular ``L``, strictly upper-triangular ``U`` and fixed
  signs, so ``log|det W| = Σ log_s`` costs O(C) instead of O(C³). With
  ``lu=False``, ``W`` is a dense variable and ``log|det W| = Σ log|R_ii|``
  from its QR decomposition ``W = QR`` (``|det Q| = 1``); unlike
  ``slogdet``, QR compiles under XLA (``jit_compile=True``), so both
  parameterisations do. Either way ``W`` starts as a random orthogonal
  matrix.

  Args:
    channels: ``C``.
    lu: use the LU parameterisation.
    event_ndims: 3 for ``[H, W, C]`` events, 2 for ``[T, C]``, 1 for ``[C]``.
    seed: integer seed for the random initial rotation.

  References:
    - Kingma & Dhariwal (2018). Glow: Generative Flow with Invertible 1x1 Convolutions.
      arXiv:1807.03039.
  """

  def __init__(self, channels, lu=True, event_ndims=3, seed=None, validate_args=False,
               name="conv1x1"):
    parameters = dict(locals())
    self._channels = _validation.positive_int(channels, "channels")
    self._event_ndims = _validation.one_of(event_ndims, "event_ndims", {1, 2, 3})
    self._lu = _validation.boolean(lu, "lu")
    super().__init__(forward_min_event_ndims=event_ndims, is_constant_jacobian=True,
                     validate_args=validate_args, parameters=parameters, name=name)
    w0 = keras.initializers.Orthogonal(seed=seed)(shape=[channels, channels])
    with tf.name_scope(name):
      if not lu:
        self.kernel = tf.Variable(w0, name="kernel")
        return
      lu_packed, perm = tf.linalg.lu(w0)     # w0 = P · L · U with P = I[perm]^T
      c = channels
      lower_mask = tf.linalg.band_part(tf.ones([c, c]), -1, 0) - tf.eye(c)
      diag = tf.linalg.diag_part(lu_packed)
      # P and the signs are fixed, but drawn at random: keep them as
      # (non-trainable) variables so checkpoints restore the same W.
      self.permutation = tf.Variable(tf.transpose(tf.gather(tf.eye(c), perm)), trainable=False,
                                     name="permutation")
      self.sign_s = tf.Variable(tf.sign(diag), trainable=False, name="sign_s")
      self._lower_mask = lower_mask
      self._upper_mask = tf.transpose(lower_mask)
      self.lower = tf.Variable(lu_packed * lower_mask, name="lower")
      self.upper = tf.Variable(lu_packed * self._upper_mask, name="upper")
      self.log_s = tf.Variable(tf.math.log(tf.abs(diag)), name="log_s")

  @property
  def lu(self):
    return self._lu

  def weight(self):
    """Returns the current ``C×C`` matrix ``W``."""
    if not self._lu:
      return tf.convert_to_tensor(self.kernel)
    lower = self.lower * self._lower_mask + tf.eye(self._channels)
    upper = self.upper * self._upper_mask + tf.linalg.diag(self.sign_s * tf.exp(self.log_s))
    return self.permutation @ lower @ upper

  def _log_abs_det(self):
    if self._lu:
      return tf.reduce_sum(self.log_s)
    r = tf.linalg.qr(tf.convert_to_tensor(self.kernel), full_matrices=False)[1]
    return tf.reduce_sum(tf.math.log(tf.abs(tf.linalg.diag_part(r))))

  def _positions(self, x):
    return event_positions(x, self._event_ndims)

  @staticmethod
  def _mix(x, matrix):
    # y[..., i] = Σ_j matrix[i, j] · x[..., j]
    flat = tf.reshape(x, [-1, tf.shape(x)[-1]])
    return tf.reshape(tf.matmul(flat, matrix, transpose_b=True), tf.shape(x))

  def _inverse(self, x):
    return self._mix(x, self.weight())

  def _forward(self, z):
    return self._mix(z, tf.linalg.inv(self.weight()))

  def _inverse_log_det_jacobian(self, x):
    return self._positions(x) * self._log_abs_det()

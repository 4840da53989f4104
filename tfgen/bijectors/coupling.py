"""Coupling bijectors: NICE's additive and RealNVP's affine coupling."""

import numpy as np
import tensorflow as tf

from tfgen import _validation
from tfgen._keras import keras
from tfgen.bijectors.base import OnePassBijector
from tfgen.layers.conditioner import ConvConditioner, DenseConditioner


MASKS = ("checkerboard", "channel")


class _Checkerboard:
  """Keeps the entries where ``b = 1``: a spatial checkerboard for images,
  even/odd indices for vectors. Parameters are masked by ``1 − b``."""

  def __init__(self, event_shape, parity):
    if len(event_shape) == 3:
      h, w, _ = event_shape
      b = (np.add.outer(np.arange(h), np.arange(w)) + parity) % 2 == 0
      b = b[:, :, None]
    else:
      b = (np.arange(event_shape[0]) + parity) % 2 == 0
    self.keep = tf.constant(b, tf.float32)
    self.input_shape = list(event_shape)
    self.out_channels = event_shape[-1]

  def conditioner_input(self, x):
    return x * self.keep

  def transformed(self, x):
    return x

  def mask_params(self, p):
    return p * (1. - self.keep)

  def merge(self, x, y_transformed):
    return y_transformed


class _ChannelSplit:
  """Keeps one half of the last axis and transforms the other half."""

  def __init__(self, event_shape, parity):
    c = event_shape[-1]
    if c < 2:
      raise ValueError(f"mask='channel' needs at least 2 channels in the last event axis, "
                       f"got event shape {list(event_shape)}.")
    k = c // 2
    self.keep_slice, self.trans_slice = (slice(0, k), slice(k, c)) if parity == 0 else (
        slice(k, c), slice(0, k))
    self.parity = parity
    kept = self.keep_slice.stop - self.keep_slice.start
    self.input_shape = list(event_shape[:-1]) + [kept]
    self.out_channels = c - kept

  def conditioner_input(self, x):
    return x[..., self.keep_slice]

  def transformed(self, x):
    return x[..., self.trans_slice]

  def mask_params(self, p):
    return p

  def merge(self, x, y_transformed):
    kept = x[..., self.keep_slice]
    parts = [kept, y_transformed] if self.parity == 0 else [y_transformed, kept]
    return tf.concat(parts, axis=-1)


class _Coupling(OnePassBijector):
  """Shared machinery: masking, the conditioner, one-pass log-dets."""

  _params_per_channel = None

  def __init__(self, event_shape, mask, parity, conditioner, hidden_channels, condition_size,
               is_constant_jacobian, validate_args, parameters, name):
    event_shape = [int(d) for d in event_shape] if event_shape is not None else None
    if not event_shape or len(event_shape) not in (1, 3) or min(event_shape) < 1:
      raise ValueError(f"`event_shape` must be [H, W, C] (images) or [D] (vectors) with positive "
                       f"sizes, got {event_shape!r}.")
    _validation.one_of(mask, "mask", set(MASKS))
    _validation.one_of(parity, "parity", {0, 1})
    self._event_shape_in = event_shape
    self._condition_size = self._validate_condition_size(condition_size)
    self._partition = (_Checkerboard if mask == "checkerboard" else _ChannelSplit)(
        event_shape, parity)
    super().__init__(forward_min_event_ndims=len(event_shape),
                     is_constant_jacobian=is_constant_jacobian, validate_args=validate_args,
                     parameters=parameters, name=name)
    out = self._partition.out_channels * self._params_per_channel
    with tf.name_scope(name):
      self.conditioner = self._make_conditioner(conditioner, out, hidden_channels)
    self._check_conditioner(out)

  def _make_conditioner(self, conditioner, out, hidden):
    if isinstance(conditioner, keras.layers.Layer):
      return conditioner
    if callable(conditioner):
      return conditioner(out)
    if conditioner is not None:
      raise ValueError(f"`conditioner` must be None, a tf_keras Layer, or a callable "
                       f"output_channels -> Layer; got {conditioner!r}.")
    hidden = _validation.positive_int(hidden, "hidden_channels")
    if len(self._event_shape_in) == 3:
      return ConvConditioner(out, hidden_channels=hidden)
    return DenseConditioner(out, hidden_units=hidden)

  def _check_conditioner(self, out):
    """Builds the conditioner on a zero input and checks its output shape."""
    x = tf.zeros([1] + self._partition.input_shape)
    c = None if self._condition_size is None else tf.zeros([1, self._condition_size])
    got = self._run_conditioner(x, c).shape.as_list()
    want = [1] + self._partition.input_shape[:-1] + [out]
    if got != want:
      raise ValueError(f"The conditioner of {self.name} must map shape "
                       f"{[None] + self._partition.input_shape} to {[None] + want[1:]}, "
                       f"got output shape {[None] + got[1:]}.")

  def _run_conditioner(self, h, condition):
    # Under a mixed-precision Keras policy the network computes in float16 /
    # bfloat16; the bijector's arithmetic and log-det stay in float32.
    if condition is None:
      return tf.cast(self.conditioner(h), tf.float32)
    return tf.cast(self.conditioner(h, condition=condition), tf.float32)

  def _params(self, x, condition):
    self._check_condition(condition)
    out = self._run_conditioner(self._partition.conditioner_input(x), condition)
    return self._shift_and_log_scale(out)

  def _sum_event(self, t):
    return tf.reduce_sum(t, axis=list(range(-len(self._event_shape_in), 0)))

  def _augmented_forward(self, x, condition=None):
    shift, log_scale = self._params(x, condition)
    xt = self._partition.transformed(x)
    yt = xt + shift if log_scale is None else xt * tf.exp(log_scale) + shift
    fldj = self._log_det(log_scale, x)
    return self._partition.merge(x, yt), {"fldj": fldj, "ildj": -fldj}

  def _augmented_inverse(self, y, condition=None):
    shift, log_scale = self._params(y, condition)
    yt = self._partition.transformed(y)
    xt = yt - shift if log_scale is None else (yt - shift) * tf.exp(-log_scale)
    fldj = self._log_det(log_scale, y)
    return self._partition.merge(y, xt), {"fldj": fldj, "ildj": -fldj}

  def _log_det(self, log_scale, x):
    if log_scale is None:
      return tf.zeros(tf.shape(x)[:-len(self._event_shape_in)], x.dtype)
    return self._sum_event(log_scale)


class AdditiveCoupling(_Coupling):
  """NICE's additive coupling (Dinh et al. 2015): volume preserving.

  Split the event by a mask into a kept part ``x₁`` and a transformed part
  ``x₂``. With ``t`` the conditioner network::

      forward:  y₁ = x₁,  y₂ = x₂ + t(x₁)
      inverse:  x₁ = y₁,  x₂ = y₂ − t(y₁)
      log|det ∂y/∂x| = 0

  Args:
    event_shape: ``[H, W, C]`` for images or ``[D]`` for vectors.
    mask: ``'checkerboard'`` (spatial checkerboard for images, alternating
      indices for vectors) or ``'channel'`` (halves of the last axis).
    parity: 0 or 1; which half is kept. Alternate it between layers.
    conditioner: ``None`` for the default (a zero-initialised
      :class:`ConvConditioner` for images, :class:`DenseConditioner` for
      vectors), a ``tf_keras`` layer, or a callable ``output_channels ->
      layer``. The layer maps the kept part (masked input for
      ``'checkerboard'``, kept channels for ``'channel'``) to ``t``; if it
      accepts a ``condition=`` keyword, conditioning vectors reach it.
    hidden_channels: width of the default conditioner.
    condition_size: size of the optional conditioning vector, passed as
      ``forward(x, condition=c)`` with ``c`` of shape ``[batch,
      condition_size]``.

  Example:

  >>> bij = AdditiveCoupling([8, 8, 3], mask="checkerboard", parity=0)
  >>> tfb.Chain([tfb.Shift(1.), bij]).forward(tf.zeros([2, 8, 8, 3])).shape
  TensorShape([2, 8, 8, 3])

  References:
    - Dinh, Krueger & Bengio (2015). NICE: Non-linear Independent Components Estimation.
      arXiv:1410.8516.
  """

  _params_per_channel = 1

  def __init__(self, event_shape, mask="checkerboard", parity=0, conditioner=None,
               hidden_channels=64, condition_size=None, validate_args=False,
               name="additive_coupling"):
    parameters = dict(locals())
    super().__init__(event_shape, mask, parity, conditioner, hidden_channels, condition_size,
                     True, validate_args, parameters, name)

  def _shift_and_log_scale(self, out):
    return self._partition.mask_params(out), None


class AffineCoupling(_Coupling):
  """RealNVP's affine coupling (Dinh et al. 2017).

  Split the event by a mask into ``x₁`` (kept) and ``x₂`` (transformed).
  The conditioner gives ``t(x₁)`` and a raw scale ``r(x₁)``, and the
  log-scale ``s`` is one of (both are exactly 0 when ``r = 0``, so a fresh
  coupling is the identity):

  - ``scale='tanh'`` (default): ``s = B · tanh(r / B)`` with
    ``B = log_scale_bound``, bounded in ``(−B, B)`` and smooth;
  - ``scale='sigmoid'`` (Glow's code): ``exp(−s) = σ(r + 2) / σ(2)``. In
    the density direction (inverse) the factor lies in ``(0, 1/σ(2)) ≈
    (0, 1.135)``: a coupling can sharpen the density only by contracting,
    so an unusual input is never blown up through a stack of couplings.
    This keeps Glow training finite on images with constant backgrounds
    (Fashion-MNIST), where ``tanh`` couplings let rare images reach
    enormous latents.

  Then::

      forward:  y₁ = x₁,  y₂ = x₂ ⊙ exp(s(x₁)) + t(x₁)
      inverse:  x₁ = y₁,  x₂ = (y₂ − t(y₁)) ⊙ exp(−s(y₁))
      log|det ∂y/∂x| = Σ s(x₁)

  Args:
    event_shape, mask, parity, conditioner, hidden_channels, condition_size:
      as for :class:`AdditiveCoupling`; the conditioner outputs ``2·c``
      channels (``t`` then ``r``) where ``AdditiveCoupling`` needs ``c``.
    log_scale_bound: ``B > 0`` above (``scale='tanh'``).
    scale: ``'tanh'`` or ``'sigmoid'``.

  Example:

  >>> bij = AffineCoupling([4, 4, 4], mask="channel", parity=1)
  >>> x = tf.random.normal([2, 4, 4, 4])
  >>> float(tf.reduce_max(tf.abs(bij.inverse(bij.forward(x)) - x))) < 1e-5
  True

  References:
    - Dinh, Sohl-Dickstein & Bengio (2017). Density estimation using Real NVP. arXiv:1605.08803.
  """

  _params_per_channel = 2

  def __init__(self, event_shape, mask="checkerboard", parity=0, conditioner=None,
               hidden_channels=64, condition_size=None, log_scale_bound=2.0, scale="tanh",
               validate_args=False, name="affine_coupling"):
    parameters = dict(locals())
    if not float(log_scale_bound) > 0:
      raise ValueError(f"`log_scale_bound` must be > 0, got {log_scale_bound!r}.")
    if scale not in ("tanh", "sigmoid"):
      raise ValueError(f"`scale` must be 'tanh' or 'sigmoid', got {scale!r}.")
    self._bound = float(log_scale_bound)
    self._scale = scale
    super().__init__(event_shape, mask, parity, conditioner, hidden_channels, condition_size,
                     False, validate_args, parameters, name)

  def _shift_and_log_scale(self, out):
    shift, raw = tf.split(out, 2, axis=-1)
    if self._scale == "tanh":
      log_scale = self._bound * tf.tanh(raw / self._bound)
    else:  # −log σ(r + 2) + log σ(2) = softplus(−r − 2) − softplus(−2)
      log_scale = tf.nn.softplus(-raw - 2.) - tf.nn.softplus(-2.)
    return self._partition.mask_params(shift), self._partition.mask_params(log_scale)

"""RealNVP (Dinh et al. 2017)."""

import tensorflow_probability as tfp

from tfgen import _validation
from tfgen.bijectors import AffineCoupling
from tfgen.bijectors.factor_out import PRIORS
from tfgen.flows.base import FLOW_SIZES, FlowModel, coupled_size
from tfgen.flows.multiscale import check_squeezable, multiscale, squeeze_in
from tfgen.family import ModelFamily

tfb = tfp.bijectors


class RealNVP(FlowModel):
  """RealNVP's multi-scale affine-coupling flow as a ``tf_keras.Model``.

  Each scale but the last is 3 checkerboard couplings → squeeze → 3 channel
  couplings → factor out half the channels; the last scale is 4
  checkerboard couplings (Dinh et al. 2017, §3.6). Masks alternate parity.
  Data are mapped to logit space with ``α = 0.05`` (§4.1), counted in the
  log-det. The factored-out halves are standard normal, as in the paper
  (``split_prior='gaussian'`` uses Glow's learned conditional prior).

  ``RealNVP(event_shape=(D,))`` models float32 vectors as in the paper's
  and MAF's tabular experiments: an ActNorm initialised from data, then
  ``num_couplings`` affine couplings of alternating halves (even / odd
  entries) with MLP conditioners of width ``hidden_channels``.

  Args:
    image_shape: ``(H, W, C)`` with H and W divisible by ``2**(levels-1)``.
      Or pass instead ``event_shape=(D,)`` for real vectors (``D ≥ 2``).
    levels: number of scales.
    hidden_channels: width of each coupling's conditioner.
    n_bits: model bit depth.
    split_prior: ``'standard'`` or ``'gaussian'``.
    num_classes, condition_shape: make it conditional; the condition reaches
      every coupling's conditioner.
    num_couplings: couplings of a flow over vectors (images use ``levels``).
    memory_efficient: each scale's couplings form one
      :class:`~tfgen.bijectors.ReversibleChain`: the ``log_prob`` gradient
      rebuilds activations from the scale's output instead of storing them.

  References:
    - Dinh, Sohl-Dickstein & Bengio (2017). Density estimation using Real NVP. arXiv:1605.08803.
  """

  _logit = True

  def __init__(self, image_shape=None, levels=3, hidden_channels=64, n_bits=8,
               split_prior="standard", num_couplings=6, name="realnvp", **kwargs):
    self.levels = _validation.positive_int(levels, "levels")
    self.hidden_channels = _validation.positive_int(hidden_channels, "hidden_channels")
    self.split_prior = _validation.one_of(split_prior, "split_prior", set(PRIORS))
    self.num_couplings = _validation.positive_int(num_couplings, "num_couplings")
    if image_shape is not None:
      check_squeezable(image_shape, levels - 1, "RealNVP(levels=%d)" % levels)
    super().__init__(image_shape, n_bits=n_bits, name=name, **kwargs)

  def _couplings(self, i, shape, mask, count, tag):
    return [AffineCoupling(shape, mask=mask, parity=j % 2, hidden_channels=self.hidden_channels,
                           condition_size=self.condition_size, name=f"l{i}_{tag}{j}")
            for j in range(count)]

  def _level(self, i, shape, last):
    if last:
      return self._steps(self._couplings(i, shape, "checkerboard", 4, "checker"),
                         f"l{i}_steps"), shape
    squeezed = [shape[0] // 2, shape[1] // 2, shape[2] * 4]
    bijectors = (self._couplings(i, shape, "checkerboard", 3, "checker")
                 + [squeeze_in(f"l{i}")]
                 + self._couplings(i, squeezed, "channel", 3, "channel"))
    return self._steps(bijectors, f"l{i}_steps"), squeezed

  def _build_flow(self):
    if self.is_vector:
      d = coupled_size(self.event_shape)
      couplings = [AffineCoupling([d], mask="checkerboard", parity=j % 2,
                                  hidden_channels=self.hidden_channels,
                                  condition_size=self.condition_size, name=f"coupling{j}")
                   for j in range(self.num_couplings)]
      return tfb.Chain(self._steps(couplings, "steps", event_ndims=1), name="flow")
    return multiscale(self.image_shape, self.levels, self._level, self.split_prior)

  def get_config(self):
    return {**super().get_config(), "levels": self.levels,
            "hidden_channels": self.hidden_channels, "split_prior": self.split_prior,
            "num_couplings": self.num_couplings}


FAMILY = ModelFamily(
    "realnvp", RealNVP, "Dinh, Sohl-Dickstein & Bengio 2017, Density estimation using Real NVP",
    "fashion_mnist", demo=dict(levels=2, hidden_channels=64),
    sizes=(FLOW_SIZES[0], FLOW_SIZES[2]),
    tiny=dict(image_shape=(4, 4, 1), levels=1, hidden_channels=4))

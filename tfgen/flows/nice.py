"""NICE (Dinh et al. 2015)."""

import tensorflow_probability as tfp

from tfgen import _validation
from tfgen.bijectors import AdditiveCoupling, DiagonalAffine
from tfgen.flows.base import FlowModel, coupled_size
from tfgen.layers import DenseConditioner
from tfgen.family import ModelFamily, SizeOption

tfb = tfp.bijectors


class NICE(FlowModel):
  """NICE: additive couplings on the flattened image, then a diagonal scaling.

  ``num_couplings`` additive couplings alternate between the even and odd
  entries of the flattened image (Dinh et al. 2015, §5), each with an MLP
  conditioner of ``num_hidden_layers`` ReLU layers of ``hidden_units``.
  They are volume preserving; the final learned diagonal affine layer
  (§3.3) is the only one that changes volume. The paper used 4 couplings of
  5×1000 units on MNIST and a logistic prior; tfgen uses a standard normal.

  ``NICE(event_shape=(D,))`` models float32 vectors (an ActNorm initialised
  from data first, then the same layers); its ``log_prob`` is exact.

  Args:
    image_shape: ``(H, W, C)``; any size works. Or pass instead
    event_shape: ``(D,)`` for real vectors (``D ≥ 2``).
    num_classes, condition_shape: make it conditional; the condition reaches
      every coupling's MLP.
    memory_efficient: the couplings and scaling form one
      :class:`~tfgen.bijectors.ReversibleChain` (no stored activations in
      the ``log_prob`` gradient).

  References:
    - Dinh, Krueger & Bengio (2015). NICE: Non-linear Independent Components Estimation.
      arXiv:1410.8516.
  """

  def __init__(self, image_shape=None, num_couplings=4, hidden_units=1000, num_hidden_layers=5,
               n_bits=8, name="nice", **kwargs):
    self.num_couplings = _validation.positive_int(num_couplings, "num_couplings")
    self.hidden_units = _validation.positive_int(hidden_units, "hidden_units")
    self.num_hidden_layers = _validation.positive_int(num_hidden_layers, "num_hidden_layers")
    super().__init__(image_shape, n_bits=n_bits, name=name, **kwargs)

  def _build_flow(self):
    d = coupled_size(self.event_shape) if self.is_vector else self.num_dims
    couplings = []
    for j in range(self.num_couplings):
      net = lambda out: DenseConditioner(out, hidden_units=self.hidden_units,
                                         num_hidden_layers=self.num_hidden_layers)
      couplings.append(AdditiveCoupling([d], mask="checkerboard", parity=j % 2, conditioner=net,
                                        condition_size=self.condition_size,
                                        name=f"coupling{j}"))
    unflatten = [] if self.is_vector else [tfb.Reshape(
        event_shape_out=list(self.image_shape), event_shape_in=[d], name="unflatten")]
    return tfb.Chain(unflatten
                     + self._steps(couplings + [DiagonalAffine([d], name="scaling")], "steps",
                                   event_ndims=1), name="flow")

  def get_config(self):
    return {**super().get_config(), "num_couplings": self.num_couplings,
            "hidden_units": self.hidden_units, "num_hidden_layers": self.num_hidden_layers}


FAMILY = ModelFamily(
    "nice", NICE, "Dinh, Krueger & Bengio 2015, NICE: Non-linear Independent Components "
    "Estimation", "fashion_mnist",
    demo=dict(num_couplings=4, hidden_units=256, num_hidden_layers=3),
    sizes=(SizeOption("num-couplings", "num_couplings", int, "additive coupling layers"),
           SizeOption("hidden-units", "hidden_units", int, "coupling MLP width")),
    tiny=dict(image_shape=(4, 4, 1), num_couplings=2, hidden_units=8, num_hidden_layers=1))

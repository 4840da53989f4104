"""Glow (Kingma & Dhariwal 2018)."""

import functools

from tfgen import _validation
from tfgen.bijectors import ActNorm, AdditiveCoupling, AffineCoupling, DiagonalAffine
from tfgen.bijectors import InvertibleConv1x1
from tfgen.bijectors.factor_out import PRIORS
from tfgen.flows.base import FLOW_SIZES, FlowModel
from tfgen.flows.multiscale import check_squeezable, multiscale, squeeze_in
from tfgen.family import ModelFamily


class Glow(FlowModel):
  """Glow as a ``tf_keras.Model``.

  Each of ``levels`` levels is squeeze → ``steps_per_level`` × (ActNorm →
  invertible 1×1 conv → coupling) → split (all but the last level), in the
  data → latent direction. Couplings split channels; their conditioner is
  conv3×3 → ReLU → conv1×1 → ReLU → zero-initialised conv3×3 with
  ``hidden_channels`` channels. The half that leaves at a split gets a
  Gaussian whose mean and log-scale come from the remaining half
  (``split_prior='gaussian'``) or a standard normal (``'standard'``).

  Args:
    image_shape: ``(H, W, C)``; H and W divisible by ``2**levels``.
    levels, steps_per_level, hidden_channels: the size of the flow.
    coupling: ``'affine'`` or ``'additive'``.
    lu: LU-decomposed 1×1 convolutions.
    num_classes, condition_shape: make the model conditional (class ids or
      vectors): the condition reaches every coupling's conditioner and a
      learned top prior (Glow's ``ycond``).
    n_bits: model bit depth (Glow used 5 for CelebA-HQ, 8 elsewhere).
    learn_top: learn the top prior's mean and scale.
    split_prior: ``'gaussian'`` or ``'standard'``.
    coupling_scale: affine coupling scale, ``'sigmoid'`` (as in Glow's code;
      contracting in the density direction, which keeps training finite on
      images with constant backgrounds) or ``'tanh'`` (RealNVP-style bounded
      log-scale). See :class:`AffineCoupling`.
    memory_efficient: each level's steps form one
      :class:`~tfgen.bijectors.ReversibleChain`, whose ``log_prob`` gradient
      rebuilds activations from the level's output instead of storing them
      (same gradients; training memory stays flat as steps are added, for
      about 1.7× the step time; see the README results).

  Example:

  >>> model = Glow((28, 28, 1), levels=2, steps_per_level=4, hidden_channels=64)
  >>> model.compile(tf_keras.optimizers.Adam(1e-3))
  >>> model.fit(images, epochs=1)                    # uint8 [B, 28, 28, 1]
  >>> model.sample(16, temperature=0.7, seed=[1, 2])   # uint8 [16, 28, 28, 1]

  References:
    - Kingma & Dhariwal (2018). Glow: Generative Flow with Invertible 1x1 Convolutions.
      arXiv:1807.03039.
  """

  DATA_KINDS = ("image",)
  REAL_VALUED = False

  def __init__(self, image_shape, levels=3, steps_per_level=32, hidden_channels=512,
               coupling="affine", lu=True, num_classes=None, n_bits=8, learn_top=False,
               split_prior="gaussian", coupling_scale="sigmoid", condition_shape=None,
               memory_efficient=False, name="glow", **kwargs):
    self.levels = _validation.positive_int(levels, "levels")
    self.steps_per_level = _validation.positive_int(steps_per_level, "steps_per_level")
    self.hidden_channels = _validation.positive_int(hidden_channels, "hidden_channels")
    self.coupling = _validation.one_of(coupling, "coupling", {"affine", "additive"})
    self.split_prior = _validation.one_of(split_prior, "split_prior", set(PRIORS))
    self.coupling_scale = _validation.one_of(coupling_scale, "coupling_scale",
                                             {"sigmoid", "tanh"})
    self.lu = _validation.boolean(lu, "lu")
    self.learn_top = _validation.boolean(learn_top, "learn_top")
    check_squeezable(image_shape, levels, "Glow(levels=%d)" % levels)
    super().__init__(image_shape, n_bits=n_bits, num_classes=num_classes,
                     condition_shape=condition_shape, memory_efficient=memory_efficient, name=name, **kwargs)

  def _level(self, i, shape, last):
    h, w, c = shape[0] // 2, shape[1] // 2, shape[2] * 4
    if self.coupling == "affine":
      coupling = functools.partial(AffineCoupling, scale=self.coupling_scale)
    else:
      coupling = AdditiveCoupling
    bijectors = []
    for j in range(self.steps_per_level):
      p = f"l{i}_s{j}"
      bijectors += [
          ActNorm(c, name=p + "_actnorm"),
          InvertibleConv1x1(c, lu=self.lu, name=p + "_conv1x1"),
          coupling([h, w, c], mask="channel", parity=j % 2, hidden_channels=self.hidden_channels,
                   condition_size=self.condition_size, name=p + "_coupling"),
      ]
    return [squeeze_in(f"l{i}")] + self._steps(bijectors, f"l{i}_steps"), [h, w, c]

  def _top(self, shape):
    if not (self.learn_top or self.condition_size):
      return None
    return DiagonalAffine(shape, condition_size=self.condition_size, name="top_prior")

  def _build_flow(self):
    return multiscale(self.image_shape, self.levels, self._level, self.split_prior, self._top)

  def get_config(self):
    return {**super().get_config(), "levels": self.levels,
            "steps_per_level": self.steps_per_level, "hidden_channels": self.hidden_channels,
            "coupling": self.coupling, "lu": self.lu, "learn_top": self.learn_top,
            "split_prior": self.split_prior, "coupling_scale": self.coupling_scale}



FAMILY = ModelFamily(
    "glow", Glow, "Kingma & Dhariwal 2018, Glow: Generative Flow with Invertible 1x1 "
    "Convolutions", "fashion_mnist",
    demo=dict(levels=2, steps_per_level=8, hidden_channels=64), sizes=FLOW_SIZES,
    tiny=dict(image_shape=(4, 4, 1), levels=1, steps_per_level=1, hidden_channels=4))

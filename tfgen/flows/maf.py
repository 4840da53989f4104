"""MAF and IAF: autoregressive flows (Papamakarios et al. 2017; Kingma et al. 2016)."""

import numpy as np
import tensorflow_probability as tfp

from tfgen import _validation
from tfgen.bijectors import ActNorm
from tfgen.bijectors.masked_autoregressive import InverseAutoregressive, MaskedAutoregressive
from tfgen.family import ModelFamily, SizeOption, int_list
from tfgen.flows.base import FlowModel

tfb = tfp.bijectors

PERMUTATIONS = ("reverse", "random")


def _permutations(permutation, size, count, seed):
  """``count − 1`` permutations of ``range(size)`` to put between the layers."""
  if isinstance(permutation, str):
    _validation.one_of(permutation, "permutation", set(PERMUTATIONS))
    if permutation == "reverse":
      return [list(range(size))[::-1] for _ in range(count - 1)]
    rng = np.random.default_rng(seed)
    return [rng.permutation(size).tolist() for _ in range(count - 1)]
  perms = [list(p) for p in permutation]
  for p in perms:
    if sorted(int(v) for v in p) != list(range(size)) or any(
        isinstance(v, bool) or int(v) != v for v in p):
      raise ValueError(f"every entry of `permutation` must be a permutation of range({size}); "
                       f"got {p!r}.")
  if len(perms) != count - 1:
    raise ValueError(f"`permutation` lists {len(perms)} permutations; {count - 1} go between "
                     f"{count} bijectors.")
  return [[int(v) for v in p] for p in perms]


def autoregressive_flow(event_size, num_bijectors=5, hidden_units=(64, 64), activation="relu",
                        permutation="reverse", actnorm=True, inverse=False, condition_size=None,
                        seed=0, name="maf"):
  """A ``tfb.Chain`` for vectors ``[B, D]``: ``num_bijectors`` affine
  autoregressive layers with permutations (and optionally ActNorm) between
  them. As the bijector of a ``tfd.TransformedDistribution`` from a base
  ``u`` it is MAF (``inverse=False``: one-pass ``log_prob``, ``D``-pass
  ``sample``) or IAF (``inverse=True``: :class:`InverseAutoregressive`
  layers, one-pass ``sample``, ``D``-pass ``log_prob``)."""
  size = _validation.positive_int(event_size, "event_size")
  count = _validation.positive_int(num_bijectors, "num_bijectors")
  perms = _permutations(permutation, size, count, seed)
  layers = []
  for k in range(count):
    layer = InverseAutoregressive if inverse else MaskedAutoregressive
    layers.append(layer(size, hidden_units, activation, condition_size, name=f"{name}_layer{k}"))
    if actnorm:
      layers.append(ActNorm(size, event_ndims=1, name=f"{name}_actnorm{k}"))
    if k < count - 1:
      # An array, which TFP's bijector cache hashes by identity: a list it
      # hashes entry by entry on every lookup (~2.5 s of tracing for D = 784).
      layers.append(tfb.Permute(np.asarray(perms[k], np.int32), name=f"{name}_permute{k}"))
  return tfb.Chain(layers[::-1], name=name)   # Chain applies its last bijector first


class MAF(FlowModel):
  """Masked Autoregressive Flow, on real vectors or on images (flattened
  dequantized pixels).

  ``MAF(event_shape=(D,))`` models float32 vectors ``[batch, D]`` (tabular
  data, a VAE's latents): an ActNorm initialised from the first batch, then
  the layers below; ``log_prob`` is the exact density. ``MAF(image_shape)``:

  ``x`` (uint8 ``[H, W, C]``) is dequantized and taken to logit space
  (counted in the log-det, so bits/dim are in the discrete data space), then
  flattened to ``D = H·W·C`` and mapped by :func:`autoregressive_flow`:
  ``num_bijectors`` :class:`~tfgen.bijectors.MaskedAutoregressive` layers
  (MADE conditioners) with permutations and ActNorm between them, to a
  standard normal. ``log_prob`` is one network pass per layer; ``sample`` is
  ``D`` passes per layer inside one compiled ``tf.while_loop`` (the MAF
  paper's trade: a fast density, slow sampling).

  Args:
    image_shape: ``(H, W, C)`` for 8-bit images; or pass instead
    event_shape: ``(D,)`` for real vectors.
    num_bijectors: autoregressive layers.
    hidden_units: MADE hidden layer widths.
    activation: MADE hidden activation.
    permutation: ``'reverse'``, ``'random'`` (drawn from ``seed``), or a
      list of ``num_bijectors − 1`` permutations of ``range(D)``.
    actnorm: ActNorm (data-dependent init) after every layer.
    num_classes, condition_shape: conditional on class ids or vectors (the
      condition reaches every MADE).

  References:
    - Papamakarios, Pavlakou & Murray (2017). Masked Autoregressive Flow for Density
      Estimation. arXiv:1705.07057.
  """

  _logit = True
  _inverse = False
  _reversible_steps = False

  def __init__(self, image_shape=None, num_bijectors=5, hidden_units=(512, 512), activation="relu",
               permutation="reverse", actnorm=True, seed=0, n_bits=8, name=None, **kwargs):
    self.num_bijectors = _validation.positive_int(num_bijectors, "num_bijectors")
    self.hidden_units = [_validation.positive_int(u, "hidden_units entry") for u in hidden_units]
    self.activation, self.seed = activation, seed
    self.actnorm = _validation.boolean(actnorm, "actnorm")
    self.permutation = permutation if isinstance(permutation, str) else [
        list(p) for p in permutation]
    super().__init__(image_shape, n_bits=n_bits, name=name or type(self).__name__.lower(),
                     **kwargs)

  def _build_flow(self):
    d = self.num_dims
    flow = autoregressive_flow(d, self.num_bijectors, self.hidden_units, self.activation,
                               self.permutation, self.actnorm, inverse=self._inverse,
                               condition_size=self.condition_size, seed=self.seed,
                               name=self.name + "_flow")
    if self.is_vector:
      return flow
    return tfb.Chain([tfb.Reshape(event_shape_out=list(self.image_shape), event_shape_in=[d],
                                  name="unflatten"), flow], name="flow")

  def get_config(self):
    return {**super().get_config(), "num_bijectors": self.num_bijectors,
            "hidden_units": self.hidden_units, "activation": self.activation,
            "permutation": self.permutation, "actnorm": self.actnorm, "seed": self.seed}


class IAF(MAF):
  """Inverse Autoregressive Flow (Kingma et al. 2016) on images: :class:`MAF`
  with every autoregressive layer inverted. Sampling is one network pass per
  layer; ``log_prob`` of outside data (training, evaluation) takes ``D``
  passes per layer in a compiled ``tf.while_loop``, so IAF trains slowly by
  maximum likelihood: it is the flow to use where fast sampling matters
  (e.g. a Parallel WaveNet student). Same arguments as :class:`MAF`.

  References:
    - Kingma, Salimans, Jozefowicz, Chen, Sutskever & Welling (2016). Improved Variational
      Inference with Inverse Autoregressive Flow. arXiv:1606.04934.
  """

  _inverse = True


_SIZES = (SizeOption("num-bijectors", "num_bijectors", int, "autoregressive layers"),
          SizeOption("hidden-units", "hidden_units", int_list,
                     "comma-separated hidden layer widths"))

FAMILY = ModelFamily(
    "maf", MAF, "Papamakarios, Pavlakou & Murray 2017, Masked Autoregressive Flow for Density "
    "Estimation", "fashion_mnist", demo=dict(num_bijectors=5,
                                                          hidden_units=[512]),
    sizes=_SIZES,
    tiny=dict(image_shape=(2, 2, 1), num_bijectors=2, hidden_units=[8]))

IAF_FAMILY = ModelFamily(
    "iaf", IAF, "Kingma et al. 2016, Improved Variational Inference with Inverse "
    "Autoregressive Flow", "fashion_mnist", demo=dict(num_bijectors=2,
                                                                   hidden_units=[256]),
    sizes=_SIZES,
    tiny=dict(image_shape=(2, 2, 1), num_bijectors=2, hidden_units=[8]))

"""Autoregressive priors over VQ-VAE codes: the second stage of VQ-VAE and VQ-VAE-2."""

import tensorflow as tf

from tfgen import _validation
from tfgen.autoregressive.pixelcnn import PixelCNN
from tfgen.autoregressive.transformer import Transformer
from tfgen.base import LikelihoodModel
from tfgen.export.signatures import ServingFunction
from tfgen.family import ModelFamily, SizeOption
from tfgen.latent.vqvae import VQVAE

PRIORS = ("pixelcnn", "transformer")


def _as_vqvae(vqvae):
  return _validation.model_or_config(vqvae, VQVAE, "vqvae", "a tfgen.latent.VQVAE")


class CodePrior(LikelihoodModel):
  """A VQ-VAE with an autoregressive prior over its codes: a two-stage generative model.

  The VQ-VAE (frozen: its weights and codebooks do not change) maps an image
  ``x`` to code maps ``c(x)``; the prior is an exact likelihood over them::

      log p(c)  = log p(c_top) + log p(c_bottom | c_top)      (levels=2)
      sample    = decode(c),  c ~ p(c)

  ``log_prob(x)`` is ``log p(c(x))`` in nats and ``bits_per_dim`` is bits per
  code (``D`` = number of code positions, 49 for a 7×7 map).

  Priors (``prior=``):

  - ``'pixelcnn'``: a tfgen Gated PixelCNN over each map with
    ``num_levels = num_codes``. For VQ-VAE-2 the bottom PixelCNN is
    conditioned on the top codes: their codebook vectors, upsampled to the
    bottom map's size, enter every layer as a local condition map (the
    conditional PixelCNN of Razavi et al. 2019).
  - ``'transformer'``: a tfgen :class:`~tfgen.autoregressive.Transformer`
    over the flattened codes, top map first, so the bottom codes read the
    top ones through attention.
  - or a trained prior model itself (a :class:`PixelCNN` over ``(h, w, 1)``
    code maps, or a :class:`Transformer`), with ``bottom_prior=`` for
    VQ-VAE-2: it must match this VQ-VAE's ``num_codes`` and map shapes.

  ``num_classes=K`` makes the prior class-conditional (``condition`` = class
  ids). Training data are images (``fit(images)``) or, faster, the flat code
  vectors ``codes_of(images)`` (int32 ``[B, D]``, top map first):
  ``data_encoder`` computes those once for ``tfgen.data.load(...,
  encode=...)``, so the encoder does not run every epoch.

  ``sample(n, seed=, temperature=, condition=)`` samples the codes with the
  prior's cached sampler (``method='naive'`` reruns the network every step;
  same codes for a seed) and decodes them to images (uint8).

  Args:
    vqvae: a trained :class:`~tfgen.latent.VQVAE` (or its config).
    prior: ``'pixelcnn'``, ``'transformer'``, or a prior model.
    bottom_prior: VQ-VAE-2 with a prior model: the bottom map's PixelCNN.
    num_classes: class-conditional prior.
    filters, num_layers, kernel_size: PixelCNN sizes.
    num_layers, d_model, num_heads, dropout: Transformer sizes.

  Example:

  >>> prior = CodePrior(vqvae, prior="pixelcnn", filters=64, num_layers=8)
  >>> prior.compile(tfgen.training.default_optimizer(1e-3))
  >>> prior.fit(tfgen.data.load("fashion_mnist", encode=prior.data_encoder), epochs=5)
  >>> prior.sample(16, seed=0)                           # uint8 [16, 28, 28, 1]

  References:
    - van den Oord, Vinyals & Kavukcuoglu (2017). Neural Discrete Representation Learning.
      arXiv:1711.00937.
    - Razavi, van den Oord & Vinyals (2019). Generating Diverse High-Fidelity Images with VQ-
      VAE-2. arXiv:1906.00446.
  """

  cannot_code_reason = ("its likelihood is over its VQ-VAE's codes, not over the images it "
                        "returns; a lossless image coder needs a likelihood over the pixels.")

  dimension_name = "code"

  def __init__(self, vqvae, prior="pixelcnn", bottom_prior=None, num_classes=None, filters=64,
               num_layers=8, kernel_size=3, d_model=128, num_heads=4, dropout=0.0,
               name="code_prior", **kwargs):
    super().__init__(name=name, **kwargs)
    self.vqvae = _as_vqvae(vqvae)
    self.vqvae.trainable = False
    self.event_shape = self.vqvae.image_shape
    self.num_levels = self.vqvae.num_levels
    self._set_condition(num_classes)
    self.code_sizes = [h * w for h, w in self.vqvae.code_shapes]
    self.num_dims = sum(self.code_sizes)
    k = self.vqvae.num_codes
    if isinstance(prior, dict):  # from_config
      prior = _from_config(prior)
    if isinstance(bottom_prior, dict):
      bottom_prior = _from_config(bottom_prior)
    if isinstance(prior, str):
      _validation.one_of(prior, "prior", set(PRIORS))
      if bottom_prior is not None:
        raise ValueError("`bottom_prior` goes with a prior model, not prior="
                         f"{prior!r}.")
      prior, bottom_prior = self._new_priors(prior, filters, num_layers, kernel_size, d_model,
                                             num_heads, dropout)
    self.kind = "pixelcnn" if isinstance(prior, PixelCNN) else "transformer"
    self._check_prior(prior, bottom_prior)
    self.top, self.bottom = prior, bottom_prior
    self.num_codes = k
    self.built = True  # every part is built

  # -- building and checking the priors ------------------------------------------

  def _new_priors(self, kind, filters, num_layers, kernel_size, d_model, num_heads, dropout):
    vq, k, c = self.vqvae, self.vqvae.num_codes, self.num_classes
    if kind == "transformer":
      return Transformer(num_levels=k, context_length=self.num_dims, num_layers=num_layers,
                         d_model=d_model, num_heads=num_heads, dropout=dropout,
                         num_classes=c, name="prior"), None
    (ht, wt), maps = vq.code_shapes[0], vq.code_shapes
    top = PixelCNN((ht, wt, 1), num_levels=k, filters=filters, num_layers=num_layers,
                   gated=True, kernel_size=kernel_size, num_classes=c, name="top_prior")
    if vq.levels == 1:
      return top, None
    hb, wb = maps[1]
    bottom = PixelCNN((hb, wb, 1), num_levels=k, filters=filters, num_layers=num_layers,
                      gated=True, kernel_size=kernel_size,
                      condition_shape=(hb, wb, vq.code_dim + (c or 0)), name="bottom_prior")
    return top, bottom

  def _check_prior(self, prior, bottom):
    """A prior built for another VQ-VAE (other num_codes or map shapes) is refused."""
    vq, k = self.vqvae, self.vqvae.num_codes
    if not isinstance(prior, (PixelCNN, Transformer)):
      raise ValueError(f"`prior` must be 'pixelcnn', 'transformer' or a tfgen PixelCNN or "
                       f"Transformer model, got {type(prior).__name__}.")
    if prior.num_levels != k:
      raise ValueError(f"The prior models {prior.num_levels} codes but this VQ-VAE has "
                       f"num_codes={k}: was it trained on another VQ-VAE?")
    if prior.num_classes != self.num_classes or prior.condition_shape is not None:
      raise ValueError(f"The prior's condition (num_classes={prior.num_classes}) does not "
                       f"match num_classes={self.num_classes}.")
    if isinstance(prior, PixelCNN):
      (ht, wt) = vq.code_shapes[0]
      if tuple(prior.image_shape) != (ht, wt, 1):
        raise ValueError(f"The top prior models {tuple(prior.image_shape)} maps but this "
                         f"VQ-VAE's top codes are ({ht}, {wt}, 1): was it trained on another "
                         "VQ-VAE?")
      if vq.levels == 2:
        hb, wb = vq.code_shapes[1]
        want = (hb, wb, vq.code_dim + (self.num_classes or 0))
        if (not isinstance(bottom, PixelCNN) or tuple(bottom.image_shape) != (hb, wb, 1)
            or bottom.num_levels != k or tuple(bottom.condition_shape or ()) != want):
          raise ValueError(f"VQ-VAE-2 with a PixelCNN prior needs `bottom_prior`: a PixelCNN "
                           f"over ({hb}, {wb}, 1) maps of {k} codes with condition_shape="
                           f"{want}.")
      elif bottom is not None:
        raise ValueError("`bottom_prior` is for a VQ-VAE with levels=2.")
    else:
      if prior.context_length < self.num_dims or prior.event_shape != (None,):
        raise ValueError(f"The Transformer prior must model sequences of {self.num_dims} "
                         f"codes, got context_length={prior.context_length}.")
      if bottom is not None:
        raise ValueError("A Transformer prior models every level at once: no `bottom_prior`.")

  @classmethod
  def _from_dataset(cls, spec, vqvae=None, **sizes):
    vqvae = _as_vqvae(vqvae)
    if tuple(spec.shape) != tuple(vqvae.image_shape) \
        or spec.num_levels != vqvae.num_levels:
      raise ValueError(f"The VQ-VAE was trained on {vqvae.image_shape} images of "
                       f"{vqvae.num_levels} levels; dataset {spec.name!r} holds "
                       f"{spec.shape} {spec.kind} data of {spec.num_levels} levels.")
    return cls(vqvae, **sizes)

  # -- codes ------------------------------------------------------------------------

  def codes_of(self, x):
    """Integer images → flat int32 code vectors ``[B, D]`` (top map first)."""
    maps = self.vqvae.encode(x)
    return tf.concat([tf.reshape(m, [tf.shape(m)[0], -1]) for m in maps], axis=1)

  def maps_of(self, flat):
    """Flat code vectors ``[B, D]`` → the code maps (top first)."""
    parts = tf.split(flat, self.code_sizes, axis=1)
    return [tf.reshape(p, [-1, h, w]) for p, (h, w) in zip(parts, self.vqvae.code_shapes)]

  @property
  def uses_labels(self):
    return self.num_classes is not None

  @property
  def data_encoder(self):
    """``images → codes_of(images)`` (or ``(images, labels) → (codes, labels)``)."""
    def encode(batch):
      if isinstance(batch, (tuple, list)):
        return self.codes_of(batch[0]), tf.cast(batch[1], tf.int32)
      return self.codes_of(batch)
    return encode

  def _check_data(self, x):
    if not isinstance(x, (tf.Tensor, tf.Variable)):
      x = tf.convert_to_tensor(x)
    if x.shape.rank == 2:  # flat codes, as data_encoder gives
      return _validation.discrete_batch(x, [self.num_dims], self.num_codes, name="codes")
    return super()._check_data(x)

  def _event_dims(self, x):
    return float(self.num_dims)

  def _bottom_condition(self, top, condition):
    """The bottom PixelCNN's condition map: top codebook vectors upsampled to
    the bottom map (nearest neighbour), with the class one-hot appended."""
    (ht, wt), (hb, wb) = self.vqvae.code_shapes
    up = self.vqvae.embed(top, 0)
    up = tf.repeat(tf.repeat(up, hb // ht, axis=1), wb // wt, axis=2)
    if condition is not None:
      up = tf.concat([up, tf.tile(condition[:, None, None, :], [1, hb, wb, 1])], -1)
    return up

  # -- likelihood and sampling ---------------------------------------------------------

  def _log_prob(self, x, condition, training=False):
    flat = x if x.shape.rank == 2 else self.codes_of(x)
    if self.kind == "transformer":
      return self.top.log_prob_encoded(flat, condition, training=training)
    maps = self.maps_of(flat)
    lp = self.top.log_prob_encoded(maps[0][..., None], condition)
    if self.bottom is not None:
      lp += self.bottom.log_prob_encoded(maps[1][..., None],
                                         self._bottom_condition(maps[0], condition))
    return lp

  SAMPLE_OPTIONS = ("method",)

  def _sample_elements(self, options):
    return self.num_dims * self.num_codes

  def sample_codes(self, n, seed, temperature, condition, method="cached"):
    """Flat code vectors ``[n, D]`` from the prior (tensor ``seed``, encoded condition)."""
    if self.kind == "transformer":
      return self.top.sample_encoded(n, seed, temperature, condition, length=self.num_dims,
                                     method=method)
    seeds = tf.random.experimental.stateless_split(tf.cast(seed, tf.int32), 2)
    top = self.top.sample_encoded(n, seeds[0], temperature, condition, method=method)
    top = tf.cast(top[..., 0], tf.int32)
    parts = [tf.reshape(top, tf.stack([n, -1]))]
    if self.bottom is not None:
      cond = self._bottom_condition(top, condition)
      bottom = self.bottom.sample_encoded(n, seeds[1], temperature, cond, method=method)
      bottom = tf.cast(bottom[..., 0], tf.int32)
      parts.append(tf.reshape(bottom, tf.stack([n, -1])))
    return tf.concat(parts, axis=1)

  def decode_flat(self, flat):
    """Flat code vectors → images (uint8), through the VQ-VAE's ``decode``."""
    return self.vqvae.decode(self.maps_of(flat))

  def _sample(self, n, seed, temperature, condition, method="cached"):
    """``n`` images: codes from the prior (``method``: ``'cached'`` or
    ``'naive'``, identical for a seed), decoded by the VQ-VAE."""
    _validation.one_of(method, "method", {"cached", "naive"})
    return self.decode_flat(self.sample_codes(n, seed, temperature, condition, method))

  def preview(self, x):
    return self.vqvae.preview(x)

  # -- serving and config ---------------------------------------------------------------

  def serving_functions(self):
    """``serving_default`` (``x`` images → ``log_prob``, ``bits_per_dim`` =
    bits per code), ``sample`` (→ uint8 ``samples``, decoded in the graph),
    and the VQ-VAE's ``encode``, ``decode`` and ``reconstruct``."""
    functions = super().serving_functions()
    sample = functions["sample"]
    functions["sample"] = ServingFunction(
        lambda **kw: {"samples": tf.cast(sample.fn(**kw)["samples"], tf.uint8)},
        sample.inputs, sample.warmup)
    vq = self.vqvae.serving_functions()
    return {**functions, **{k: vq[k] for k in ("encode", "decode", "reconstruct")}}

  def get_config(self):
    return {**super().get_config(), "vqvae": self.vqvae.get_config(),
            "prior": _config_of(self.top), "bottom_prior": _config_of(self.bottom),
            "num_classes": self.num_classes}


def _config_of(model):
  if model is None:
    return None
  return {"class": type(model).__name__, "config": model.get_config()}


def _from_config(entry):
  classes = {"PixelCNN": PixelCNN, "Transformer": Transformer}
  if not isinstance(entry, dict) or entry.get("class") not in classes:
    raise ValueError(f"A prior config must name one of {sorted(classes)}, got {entry!r}.")
  return classes[entry["class"]].from_config(entry["config"])


FAMILY = ModelFamily(
    "vqvae_prior", CodePrior, "van den Oord et al. 2017 (VQ-VAE with a PixelCNN prior); "
    "Razavi et al. 2019 (VQ-VAE-2, conditional bottom prior)", "fashion_mnist",
    demo=dict(prior="pixelcnn", filters=64, num_layers=8),
    sizes=(SizeOption("prior", "prior", str, f"prior network: {', '.join(PRIORS)}"),
           SizeOption("filters", "filters", int, "feature maps per layer"),
           SizeOption("num-layers", "num_layers", int, "masked convolution layers / gated blocks"),
           SizeOption("d-model", "d_model", int, "model width"),
           SizeOption("num-heads", "num_heads", int, "attention heads")),
    builds_on={"vqvae": "vqvae"},
    tiny=dict(filters=4, num_layers=1))

"""The Keras base class shared by tfgen's image flows."""

import tensorflow as tf
import tensorflow_probability as tfp

from tfgen import _validation
from tfgen._keras import keras
from tfgen._deprecation import MISSING, deprecated_alias
from tfgen.base import LikelihoodModel
from tfgen.export.signatures import ServingFunction
from tfgen.bijectors import ActNorm, Dequantize, FactorOut, ReversibleChain, one_pass
from tfgen.bijectors.flatten_batch import FlattenBatch
from tfgen.family import SizeOption

tfb = tfp.bijectors
tfd = tfp.distributions

#: Size flags the multi-scale flows share (``tfgen train glow --levels 3``).
FLOW_SIZES = (SizeOption("levels", "levels", int, "multi-scale levels"),
              SizeOption("steps-per-level", "steps_per_level", int, "flow steps per level (Glow)"),
              SizeOption("hidden-channels", "hidden_channels", int, "coupling network width"))


def condition_kwargs(bijector, condition):
  """The nested ``bijector_kwargs`` that give ``condition`` to every
  conditional bijector inside ``bijector`` (``tfb.Chain`` and every other
  ``tfb.Composition`` route keyword arguments by bijector name)."""
  if isinstance(bijector, tfb.Composition):
    return {b.name: condition_kwargs(b, condition) for b in bijector.bijectors}
  if isinstance(bijector, FactorOut):
    return condition_kwargs(bijector.inner, condition)
  return {"condition": condition} if getattr(bijector, "is_conditional", False) else {}


class FlowModel(LikelihoodModel):
  """A flow: ``x`` (integers) ⇄ dequantized ``y`` ⇄ ``z ~ N(0, I_D)``, or,
  for real vectors, ``x ∈ R^D`` ⇄ ``z ~ N(0, I_D)``.

  **Images** (``image_shape=(H, W, C)``): ``bijector = Chain([Dequantize,
  flow])`` maps the flat latent ``z`` (``D = H·W·C``) to dequantized data
  ``y ∈ [0, 2^n_bits)^{H×W×C}``, and ``flow_distribution`` is
  ``tfd.TransformedDistribution(N(0, I_D), bijector)``, the continuous
  density of ``y`` (unconditional flows; any batch shape).
  ``log_prob`` of integer data adds uniform noise first, so it is the
  standard variational lower bound on the discrete log-likelihood and
  ``bits_per_dim`` is in the discrete data space. ``distribution`` is the
  model over the integer images themselves (uint8), as for every family.

  **Vectors** (``event_shape=(D,)``): data are float32 ``[batch, D]`` and
  ``log_prob`` is the exact density ``log p(x) = log N(f⁻¹(x)) + log|det
  ∂f⁻¹/∂x|`` (nats; ``bits_per_dim`` is ``−log₂ p(x) / D`` of a density and
  may be negative). The data side is an ActNorm initialised from the first
  batch, which standardises each column. ``distribution`` is then
  continuous and reparameterised (``sample`` is differentiable in the
  flow's weights and the condition), as for a VAE's prior or posterior.

  Beyond the :class:`~tfgen.base.LikelihoodModel` contract, flows give exact
  inference, ``encode(x) → z`` and ``decode(z) → x`` (both exported too).
  ``log_prob(x, seed=...)`` fixes the dequantization noise (an int or an
  int ``[2]``); without it the noise is fresh. ``sample(n,
  temperature=T)`` draws ``z ~ N(0, T²I)``: Glow's temperature (Kingma &
  Dhariwal 2018, §5).

  ``data_bits`` is the bit depth of the integer images users pass (8 for
  uint8; 5 for data already reduced to 32 levels, e.g. an image folder read
  with ``bits=5``); ``n_bits ≤ data_bits`` is the depth the flow models.

  Subclasses build ``flow`` (flat latent → model space) in ``_build_flow``;
  conditional flows read ``self.condition_size`` there.
  """

  _logit = False
  DATA_KINDS = ("image", "table")
  REAL_VALUED = True
  cannot_code_reason = ("a flow's likelihood is a density over dequantized data, not a "
                        "product of discrete conditionals; coding it needs bits-back coding "
                        "(Townsend et al. 2019), which tfgen does not implement.")
  #: Whether the flow's steps can rebuild their inputs cheaply (one pass),
  #: which ``memory_efficient=True`` needs.
  _reversible_steps = True

  def __init__(self, image_shape=None, n_bits=8, num_classes=None, condition_shape=None,
               memory_efficient=False, name=None, event_shape=None, data_bits=8, **kwargs):
    super().__init__(name=name, **kwargs)
    self.memory_efficient = _validation.boolean(memory_efficient, "memory_efficient")
    if self.memory_efficient and not self._reversible_steps:
      raise ValueError(
          f"{type(self).__name__} does not support memory_efficient=True: rebuilding a step's "
          "input from its output would take the D-pass direction of every step.")
    if (image_shape is None) == (event_shape is None):
      raise ValueError(f"Pass exactly one of `image_shape` (H, W, C) for 8-bit images and "
                       f"`event_shape` (D,) for real vectors; got image_shape={image_shape!r}, "
                       f"event_shape={event_shape!r}.")
    self._set_condition(num_classes, condition_shape)
    if event_shape is not None and "table" not in self.DATA_KINDS:
      raise ValueError(f"{type(self).__name__} models images only (`image_shape`); the flows "
                       "over vectors (event_shape=) are MAF, IAF, RealNVP and NICE.")
    if event_shape is not None:
      self.image_shape, self.dequantize, self.num_levels = None, None, None
      self.event_shape = _validation.vector_shape(event_shape, "event_shape")
      if n_bits != 8 or data_bits != 8:
        raise ValueError(f"`n_bits` and `data_bits` are for images; vectors are real-valued "
                         f"(got n_bits={n_bits!r}, data_bits={data_bits!r}).")
      # The data side standardises each column (ActNorm, initialised from the
      # first batch), unless the family turns ActNorm off (MAF(actnorm=False)).
      # Columns keep their own units, so the floor on their std is far below
      # an image channel's (constant columns are refused in _check_data).
      data_norm = ([ActNorm(self.event_shape[0], event_ndims=1, min_std=1e-6,
                            name="data_actnorm")]
                   if getattr(self, "actnorm", True) else [])
      self.bijector = tfb.Chain(data_norm + [self._build_flow()], name="bijector")
    else:
      self.image_shape = _validation.image_shape(image_shape)
      self.event_shape = self.image_shape
      self.dequantize = Dequantize(n_bits=n_bits, logit=self._logit, data_bits=data_bits,
                                   name="dequantize")
      self.num_levels = self.dequantize.data_levels
      self.bijector = tfb.Chain([self.dequantize, self._build_flow()], name="bijector")
    base = tfd.Sample(tfd.Normal(0., 1.), sample_shape=[self.num_dims])
    self._density = tfd.TransformedDistribution(base, self.bijector)
    if self.condition_spec is None:
      self.flow_distribution = tfd.TransformedDistribution(
          base, FlattenBatch(self.bijector, [self.num_dims], self.event_shape))
    self.built = True  # every variable exists once the bijectors are constructed

  @property
  def is_vector(self):
    """True for a flow over real vectors (``event_shape=(D,)``)."""
    return self.image_shape is None

  def _build_flow(self):
    raise NotImplementedError

  def _steps(self, bijectors, name, event_ndims=3):
    """``bijectors`` (data-side first), as one :class:`ReversibleChain` when
    the model is ``memory_efficient`` (its ``log_prob`` gradient rebuilds
    each step's input from the output instead of storing activations)."""
    if not self.memory_efficient:
      return list(bijectors)
    return [ReversibleChain(bijectors, event_ndims=event_ndims, name=name)]

  @classmethod
  def _from_dataset(cls, spec, **sizes):
    if spec.num_levels is None:
      return cls(event_shape=tuple(spec.shape), **sizes)
    if spec.kind == "table":
      raise ValueError(f"{cls.__name__} models real-valued rows; table {spec.name!r} holds "
                       f"whole numbers in [0, {spec.num_levels}) (made and nade model "
                       "discrete columns).")
    bits = spec.num_levels.bit_length() - 1
    if spec.num_levels == 2 ** bits and 2 <= bits < 8:
      # Fewer-bit data (Glow's 5-bit CelebA): the data and the model share them.
      return cls(spec.shape, **{"n_bits": bits, **sizes, "data_bits": bits})
    if spec.num_levels != 256:
      raise ValueError(f"{cls.__name__} models 8-bit images; dataset {spec.name!r} holds "
                       f"{spec.num_levels}-level {spec.kind} data (use pixelcnn, gated_pixelcnn "
                       "or made for binarized images).")
    return cls(spec.shape, **sizes)

  def get_config(self):
    config = {**super().get_config(), "num_classes": self.num_classes,
              "condition_shape": self.condition_shape, "memory_efficient": self.memory_efficient}
    if self.is_vector:
      return {**config, "event_shape": self.event_shape}
    return {**config, "image_shape": self.image_shape,
            "n_bits": self.dequantize.parameters["n_bits"],
            "data_bits": self.dequantize.parameters["data_bits"]}

  @property
  def data_levels(self):
    return None if self.is_vector else self.dequantize.data_levels

  def _actnorms(self):
    return [m for m in self.bijector.submodules if isinstance(m, ActNorm)]

  def _data_dependent_init(self, data, batch_size):
    """Runs ActNorm's data-dependent init on the first batch, on every replica.

    Done as its own distributed step before ``fit`` so that the training
    step itself carries no initialisation code (and no per-step
    cross-replica reduction).
    """
    actnorms = self._actnorms()
    if not actnorms or all(bool(a.initialized.numpy()) for a in actnorms):
      for a in actnorms:
        a.freeze_initialization()
      return
    first = _first_batch(data, batch_size or 32)
    if first is None:
      return  # e.g. a generator: ActNorm initialises inside the first train step
    strategy = self.distribute_strategy

    def replica_fn(batch):
      x, condition, _ = keras.utils.unpack_x_y_sample_weight(batch)
      return self.log_prob(x, condition)

    if strategy.num_replicas_in_sync == 1:
      # One eager pass: tracing it as a function would cost more (about
      # 4.6 s against 1.4 s for Glow on 28x28 on a 2-core CPU).
      with strategy.scope():
        replica_fn(first)
    else:
      dataset = tf.data.Dataset.from_tensors(first)
      batch = next(iter(strategy.experimental_distribute_dataset(dataset)))
      tf.function(lambda batch: strategy.run(replica_fn, args=(batch,)))(batch)
    for a in actnorms:
      a.freeze_initialization()

  def _check_data(self, x):
    """The contract's checks, plus: an uninitialised flow refuses a batch in
    which a channel is constant (ActNorm would initialise its scale from
    nothing but dequantization noise, and every later input would be blown
    up). Checked eagerly, before any state changes."""
    x = super()._check_data(x)
    if tf.executing_eagerly() and any(not bool(a.initialized.numpy()) for a in self._actnorms()):
      flat = tf.reshape(x, [-1, self.event_shape[-1]])
      if bool(tf.reduce_any(tf.reduce_max(flat, 0) == tf.reduce_min(flat, 0))):
        raise ValueError(f"`x` has a {'column' if self.is_vector else 'channel'} with one value "
                         "everywhere, and this flow's ActNorm "
                         "layers initialise from the first batch they see: pass a varied first "
                         "batch (for example a random sample of the training set).")
    return x

  def _kwargs(self, condition):
    return {} if condition is None else condition_kwargs(self.bijector, condition)

  def _to_model_space(self, x, seed=None, midpoint=False):
    """Data → the flow's data side ``y``: dequantized images, or the vectors."""
    if self.is_vector:
      if seed is not None:
        raise ValueError("`seed` fixes the dequantization noise of image flows; a flow over "
                         "vectors has none.")
      return tf.cast(x, tf.float32)
    return self.dequantize.add_noise(x, seed=seed, midpoint=midpoint)

  def _to_data(self, y):
    """The flow's ``y`` → data: quantized images (int32), or the vectors."""
    return y if self.is_vector else self.dequantize.quantize(y)

  def _log_prob(self, x, condition, training=False, seed=None):
    y = self._to_model_space(x, seed=seed)
    return self._density.log_prob(y, bijector_kwargs=self._kwargs(condition))

  def _fixed_log_prob(self, x, condition):
    # Dequantization noise from a fixed stateless seed, shared by every
    # example: deterministic, and the same as model.log_prob(x, seed=[0, 0]).
    if self.is_vector:
      return self._log_prob(x, condition)
    return self._log_prob(x, condition, seed=tf.constant([0, 0]))

  def _sample(self, n, seed, temperature, condition):
    eps = tf.random.stateless_normal(tf.stack([n, self.num_dims]), seed=seed)
    with one_pass():
      return self._to_data(self.bijector.forward(eps * temperature, **self._kwargs(condition)))

  def _sample_and_log_prob(self, n, seed, condition, **options):
    if not self.is_vector:
      return super()._sample_and_log_prob(n, seed, condition, **options)
    # One pass (IAF included): log q(x) = log N(ε) − log|det ∂f/∂ε| at ε.
    n = self._check_n(n)
    eps = tf.random.stateless_normal(tf.stack([n, self.num_dims]), seed=_validation.seed(seed))
    kwargs = self._kwargs(condition)
    with one_pass():
      x = self.bijector.forward(eps, **kwargs)
      log_det = self.bijector.forward_log_det_jacobian(eps, event_ndims=1, **kwargs)
    return x, self._density.distribution.log_prob(eps) - log_det

  def encode(self, x, condition=None, *, labels=MISSING):
    """Exact inference ``z = f(x)``: integer images → flat latents ``[B, D]``.

    Uses midpoint dequantization, so ``decode(encode(x)) == x`` (vectors:
    exactly invertible up to float rounding).
    """
    condition = deprecated_alias(condition, labels, "labels", "condition", "encode")
    x = self._check_data(x)
    kwargs = self._kwargs(self._encode_condition(condition, tf.shape(x)[0]))
    with one_pass():
      return self.bijector.inverse(self._to_model_space(x, midpoint=not self.is_vector),
                                   **kwargs)

  def decode(self, z, condition=None, *, labels=MISSING):
    """Latents ``[B, D]`` → data in ``data_dtype`` (uint8 for 8-bit images)."""
    condition = deprecated_alias(condition, labels, "labels", "condition", "decode")
    z = _validation.float_batch(z, [self.num_dims], "z")
    kwargs = self._kwargs(self._encode_condition(condition, tf.shape(z)[0]))
    with one_pass():
      x = self._to_data(self.bijector.forward(z, **kwargs))
    return tf.cast(x, self.data_dtype)

  def serving_functions(self):
    """The contract's ``serving_default`` and ``sample``, plus ``encode``
    (``x`` → ``z``) and ``decode`` (``z``, finite floats → ``x``)."""
    fns = super().serving_functions()
    cond = [self.condition_spec] if self.condition_spec is not None else []
    x_spec = fns["serving_default"].inputs[0]
    fns["encode"] = ServingFunction(self._serve_encode, [x_spec] + cond)
    fns["decode"] = ServingFunction(
        self._serve_decode, [tf.TensorSpec([None, self.num_dims], tf.float32, "z")] + cond)
    return fns

  def _serve_encode(self, x, condition=None):
    return {"z": self.encode(x, condition)}

  def _serve_decode(self, z, condition=None):
    return {"x": tf.cast(self.decode(z, condition),
                         tf.float32 if self.is_vector else tf.int32)}


def coupled_size(event_shape):
  """``D`` of a vector flow made of couplings, which need ``D ≥ 2``."""
  if event_shape[0] < 2:
    raise ValueError(f"A coupling flow needs vectors of at least 2 entries (one half "
                     f"conditions the other), got event_shape={tuple(event_shape)}; use MAF "
                     "for D = 1.")
  return event_shape[0]


def _first_batch(data, batch_size):
  """The first batch of what ``fit`` was given, or None if unknown."""
  if isinstance(data, tf.data.Dataset):
    return next(iter(data))
  if isinstance(data, tuple) and data and not isinstance(data[0], tf.data.Dataset):
    return tuple(None if part is None else tf.convert_to_tensor(part[:batch_size])
                 for part in data)
  if hasattr(data, "shape") and hasattr(data, "__getitem__"):
    return tf.convert_to_tensor(data[:batch_size])
  return None

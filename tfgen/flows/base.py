"""The Keras base class shared by tfgen's image flows."""

import tensorflow as tf
import tensorflow_probability as tfp

from tfgen import _validation
from tfgen._keras import keras
from tfgen._deprecation import MISSING, deprecated_alias
from tfgen.base import LikelihoodModel
from tfgen.export.signatures import ServingFunction
from tfgen.bijectors import ActNorm, Dequantize, FactorOut, ReversibleChain, one_pass
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
  """An image flow: ``x`` (integers) ⇄ dequantized ``y`` ⇄ ``z ~ N(0, I_D)``.

  ``distribution`` is ``tfd.TransformedDistribution(N(0, I_D), bijector)``
  where ``bijector = Chain([Dequantize, flow])`` maps the flat latent ``z``
  (``D = H·W·C``) to dequantized data ``y ∈ [0, 2^n_bits)^{H×W×C}``.
  ``log_prob`` of integer data adds uniform noise first, so it is the
  standard variational lower bound on the discrete log-likelihood and
  ``bits_per_dim`` is in the discrete data space.

  Beyond the :class:`~tfgen.base.LikelihoodModel` contract, flows give exact
  inference, ``encode(x) → z`` and ``decode(z) → x`` (both exported too).
  ``log_prob(x, seed=...)`` fixes the dequantization noise (an int or an
  int ``[2]``); without it the noise is fresh. ``sample(n,
  temperature=T)`` draws ``z ~ N(0, T²I)``: Glow's temperature (Kingma &
  Dhariwal 2018, §5).

  Subclasses build ``flow`` (flat latent → model space) in ``_build_flow``;
  conditional flows read ``self.condition_size`` there.
  """

  _logit = False
  #: Whether the flow's steps can rebuild their inputs cheaply (one pass),
  #: which ``memory_efficient=True`` needs.
  _reversible_steps = True

  def __init__(self, image_shape, n_bits=8, num_classes=None, condition_shape=None,
               memory_efficient=False, name=None, **kwargs):
    super().__init__(name=name, **kwargs)
    self.memory_efficient = _validation.boolean(memory_efficient, "memory_efficient")
    if self.memory_efficient and not self._reversible_steps:
      raise ValueError(
          f"{type(self).__name__} does not support memory_efficient=True: rebuilding a step's "
          "input from its output would take the D-pass direction of every step.")
    self.image_shape = _validation.image_shape(image_shape)
    self.event_shape = self.image_shape
    self._set_condition(num_classes, condition_shape)
    self.dequantize = Dequantize(n_bits=n_bits, logit=self._logit, name="dequantize")
    self.num_levels = self.dequantize.data_levels
    flow = self._build_flow()
    self.bijector = tfb.Chain([self.dequantize, flow], name="bijector")
    self.distribution = tfd.TransformedDistribution(
        tfd.Sample(tfd.Normal(0., 1.), sample_shape=[self.num_dims]), self.bijector)
    self.built = True  # every variable exists once the bijectors are constructed

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
    if spec.num_levels != 256:
      raise ValueError(f"{cls.__name__} models 8-bit images; dataset {spec.name!r} holds "
                       f"{spec.num_levels}-level {spec.kind} data (use pixelcnn, gated_pixelcnn "
                       "or made for binarized images).")
    return cls(spec.shape, **sizes)

  def get_config(self):
    return {**super().get_config(), "image_shape": self.image_shape,
            "n_bits": self.dequantize.parameters["n_bits"], "num_classes": self.num_classes,
            "condition_shape": self.condition_shape, "memory_efficient": self.memory_efficient}

  @property
  def data_levels(self):
    return self.dequantize.data_levels

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
      flat = tf.reshape(x, [-1, self.image_shape[-1]])
      if bool(tf.reduce_any(tf.reduce_max(flat, 0) == tf.reduce_min(flat, 0))):
        raise ValueError("`x` has a channel with one value everywhere, and this flow's ActNorm "
                         "layers initialise from the first batch they see: pass a varied first "
                         "batch (for example a random sample of the training set).")
    return x

  def _kwargs(self, condition):
    return {} if condition is None else condition_kwargs(self.bijector, condition)

  def _log_prob(self, x, condition, training=False, seed=None):
    y = self.dequantize.add_noise(x, seed=seed)
    return self.distribution.log_prob(y, bijector_kwargs=self._kwargs(condition))

  def _serving_log_prob(self, x, condition):
    # Dequantization noise from a fixed stateless seed: deterministic, and
    # the same as model.log_prob(x, seed=[0, 0]).
    return self._log_prob(x, condition, seed=tf.constant([0, 0]))

  def _sample(self, n, seed, temperature, condition):
    eps = tf.random.stateless_normal(tf.stack([n, self.num_dims]), seed=seed)
    with one_pass():
      return self.dequantize.quantize(
          self.bijector.forward(eps * temperature, **self._kwargs(condition)))

  def encode(self, x, condition=None, *, labels=MISSING):
    """Exact inference ``z = f(x)``: integer images → flat latents ``[B, D]``.

    Uses midpoint dequantization, so ``decode(encode(x)) == x``.
    """
    condition = deprecated_alias(condition, labels, "labels", "condition", "encode")
    x = self._check_data(x)
    kwargs = self._kwargs(self._encode_condition(condition, tf.shape(x)[0]))
    with one_pass():
      return self.bijector.inverse(self.dequantize.add_noise(x, midpoint=True), **kwargs)

  def decode(self, z, condition=None, *, labels=MISSING):
    """Latents ``[B, D]`` → integer images in ``data_dtype`` (uint8 for 8-bit data)."""
    condition = deprecated_alias(condition, labels, "labels", "condition", "decode")
    z = _validation.float_batch(z, [self.num_dims], "z")
    kwargs = self._kwargs(self._encode_condition(condition, tf.shape(z)[0]))
    with one_pass():
      x = self.dequantize.quantize(self.bijector.forward(z, **kwargs))
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
    return {"x": tf.cast(self.decode(z, condition), tf.int32)}


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

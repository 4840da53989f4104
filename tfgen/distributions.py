"""Every tfgen likelihood model as a TFP distribution.

``model.distribution`` (unconditional models) and
``model.distribution_given(condition)`` (any model) return a
:class:`ModelDistribution`: a ``tfd.Distribution`` whose ``log_prob`` and
``sample`` are the model's, with TFP's shape semantics, so tfgen models
compose with TFP (``tfd.Mixture``, ``tfd.JointDistributionNamed``,
``tfd.Independent``, ``tfp.layers.DistributionLambda``, ...). It is written
once, through the model contract (:class:`tfgen.base.LikelihoodModel`):
``_check_data``, ``_encode_condition``, ``sample_encoded`` and
``_fixed_log_prob``; a new family gets it with no code of its own.

Shapes, for a model with event shape ``E`` (the model's ``event_shape``;
``[length]`` for a sequence model given ``length=``) and a condition of
shape ``B + C`` (``C`` the model's condition shape, ``[]`` for class ids):

- ``batch_shape`` is ``B`` (``[]`` when unconditional);
- ``sample(S)`` is ``S + B + E``, in the model's data dtype (uint8 images,
  int32 codes, float32 vectors);
- ``log_prob(x)`` takes ``x`` of shape ``A + E`` for any ``A`` and returns
  ``broadcast(A, B)``.
"""

import tensorflow as tf
import tensorflow_probability as tfp
from tensorflow_probability.python.internal import parameter_properties
from tensorflow_probability.python.internal import prefer_static as ps

from tfgen import _validation
from tfgen.bijectors.base import one_pass

tfd = tfp.distributions


class ModelDistribution(tfd.distribution.AutoCompositeTensorDistribution):
  """``p(x | condition)`` of a tfgen likelihood model, as a TFP distribution.

  ``log_prob(x) = model.log_prob(x, condition)`` for every row, computed
  deterministically (a flow on discrete data evaluates its dequantization
  bound at one fixed noise draw shared by every example, as a served model
  does; see ``FlowModel._fixed_log_prob``), and ``sample`` draws with
  ``model.sample`` at temperature 1. Each example's log-prob depends on that
  example alone. The model's variables are this distribution's
  (``trainable_variables``), so gradients of ``log_prob`` train the model.

  ``sample(seed=...)`` takes what TFP takes (an int, an int ``[2]`` tensor,
  ``tfp.random.sanitize_seed`` output) and is stateless for each: the same
  seed gives the same sample, an int included (in TFP an int seed is
  stateful). Both run eagerly, inside ``tf.function`` and, for families that compile
  with XLA, under ``jit_compile=True``. A ``ModelDistribution`` is a
  ``CompositeTensor``: it passes through ``tf.function`` arguments and
  ``tf.nest`` with ``expand_composites=True`` (its one tensor is the
  condition; the model is static).

  Args:
    model: a ``tfgen.base.LikelihoodModel``.
    condition: ``None`` for an unconditional model; otherwise class ids of
      any shape ``B`` (``num_classes=K`` models) or floats of shape
      ``B + condition_shape``. ``B`` is the batch shape.
    length: for sequence models, the length of the sequences ``sample``
      draws (the event shape is then ``[length]``); ``log_prob`` takes any
      length either way.
    validate_args: as in TFP. The model checks its data and condition
      always; with ``validate_args=True`` the condition is also checked when
      the distribution is built.
    allow_nan_stats: as in TFP (there are no closed-form statistics).
    name: the distribution's name (default: the model's name).

  There is no closed-form KL divergence between these distributions:
  :func:`monte_carlo_kl` estimates one.
  """

  def __init__(self, model, condition=None, length=None, validate_args=False,
               allow_nan_stats=True, name=None):
    parameters = dict(locals())
    if not hasattr(model, "_fixed_log_prob") or not hasattr(model, "event_shape"):
      raise ValueError(f"`model` must be a tfgen LikelihoodModel, got {type(model).__name__}.")
    self._model = model
    self._condition = _condition(model, condition, validate_args)
    if length is not None:
      if not model.is_sequence:
        raise ValueError(f"`length` is for sequence models; {model.name} has the fixed event "
                         f"shape {list(model.event_shape)}.")
      length = _validation.positive_int(length, "length")
      if length > model.max_length:
        raise ValueError(f"`length` must be at most {model.max_length} (max_length), got "
                         f"{length}.")
    self._length = length
    continuous = model.num_levels is None
    with tf.name_scope(name or model.name) as scope:
      super().__init__(
          dtype=model.data_dtype,
          reparameterization_type=(tfd.FULLY_REPARAMETERIZED if continuous
                                   else tfd.NOT_REPARAMETERIZED),
          validate_args=validate_args, allow_nan_stats=allow_nan_stats,
          parameters=parameters, name=name or model.name)
      del scope

  @classmethod
  def _parameter_properties(cls, dtype, num_classes=None):
    return dict(condition=parameter_properties.ParameterProperties(
        event_ndims=lambda self: len(self._condition_event()),
        default_constraining_bijector_fn=parameter_properties.BIJECTOR_NOT_IMPLEMENTED,
        is_preferred=False))

  @property
  def model(self):
    """The tfgen model."""
    return self._model

  @property
  def condition(self):
    """The condition tensor (``None`` when unconditional)."""
    return self._condition

  @property
  def length(self):
    """Sequence length of samples (sequence models), or None."""
    return self._length

  # -- shapes ------------------------------------------------------------------

  def _event_dims(self):
    return [self._length if d is None else d for d in self._model.event_shape]

  def _event_shape(self):
    return tf.TensorShape(self._event_dims())

  def _event_shape_tensor(self):
    dims = self._event_dims()
    if None in dims:
      raise ValueError(f"The event shape of {self.name} is a sequence of any length; pass "
                       "`length=` to `distribution_given` for a fixed one.")
    return tf.constant(dims, tf.int32)

  def _condition_event(self):
    """The shape of one condition (``[]`` for a class id)."""
    spec = self._model.condition_spec
    return [] if spec is None else [int(d) for d in spec.shape[1:]]

  # -- the two operations --------------------------------------------------------

  def _flat_condition(self, batch, n=1):
    """The condition broadcast to ``batch``, flattened, repeated ``n`` times
    (sample-major) and encoded as the model takes it; None if unconditional."""
    if self._condition is None:
      return None
    event = self._condition_event()
    c = tf.broadcast_to(self._condition, ps.concat([batch, event], 0))
    c = tf.reshape(c, [-1] + event)
    if not (isinstance(n, int) and n == 1):
      c = tf.tile(c, [n] + [1] * len(event))
    return self._model._encode_condition(c, tf.shape(c)[0])

  def _call_log_prob(self, value, name, **kwargs):
    # TFP casts `value` to the distribution's dtype first, which would wrap
    # 300 to 44 in uint8 and round 0.5 to 0. The model checks the data as
    # given instead (whole numbers in range), and casts them itself.
    value = tf.convert_to_tensor(value)   # no dtype_hint: that casts numpy arrays too
    with self._name_and_control_scope(name, value, kwargs):
      return self._log_prob(value, **kwargs)

  def _call_prob(self, value, name, **kwargs):
    return tf.exp(self._call_log_prob(value, name, **kwargs))

  def _log_prob(self, x):
    model = self._model
    x = tf.convert_to_tensor(x)
    event_ndims = len(model.event_shape)
    if x.shape.rank is not None and x.shape.rank < event_ndims:
      raise ValueError(f"`x` must have the event shape {list(self._event_dims())} as its last "
                       f"dimensions, got shape {x.shape}.")
    shape = ps.shape(x)
    rank = ps.rank(x)
    event = shape[rank - event_ndims:]
    batch = ps.broadcast_shape(shape[:rank - event_ndims], self.batch_shape_tensor())
    x = tf.broadcast_to(x, ps.concat([batch, event], 0))
    flat = tf.reshape(x, ps.concat([[-1], event], 0))
    condition = self._flat_condition(batch)
    with one_pass():
      log_prob = model._fixed_log_prob(model._check_data(flat), condition)
    return tf.reshape(log_prob, batch)

  def _sample_n(self, n, seed=None):
    samples, _ = self._draw(n, seed, with_log_prob=False)
    return samples

  def _sample_and_log_prob(self, sample_shape, seed, **kwargs):
    n = ps.reduce_prod(sample_shape)
    samples, log_prob = self._draw(n, seed, with_log_prob=True)
    return (tf.reshape(samples, ps.concat([sample_shape, ps.shape(samples)[1:]], 0)),
            tf.reshape(log_prob, ps.concat([sample_shape, ps.shape(log_prob)[1:]], 0)))

  def _draw(self, n, seed, with_log_prob):
    """``n`` samples per batch member, shape ``[n] + B + E`` (and their log-probs)."""
    model = self._model
    if model.is_sequence and self._length is None:
      raise ValueError(f"{self.name} models sequences of any length: pass `length=` to "
                       "`distribution_given` to sample.")
    # Stateless for every form: an int maps to a fixed pair, as in
    # model.sample (TFP's own distributions treat an int as a stateful seed).
    seed = _validation.seed(seed)
    batch = self.batch_shape_tensor()
    size = ps.reduce_prod(batch)
    static_n, static_size = tf.get_static_value(n), tf.get_static_value(size)
    if static_n is not None and static_size is not None:
      n = int(static_n)
      total = n * int(static_size)
    else:
      total = tf.cast(n, tf.int32) * tf.cast(size, tf.int32)
    condition = self._flat_condition(batch, n=n)
    options = {} if self._length is None else {"length": self._length}
    if with_log_prob:
      flat, log_prob = model._sample_and_log_prob(total, seed, condition, **options)
    else:
      flat, log_prob = model.sample_encoded(total, seed, 1.0, condition, **options), None
    flat = tf.cast(flat, self.dtype)
    out = tf.reshape(flat, ps.concat([[n], batch, ps.shape(flat)[1:]], 0))
    if log_prob is not None:
      log_prob = tf.reshape(log_prob, ps.concat([[n], batch], 0))
    return out, log_prob

  def _default_event_space_bijector(self):
    return None


class DiscreteModelDistribution(tfd.distribution.DiscreteDistributionMixin, ModelDistribution):
  """A :class:`ModelDistribution` over discrete data (images, codes, text):
  ``tfd.TransformedDistribution`` treats it as discrete (no Jacobian)."""


def of(model, condition=None, *, length=None, validate_args=False, name=None):
  """``model``'s distribution given ``condition``: a :class:`ModelDistribution`
  (:class:`DiscreteModelDistribution` for discrete data)."""
  cls = ModelDistribution if model.num_levels is None else DiscreteModelDistribution
  return cls(model, condition, length=length, validate_args=validate_args, name=name)


def monte_carlo_kl(p, q, num_samples=256, seed=None):
  """``KL(p ‖ q) ≈ (1/n) Σ_i [log p(x_i) − log q(x_i)]``, ``x_i ~ p``.

  The estimate ``tfp.monte_carlo.expectation`` makes, for distributions with
  no closed-form KL divergence (every tfgen distribution). Unbiased, with
  standard error ``std(log p − log q) / √n``. Shape: ``p``'s batch shape.
  """
  num_samples = _validation.positive_int(num_samples, "num_samples")
  x = p.sample(num_samples, seed=seed)
  # The gradient: pathwise for a reparameterised p, else the score function
  # (what tfp.monte_carlo.expectation does with p's log_prob).
  reparameterized = p.reparameterization_type == tfd.FULLY_REPARAMETERIZED
  return tfp.monte_carlo.expectation(
      f=lambda s: p.log_prob(s) - q.log_prob(s), samples=x, log_prob=p.log_prob,
      use_reparameterization=reparameterized)


def _no_closed_form(a, b, name=None):
  raise NotImplementedError(
      f"There is no closed-form KL divergence between {type(a).__name__} and "
      f"{type(b).__name__} ({a.name}, {b.name}): estimate it by Monte Carlo, "
      "tfgen.distributions.monte_carlo_kl(p, q, num_samples) (tfp.monte_carlo.expectation of "
      "log p(x) − log q(x) over samples of p).")


tfd.RegisterKL(ModelDistribution, tfd.Distribution)(_no_closed_form)
tfd.RegisterKL(tfd.Distribution, ModelDistribution)(_no_closed_form)
tfd.RegisterKL(ModelDistribution, ModelDistribution)(_no_closed_form)


def _condition(model, condition, validate_args):
  """``condition`` as a tensor of the dtype ``model`` takes (``condition_spec``),
  its last dimensions checked against one condition's shape."""
  spec = model.condition_spec
  if spec is None:
    if condition is not None:
      raise ValueError(f"`condition` was given, but {model.name} is unconditional.")
    return None
  event = [int(d) for d in spec.shape[1:]]
  if condition is None:
    raise ValueError(f"{model.name} is conditional: pass `condition` to `distribution_given` "
                     f"(shape [..., {', '.join(map(str, event))}] of {spec.dtype.name}, any "
                     "leading batch shape).")
  # A variable stays a variable, read on every use (as TFP's distributions
  # keep theirs), so gradients reach it from a tape opened later.
  if isinstance(condition, tf.Variable) and condition.dtype == spec.dtype:
    c = condition
  else:
    c = tf.convert_to_tensor(condition)
    if spec.dtype.is_integer and not c.dtype.is_integer:
      raise ValueError(f"`condition` of {model.name} must have an integer dtype (class ids or "
                       f"tokens), got {c.dtype.name}.")
    if not (c.dtype.is_floating or c.dtype.is_integer):
      raise ValueError(f"`condition` must be numeric, got {c.dtype.name}.")
    c = tf.cast(c, spec.dtype)
  rank = c.shape.rank
  if rank is not None and (rank < len(event) or any(
      t is not None and t != d for t, d in zip(c.shape[rank - len(event):], event))):
    raise ValueError(f"`condition` of {model.name} must have shape [..., "
                     f"{', '.join(map(str, event))}] (any leading batch shape), got {c.shape}.")
  if validate_args:
    flat = tf.reshape(c, [-1] + event)
    model._encode_condition(flat, tf.shape(flat)[0])
  return c

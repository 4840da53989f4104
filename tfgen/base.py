"""The Keras base class for models with an exact log-likelihood: the model contract.

Every tfgen family is a :class:`LikelihoodModel`. The CLI, the exporter, the
benchmarks and the notebooks see a model only through this contract, never
through its type, so a new family is one model file plus one registry row
(``tfgen.models.register``).
"""

import logging
import math
import warnings

import numpy as np
import tensorflow as tf

from tfgen import _validation
from tfgen._keras import keras

logger = logging.getLogger("tfgen")

_MISSING = object()


def describe_likelihood(result, kind="image", dimension_name=None):
  """``"1.2345 bits/dim (0.8557 nats/dim; 123.4 nats per image)"`` for an
  evaluation ``{"bits_per_dim", "loss"}`` of data of ``kind``."""
  unit = {"image": "image", "video": "video", "audio": "window", "text": "window"}.get(
      kind, "example")
  per = dimension_name or {"image": "dim", "audio": "sample", "text": "char"}.get(kind, "dim")
  bpd = result["bits_per_dim"]
  return (f"{bpd:.4f} bits/{per} ({bpd * math.log(2):.4f} nats/{per}; {result['loss']:.1f} "
          f"nats per {unit})")


def bits_per_dim(log_prob, num_dims):
  """``−log₂ p(x) / D`` from a log-likelihood in nats."""
  return -log_prob / (num_dims * math.log(2.))


def deprecated_alias(new_value, old_value, old, new, owner):
  """Returns the value of keyword ``new``, taking a deprecated ``old`` one.

  ``old_value`` is ``_MISSING`` when the caller did not pass ``old``.
  Passing both is an error; passing ``old`` warns (DeprecationWarning).
  """
  if old_value is _MISSING:
    return new_value
  if new_value is not None:
    raise ValueError(f"{owner}: pass `{new}` only; `{old}` is its deprecated name.")
  warnings.warn(f"{owner}: `{old}=` is deprecated and will be removed in tfgen 0.3; "
                f"use `{new}=`.", DeprecationWarning, stacklevel=3)
  return old_value


class _Held:
  """Keeps distribution strategies from unwrapping mirrored variables when
  they pass through merge_call / call_for_each_replica."""

  __slots__ = ["variables"]

  def __init__(self, variables):
    self.variables = variables


class StopOnNonFinite(keras.callbacks.Callback):
  """Stops ``fit`` once a step met a NaN/Inf loss or gradient.

  :class:`LikelihoodModel` skips such a step, returns the weights to the
  last ones whose loss was finite (the update before the bad step was
  computed from finite values, but nothing had checked where it landed),
  and counts it; this callback then ends training and logs a warning on the
  ``tfgen`` logger. ``fit`` adds it for you. After ``fit``,
  ``model.nonfinite_steps`` tells whether it fired.
  """

  def on_train_batch_end(self, batch, logs=None):
    if int(self.model.nonfinite_steps.numpy()) > 0 and not self.model.stop_training:
      self.model.stop_training = True
      logger.warning("non-finite loss or gradient at batch %d; training stopped. The model "
                     "is back at the last weights whose loss was finite. Try a lower learning "
                     "rate.", batch)


class ServingFunction:
  """One signature of an exported model: ``fn(**inputs) → dict of tensors``.

  ``inputs`` are ``tf.TensorSpec``s whose names are the request's keys;
  ``warmup`` maps input names to the small value a warm-up request uses
  (inputs not named get zeros with unknown sizes set to 1).
  """

  def __init__(self, fn, inputs, warmup=None):
    self.fn, self.inputs, self.warmup = fn, list(inputs), dict(warmup or {})


def _clear_errors(method):
  """Turns a tfgen check that failed inside Keras's graph into the ValueError
  an eager call gives (instead of an InvalidArgumentError with a graph trace)."""
  def wrapper(self, *args, **kwargs):
    try:
      return method(self, *args, **kwargs)
    except tf.errors.InvalidArgumentError as e:
      message = _validation.assertion_message(e)
      if message is None:
        raise
      raise ValueError(message) from None
  wrapper.__name__, wrapper.__doc__ = method.__name__, method.__doc__
  return wrapper


class GenerativeModel(keras.Model):
  """A ``tf_keras.Model`` that tfgen can train, sample, serve and report on.

  This is what every family shares and all the CLI, the exporter and the
  benchmarks rely on. Models with an exact likelihood are
  :class:`LikelihoodModel`\ s (nearly every family); autoencoders such as
  ``tfgen.latent.VQVAE`` are ``GenerativeModel``\ s with another objective.

  - **Data.** ``data_spec`` (the ``x`` it takes), ``condition_spec``,
    ``is_sequence``, ``default_window``; ``from_dataset(spec, **sizes)``.
  - **Training.** ``compile(optimizer)`` needs no loss. ``train_step``
    minimises the mean of ``_objective(x, condition, training)`` (per
    example) plus ``self.losses``, skips a non-finite step on every replica
    (returning to the last weights whose loss was finite) and records the
    metrics ``_objective`` returns. ``fit(x, y)``: ``y`` is the condition.
  - **Data preparation.** ``data_encoder`` (None, or a function applied
    once to the whole split in batches, whose results are cached: e.g.
    images → VQ-VAE codes) and ``uses_labels`` (whether training data
    carry class labels) tell ``tfgen.data.load`` what to feed.
  - **Sampling.** ``sample(n, *, seed, temperature, condition, **options)``
    when ``can_sample``; ``preview(x)`` may give images that show the
    model on data (originals beside reconstructions).
  - **Reporting and serving.** ``describe(result, spec)`` is one line on an
    ``evaluate`` result; ``serving_functions()`` the exported signatures.
  """

  #: Whether ``sample`` draws new data (an autoencoder alone cannot), and
  #: what to do instead when it cannot.
  can_sample = True
  cannot_sample_reason = ""

  #: ``None``, or a function ``batch → batch`` that training and evaluation
  #: data pass through once, before shuffling, with the results cached.
  data_encoder = None

  #: Whether training data are ``(x, label)`` pairs (the labels feed the model).
  uses_labels = False
  #: Upper bound on ``n`` in ``sample`` (and ``num_samples`` when served):
  #: one request must not be able to allocate without limit.
  max_samples = 65536

  def __init__(self, **kwargs):
    super().__init__(**kwargs)
    self.num_dims = None
    self.num_classes = None
    self.condition_shape = None
    self.nonfinite_steps = tf.Variable(0, trainable=False, name="nonfinite_steps",
                                       aggregation=tf.VariableAggregation.ONLY_FIRST_REPLICA)

  # -- what the model takes --------------------------------------------------

  @property
  def data_dtype(self):
    """uint8 for images and videos of at most 256 levels, int32 otherwise."""
    is_image = len(self.event_shape) >= 3 and None not in self.event_shape
    return tf.uint8 if is_image and self.num_levels <= 256 else tf.int32

  @property
  def data_spec(self):
    """``tf.TensorSpec([None, *event_shape], dtype)`` of the data; ``None``
    in the event shape is a length chosen per batch (sequences)."""
    return tf.TensorSpec([None] + list(self.event_shape), self.data_dtype, "x")

  @property
  def condition_spec(self):
    """``tf.TensorSpec`` of ``condition``, or None for unconditional models."""
    if self.num_classes:
      return tf.TensorSpec([None], tf.int32, "condition")
    if self.condition_shape:
      return tf.TensorSpec([None] + list(self.condition_shape), tf.float32, "condition")
    return None

  @property
  def condition_size(self):
    """Width of the encoded condition vector (one-hot or flattened), or None."""
    if self.num_classes:
      return self.num_classes
    if self.condition_shape:
      return int(np.prod([d for d in self.condition_shape if d is not None]))
    return None

  @property
  def is_sequence(self):
    """True when the event has a free length (``sample`` then takes ``length=``)."""
    return None in self.event_shape

  @property
  def default_window(self):
    """Training window for sequence data when none is given (None: whole events)."""
    return 1024 if self.is_sequence else None

  def _set_condition(self, num_classes=None, condition_shape=None, allow_both=False):
    """Declares the condition (constructor helper); validates both arguments."""
    if num_classes is not None and condition_shape is not None and not allow_both:
      raise ValueError(f"Pass at most one of `num_classes` and `condition_shape`, got "
                       f"num_classes={num_classes!r} and condition_shape={condition_shape!r}.")
    self.num_classes = (None if num_classes is None
                        else _validation.positive_int(num_classes, "num_classes"))
    if condition_shape is not None:
      if isinstance(condition_shape, (int, np.integer)):
        condition_shape = (condition_shape,)
      if not isinstance(condition_shape, (tuple, list)) or not condition_shape:
        raise ValueError(f"`condition_shape` must be a tuple of positive ints, got "
                         f"{condition_shape!r}.")
      condition_shape = tuple(None if d is None else _validation.positive_int(
          d, "condition_shape entry") for d in condition_shape)
    self.condition_shape = condition_shape

  # -- the contract ------------------------------------------------------------

  def _check_data(self, x):
    return _validation.discrete_batch(x, list(self.event_shape), self.num_levels, name="x")

  def _encode_condition(self, condition, batch):
    """Validates ``condition`` against the declared one and encodes it:
    one-hot ``[B, K]`` for classes, a flat float ``[B, d]`` for vectors."""
    if self.num_classes is None and self.condition_shape is None:
      if condition is not None:
        raise ValueError(f"`condition` was given, but {self.name} is unconditional "
                         "(build it with num_classes= or condition_shape=).")
      return None
    if condition is None:
      raise ValueError(f"{self.name} is conditional; pass `condition` "
                       f"({_validation.describe_condition(self.num_classes, self.condition_shape)}).")
    if self.num_classes:
      ids = _validation.discrete_batch(condition, [], self.num_classes, name="condition")
      encoded = tf.one_hot(ids, self.num_classes)
    else:
      encoded = _validation.float_batch(condition, list(self.condition_shape), "condition")
      encoded = tf.reshape(encoded, tf.stack([tf.shape(encoded)[0], -1]))
      encoded.set_shape([None, self.condition_size])
    return _validation.same_rows(encoded, batch, "condition")

  def sample(self, n, *, seed=None, temperature=1.0, condition=None, labels=_MISSING,
             **options):
    """Draws ``n`` samples (``data_spec.dtype``); reproducible for a ``seed``."""
    condition = deprecated_alias(condition, labels, "labels", "condition", "sample")
    if not self.can_sample:
      raise ValueError(f"{type(self).__name__} does not sample on its own: "
                       f"{self.cannot_sample_reason}")
    accepted = self.sample_options()
    unknown = sorted(set(options) - set(accepted))
    if unknown:
      raise ValueError(f"{type(self).__name__}.sample does not take {', '.join(unknown)}; its "
                       f"options are: {', '.join(accepted) or 'none'}.")
    n = _validation.positive_int(n, "n")
    if n > self.max_samples:
      raise ValueError(f"`n` must be at most {self.max_samples} (max_samples), got {n}; "
                       "draw large numbers of samples in batches.")
    length = options.get("length")
    if self.is_sequence and isinstance(length, (int, np.integer)) and not isinstance(length, bool):
      if not 1 <= length <= self.max_length:
        raise ValueError(f"`length` must be in [1, {self.max_length}], got {length}.")
    size = n * self._sample_elements(length if isinstance(length, (int, np.integer)) else 1)
    if size > self.max_sample_elements:
      raise ValueError(f"{n} samples need {size:,} random numbers, more than "
                       f"max_sample_elements={self.max_sample_elements:,}; draw fewer at a time.")
    temperature = _validation.temperature(temperature)
    seed = _validation.seed(seed)
    encoded = self._encode_condition(condition, n)
    out = self._sample(n, seed, tf.constant(temperature), encoded, **options)
    return tf.cast(out, self.data_dtype)

  def sample_options(self):
    """The family options ``sample`` takes (the keyword arguments of ``_sample``)."""
    import inspect
    params = list(inspect.signature(self._sample).parameters.values())[4:]
    return [p.name for p in params if p.kind == p.POSITIONAL_OR_KEYWORD
            or p.kind == p.KEYWORD_ONLY]

  def _sample(self, n, seed, temperature, condition, **options):
    raise NotImplementedError

  @classmethod
  def from_dataset(cls, spec, **sizes):
    """A new model for ``spec`` (a ``tfgen.data.DatasetSpec``) with size arguments ``sizes``."""
    raise NotImplementedError(f"{cls.__name__} does not say how to build from a dataset.")

  def get_config(self):
    """The constructor arguments; subclasses add theirs to this dict."""
    return {"name": self.name}

  @classmethod
  def from_config(cls, config, custom_objects=None):
    return cls(**config)

  # -- serving and reporting -------------------------------------------------------

  def serving_functions(self):
    """The exported signatures, ``{name: ServingFunction}``: here ``sample``
    (``num_samples``, ``seed`` int32 ``[2]``, ``temperature``, ``length``
    for sequences, ``prime`` if ``sample`` takes one, ``condition`` if
    conditional → ``samples``) when ``can_sample``. Every input is checked
    in the graph."""
    if not self.can_sample:
      return {}
    cond = [self.condition_spec] if self.condition_spec is not None else []
    sample_in = [tf.TensorSpec([], tf.int32, "num_samples"), tf.TensorSpec([2], tf.int32, "seed"),
                 tf.TensorSpec([], tf.float32, "temperature")]
    warm = {"num_samples": 1, "temperature": 1.0}
    if self.is_sequence:
      sample_in.append(tf.TensorSpec([], tf.int32, "length"))
      warm["length"] = 16
    if "prime" in self.sample_options():
      # Serving signatures have no optional inputs: an empty prime means none.
      sample_in.append(tf.TensorSpec([None], tf.int32, "prime"))
      warm["prime"] = [1]
    return {"sample": ServingFunction(self._serve_sample, sample_in + cond, warm)}

  def describe(self, result, spec=None):
    """One line on an ``evaluate`` result (``{metric: value}``) of data ``spec``."""
    return ", ".join(f"{k} {v:.4f}" for k, v in result.items())

  def preview(self, x):
    """Images that show the model on data batch ``x`` (e.g. originals beside
    reconstructions), in data form; ``None`` when it has none."""
    return None

  def _serve_sample(self, num_samples, seed, temperature, length=None, prime=None,
                    condition=None):
    num_samples = _validation.in_range(num_samples, 1, self.max_samples, "num_samples")
    temperature = _validation.positive_finite(temperature, "temperature")
    encoded = self._encode_condition(condition, num_samples)
    options = {} if length is None else {
        "length": _validation.in_range(length, 1, self.max_length, "length")}
    if prime is not None:
      codes = _validation.discrete_batch(prime[None], [None], self.num_levels, name="prime",
                                         allow_empty=True)[0]
      options["prime"] = _validation.at_least(codes, options["length"], tf.size(codes),
                                              "`prime` must not be longer than `length`.")
    per_sample = self._sample_elements(1 if length is None else options["length"])
    size = tf.cast(num_samples, tf.int64) * tf.cast(per_sample, tf.int64)
    num_samples = _validation.at_least(num_samples, self.max_sample_elements, size,
                                       f"num_samples × dims × levels must be at most "
                                       f"max_sample_elements={self.max_sample_elements}.")
    out = self._sample_graph(num_samples, seed, temperature, encoded, **options)
    return {"samples": tf.cast(out, tf.int32)}

  #: Upper bound on a served or CLI sequence ``length``.
  max_length = 1_000_000

  #: Upper bound on ``n × dims × levels`` of one ``sample`` call or request:
  #: the Gumbel noise of a sample has that many floats (2^28 = 1 GiB).
  max_sample_elements = 2 ** 28

  def _sample_elements(self, length):
    """Random numbers one sample needs (``length`` fills a free event dimension)."""
    dims = 1
    for d in self.event_shape:
      dims *= length if d is None else d
    return dims * self.num_levels

  def _sample_graph(self, n, seed, temperature, condition, **options):
    """``_sample`` with tensor ``n`` (for export); defaults to ``_sample``."""
    return self._sample(n, seed, temperature, condition, **options)

  # -- training ----------------------------------------------------------------

  def _unpack(self, data):
    """``fit``/``evaluate`` data: ``x``, ``(x, condition)`` or ``(x, condition, sample_weight)``."""
    x, condition, weight = keras.utils.unpack_x_y_sample_weight(data)
    if weight is not None:
      weight = tf.cast(tf.reshape(weight, [-1]), tf.float32)
    return x, condition, weight

  def _event_dims(self, x):
    """``D`` for bits/dim: scored dimensions per example of batch ``x``."""
    return float(self.num_dims)

  def _objective(self, x, condition, training):
    """``(per-example loss to minimise [B], {metric name: per-example [B] or
    batch scalar value})`` for a batch. ``self.losses`` are added to the loss."""
    raise NotImplementedError

  def _record(self, values, weight=None, ok=None):
    """Updates the trackers in ``self.metrics`` from ``values`` by name.
    Per-example values are weighted by ``weight``; batch scalars count once
    (or not at all when ``ok`` is False: a skipped step)."""
    for m in self.metrics:
      value = values[m.name]
      if value.shape.rank == 0:
        m.update_state(value, sample_weight=None if ok is None else tf.cast(ok, tf.float32))
      else:
        m.update_state(value, sample_weight=weight)
    return {m.name: m.result() for m in self.metrics}

  def train_step(self, data):
    x, condition, weight = self._unpack(data)
    with tf.GradientTape() as tape:
      objective, values = self._objective(x, condition, training=True)
      loss = tf.nn.compute_average_loss(objective, sample_weight=weight)
      if self.losses:
        loss += tf.nn.scale_regularization_loss(tf.add_n(self.losses))
      # mixed_float16: Keras wrapped the optimizer in a LossScaleOptimizer.
      scaling = isinstance(self.optimizer, keras.mixed_precision.LossScaleOptimizer)
      if scaling:
        scaled_loss = self.optimizer.get_scaled_loss(loss)
    variables = self.trainable_variables
    if scaling:
      grads = self.optimizer.get_unscaled_gradients(tape.gradient(scaled_loss, variables))
    else:
      grads = tape.gradient(loss, variables)
    ctx = tf.distribute.get_replica_context()
    multi = ctx is not None and ctx.num_replicas_in_sync > 1
    if multi:
      # Sum over replicas here, outside the skip-cond below: a cond may not
      # contain a cross-replica sync. Then every replica sees the same
      # gradients and makes the same skip decision.
      grads = [g for g, _ in self.optimizer.aggregate_gradients(list(zip(grads, variables)))]
    if scaling:
      # Overflowing float16 gradients are the loss scale's business: the
      # LossScaleOptimizer skips that update and lowers the scale. Only a
      # non-finite loss means the model itself failed.
      finite = tf.math.is_finite(loss)
    else:
      # One fused reduction: the global norm is finite iff every gradient
      # entry is (or the gradients are so large their norm overflows, which
      # no update survives either). Per-tensor is_finite checks cost ~4% of
      # a Glow step on CPU.
      norm = tf.linalg.global_norm([g for g in grads if g is not None])
      finite = tf.logical_and(tf.math.is_finite(loss), tf.math.is_finite(norm))
    bad = tf.cast(tf.logical_not(finite), tf.int32)
    if multi:
      bad = ctx.all_reduce(tf.distribute.ReduceOp.SUM, bad)
    ok = tf.equal(bad, 0)

    if self._guarded_optimizer():
      # tfgen's Adam skips the step (and puts the weights back) within its
      # own update kernels: no tf.cond, which would about double the traced
      # step and its graph optimisation (Glow 28x28: ~2 s of the first step).
      self.optimizer.apply_gradients_if(ok, zip(grads, variables), global_norm=norm,
                                        skip_gradients_aggregation=True)
      self.nonfinite_steps.assign_add(1 - tf.cast(ok, tf.int32))
      return self._record_step(objective, values, weight, ok)

    good = self._last_good

    def apply(replica_grads, held):
      # These weights just gave a finite loss and gradients: keep them, so a
      # later non-finite step can return to them.
      for copy, v in zip(good.variables, held.variables):
        copy.assign(v)
      self.optimizer.apply_gradients(zip(replica_grads, held.variables),
                                     skip_gradients_aggregation=multi)
      return tf.constant(True)

    def skip():
      # The weights now in place came from an update whose loss was never
      # seen finite: go back to the last weights whose loss was.
      for copy, v in zip(good.variables, variables):
        v.assign(copy)
      self.nonfinite_steps.assign_add(1)
      return tf.constant(False)

    if not multi:
      tf.cond(ok, lambda: apply(grads, _Held(variables)), skip)
    else:
      # The optimizer update syncs replicas (merge_call), and a sync may not
      # sit inside a replica-context cond: branch in cross-replica context,
      # as Keras's LossScaleOptimizer does.
      def cross_replica(strategy, replica_grads, held, replica_ok):
        go = strategy.experimental_local_results(replica_ok)[0]

        def apply_everywhere():
          strategy.extended.call_for_each_replica(apply, args=(replica_grads, held))
          return tf.constant(True)
        tf.cond(go, apply_everywhere, skip)
      ctx.merge_call(cross_replica, args=(grads, _Held(variables), ok))
    return self._record_step(objective, values, weight, ok)

  def _record_step(self, objective, values, weight, ok):
    """The metrics of a training step, which count nothing if it was skipped."""
    kept = tf.fill(tf.shape(objective), tf.cast(ok, tf.float32))
    values = {k: tf.where(ok, v, tf.zeros_like(v)) for k, v in values.items()}
    return self._record(values, weight=kept if weight is None else kept * weight, ok=ok)

  def test_step(self, data):
    x, condition, weight = self._unpack(data)
    return self._record(self._objective(x, condition, training=False)[1], weight=weight)

  def _data_dependent_init(self, x, batch_size):
    """Hook: initialise data-dependent layers from the first batch of ``x``."""

  @_clear_errors
  def evaluate(self, *args, **kwargs):
    return super().evaluate(*args, **kwargs)

  @_clear_errors
  def predict(self, *args, **kwargs):
    return super().predict(*args, **kwargs)

  def compile(self, optimizer=None, **kwargs):
    """Keras ``compile``; with no ``optimizer``, tfgen's
    :func:`~tfgen.training.default_optimizer` (Adam with gradient clipping)
    instead of Keras's RMSprop. No loss is needed: the model has its own."""
    if optimizer is None:
      from tfgen.training import default_optimizer
      optimizer = default_optimizer()
    self._built_optimizer_id = None  # the next train function builds the new optimizer
    return super().compile(optimizer=optimizer, **kwargs)

  @_clear_errors
  def fit(self, x=None, y=None, *args, callbacks=None, **kwargs):
    """Keras ``fit``. ``x`` is the data; ``y``, when given, is the
    ``condition`` (class ids or vectors), not a target; ``sample_weight``
    weights each example's loss."""
    self._data_dependent_init(x if y is None else (x, y), kwargs.get("batch_size"))
    callbacks = list(callbacks or [])
    if not any(isinstance(c, StopOnNonFinite) for c in callbacks):
      callbacks.append(StopOnNonFinite())
    self.nonfinite_steps.assign(0)
    self._build_optimizer()
    return super().fit(x, y, *args, callbacks=callbacks, **kwargs)

  def _build_optimizer(self):
    """Creates the optimizer's slot variables before ``fit`` traces its step.

    Left to the first step, the optimizer creates them while ``tf.function``
    traces it, and ``tf.function`` then traces the whole step a second time
    (for Glow on 28x28 that doubled the time to the first step, ~12 s on a
    2-core CPU).
    """
    optimizer = getattr(self, "optimizer", None)
    if optimizer is None or not hasattr(optimizer, "build"):
      return  # not compiled: Keras's fit raises its own error
    with self.distribute_strategy.scope():
      optimizer.build(self.trainable_variables)
      if self._guarded_optimizer():
        optimizer.forget_last_update()  # the weights may have been set since
      else:
        self._snapshot_weights()
    self._built_optimizer_id = id(optimizer)  # an int: Keras would track the object

  def _guarded_optimizer(self):
    """Whether the optimizer skips a bad step itself (tfgen's Adam, see
    :meth:`tfgen.training.Adam.apply_gradients_if`); other optimizers are
    skipped by a ``tf.cond`` and a copy of the last good weights, and so is
    a loss-scaled step (the LossScaleOptimizer forwards attributes)."""
    optimizer = getattr(self, "optimizer", None)
    return (not isinstance(optimizer, keras.mixed_precision.LossScaleOptimizer)
            and getattr(optimizer, "guards_updates", False))

  def make_train_function(self, force=False):
    if getattr(self, "_built_optimizer_id", None) != id(self.optimizer):  # train_on_batch
      self._build_optimizer()
    return super().make_train_function(force=force)

  def _snapshot_weights(self):
    """(Re)starts the copy of the last weights whose loss was finite from the
    current weights. The copy is not tracked: checkpoints hold the model only."""
    held = getattr(self, "_last_good", None)
    variables = self.trainable_variables
    if held is None or len(held.variables) != len(variables):
      sync = dict(trainable=False, aggregation=tf.VariableAggregation.ONLY_FIRST_REPLICA)
      self._last_good = _Held([tf.Variable(v, name="last_good", **sync) for v in variables])
    else:
      for copy, v in zip(held.variables, variables):
        copy.assign(v)



class LikelihoodModel(GenerativeModel):
  """A :class:`GenerativeModel` with an exact log-likelihood: the contract of
  nearly every tfgen family.

  **Likelihood.** ``log_prob(x, condition=None)`` is the per-example
  log-likelihood in nats of discrete data ``x`` (``[batch, *event_shape]``,
  integers in ``[0, num_levels)``), and ``bits_per_dim(x, condition=None)``
  is ``−log₂ p(x) / D``. ``model(x)`` (or ``model((x, condition))``) is
  ``log_prob``: one meaning for every family, so ``predict`` returns
  log-likelihoods. Autoregressive models also give the distribution of
  their conditionals with ``conditionals(x)``.

  **Sampling.** ``sample(n, *, seed=None, temperature=1.0, condition=None,
  **options)`` returns ``n`` samples in the dtype the model takes as data
  (``data_spec.dtype``: uint8 for images of at most 256 levels, int32
  codes otherwise). ``seed`` is an int (as in TFP) or an int ``[2]``
  tensor and makes sampling reproducible (stateless); ``temperature > 0``.
  Family options: ``length=`` (sequences), ``prefix=`` (images),
  ``method=`` (``'cached'`` / ``'naive'``) where a family has both.

  **Conditioning** has one name, ``condition``. It is declared in the
  constructor: ``num_classes=K`` takes class ids ``[batch]``,
  ``condition_shape=S`` takes float vectors ``[batch, *S]``. ``fit`` takes
  ``(x, condition)`` pairs: Keras's ``y`` is the condition. The old names
  (``labels=``, ``conditional_shape=``, ...) still work for one release and
  warn.

  **Config, building, serving.** ``get_config``/``from_config`` round-trip
  (with ``name``); ``from_dataset(spec, **sizes)`` builds a model for a
  ``tfgen.data.DatasetSpec``; ``data_spec`` and ``condition_spec`` say what
  it takes; ``serving_functions()`` lists its exported signatures.

  **Training.** ``compile(optimizer)`` needs no loss. ``fit`` and
  ``evaluate`` report ``loss`` (mean nats per example) and ``bits_per_dim``,
  and honour ``sample_weight``. Under ``tf.distribute`` the batch is global
  and the loss is averaged over it. A step whose loss or gradients are not
  finite is skipped on every replica, and ``fit`` stops.

  **Subclasses** set ``event_shape``, ``num_levels`` (and ``num_classes`` /
  ``condition_shape`` through :meth:`_set_condition`) and implement
  ``_log_prob(x, condition, training)`` (``x`` validated int32, ``condition``
  encoded by :meth:`_encode_condition`) and ``_sample(n, seed, temperature,
  condition, **options)`` with tensor ``seed`` and ``temperature``.

  Mixed precision (flows, PixelCNN, WaveNet): build the model under
  ``keras.mixed_precision.set_global_policy('mixed_float16')`` (GPUs) or
  ``'mixed_bfloat16'``. The networks then compute in 16 bits, while
  log-dets, logits and the loss stay in float32. With ``mixed_float16``
  Keras wraps the optimizer in a ``LossScaleOptimizer``; its overflow skips
  are not counted as failures.
  """


  def __init__(self, **kwargs):
    super().__init__(**kwargs)
    self.loss_tracker = keras.metrics.Mean(name="loss")
    self.bpd_tracker = keras.metrics.Mean(name="bits_per_dim")

  @property
  def metrics(self):
    return [self.loss_tracker, self.bpd_tracker]

  #: What one of the ``D`` scored dimensions is called in reports (None: the
  #: data's, e.g. "dim" for images, "char" for text).
  dimension_name = None

  def _objective(self, x, condition, training):
    # Optimise bits/dim (∝ NLL): gradient norms then do not grow with D, so
    # one clipping threshold suits every image size.
    nll = -self.log_prob(x, condition, training=training)
    bpd = nll / (self._event_dims(x) * math.log(2.))
    return bpd, {"loss": nll, "bits_per_dim": bpd}

  def describe(self, result, spec=None):
    """``"1.2345 bits/dim (0.8557 nats/dim; 123.4 nats per image)"``."""
    return describe_likelihood(result, getattr(spec, "kind", "image"), self.dimension_name)

  def log_prob(self, x, condition=None, *, training=False, labels=_MISSING, **options):
    """Per-example log-likelihood (nats) of discrete data ``x``, shape ``[batch]``."""
    condition = deprecated_alias(condition, labels, "labels", "condition", "log_prob")
    x = self._check_data(x)
    encoded = self._encode_condition(condition, tf.shape(x)[0])
    from tfgen.bijectors.base import one_pass  # bijectors are a lower layer than models
    with one_pass():
      return self._log_prob(x, encoded, training=training, **options)

  def bits_per_dim(self, x, condition=None, *, labels=_MISSING, **options):
    """Per-example ``−log₂ p(x) / D`` of discrete data ``x``."""
    condition = deprecated_alias(condition, labels, "labels", "condition", "bits_per_dim")
    lp = self.log_prob(x, condition, **options)
    return bits_per_dim(lp, self._event_dims(tf.convert_to_tensor(x)))

  def conditionals(self, x, condition=None, *, labels=_MISSING):
    """Autoregressive families: the distribution of every conditional given
    ``x``, e.g. ``tfd.Independent(tfd.Categorical(logits))`` over the event,
    so ``conditionals(x).log_prob(x) == log_prob(x)``."""
    condition = deprecated_alias(condition, labels, "labels", "condition", "conditionals")
    x = self._check_data(x)
    return self._conditionals(x, self._encode_condition(condition, tf.shape(x)[0]))

  def _conditionals(self, x, condition):
    raise NotImplementedError(f"{type(self).__name__} is not a product of conditionals it can "
                              "list (a flow's density is `model.distribution`).")

  def call(self, inputs, training=False):
    """``log_prob``: ``inputs`` is ``x`` or ``(x, condition)``."""
    x, condition = inputs if isinstance(inputs, (tuple, list)) else (inputs, None)
    return self.log_prob(x, condition, training=training)

  def _log_prob(self, x, condition, training=False, **options):
    raise NotImplementedError

  # -- serving -----------------------------------------------------------------

  def serving_functions(self):
    """The exported signatures: ``{name: ServingFunction}``.

    ``serving_default`` maps ``x`` (int32) to ``log_prob`` and
    ``bits_per_dim``; ``sample`` is :meth:`GenerativeModel.serving_functions`'.
    Conditional models take ``condition`` in both. Every input is checked in
    the graph (shapes, ranges, finiteness, one condition row per example,
    ``1 ≤ num_samples ≤ max_samples``).
    """
    x = tf.TensorSpec([None] + list(self.event_shape), tf.int32, "x")
    cond = [self.condition_spec] if self.condition_spec is not None else []
    return {"serving_default": ServingFunction(self._serve_log_prob, [x] + cond),
            **super().serving_functions()}

  def _serving_log_prob(self, x, condition):
    """``log_prob`` as served: deterministic (flows fix their dequantization)."""
    return self._log_prob(x, condition)

  def _serve_log_prob(self, x, condition=None):
    x = self._check_data(x)
    encoded = self._encode_condition(condition, tf.shape(x)[0])
    lp = self._serving_log_prob(x, encoded)
    return {"log_prob": lp, "bits_per_dim": bits_per_dim(lp, self._event_dims(x))}

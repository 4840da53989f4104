"""The model contract: what every tfgen family is, and all the rest of tfgen sees.

Every family is a :class:`LikelihoodModel` (or, for autoencoders and
classifiers, a :class:`GenerativeModel`). The CLI, the exporter, the
benchmarks and the notebooks see a model only through this contract, never
through its type, so a new family is one model file plus one registry row
(``tfgen.models.register``).

The contract reads top-down; what it builds on lives below it:
``tfgen.training.step`` (compile / fit and the guarded step),
``tfgen.export.signatures`` (the standard serving signatures),
``tfgen.likelihood`` (bits/dim) and ``tfgen._validation`` (boundary checks).
"""

import math

import numpy as np
import tensorflow as tf

from tfgen import _validation, distributions
from tfgen._deprecation import MISSING, deprecated_alias
from tfgen._keras import keras
from tfgen.bijectors.base import one_pass
from tfgen.export import signatures
from tfgen.likelihood import bits_per_dim, describe_likelihood
from tfgen.training.step import TrainingStep


class GenerativeModel(TrainingStep, keras.Model):
  """A ``tf_keras.Model`` that tfgen can train, sample, serve and report on.

  This is what every family shares and all the CLI, the exporter and the
  benchmarks rely on. Models with an exact likelihood are
  :class:`LikelihoodModel`\\ s (nearly every family); autoencoders such as
  ``tfgen.latent.VQVAE`` are ``GenerativeModel``\\ s with another objective.

  - **Data.** ``data_spec`` (the ``x`` it takes), ``condition_spec``,
    ``is_sequence``, ``default_window``; ``from_dataset(spec, **sizes)``.
  - **Training** (:class:`tfgen.training.step.TrainingStep`).
    ``compile(optimizer)`` needs no loss. ``train_step`` minimises the mean
    of ``_objective(x, condition, training)`` (per example) plus
    ``self.losses``, skips a non-finite step on every replica (returning to
    the last weights whose loss was finite) and records the metrics
    ``_objective`` returns. ``fit(x, y)``: ``y`` is the condition.
  - **Data preparation.** ``data_encoder`` (None, or a function applied
    once to the whole split in batches, whose results are cached: e.g.
    images → VQ-VAE codes) and ``uses_labels`` (whether training data
    carry class labels) tell ``tfgen.data.load`` what to feed.
  - **Sampling.** ``sample(n, *, seed, temperature, condition, **options)``
    when ``can_sample``, with the family's options declared in
    ``SAMPLE_OPTIONS``; :meth:`sample_encoded` is the same validated path
    for code inside a graph (serving, composite models). ``preview(x)``
    may give images that show the model on data.
  - **Reporting and serving.** ``describe(result, spec)`` is one line on an
    ``evaluate`` result; ``serving_functions()`` the exported signatures.
  - **Building.** ``from_dataset(spec, **sizes)`` checks the data kind
    (``DATA_KINDS``) once and calls ``_from_dataset``; ``TEST_SIZES`` are
    the constructor arguments of the family's smallest useful model, which
    the contract's own tests build for every registered family.
  """

  #: Whether ``sample`` draws new data (an autoencoder alone cannot), and
  #: what to do instead when it cannot.
  can_sample = True
  cannot_sample_reason = ""

  #: The keyword options ``sample`` takes beyond ``n``, ``seed``,
  #: ``temperature`` and ``condition`` (each family declares its own).
  SAMPLE_OPTIONS = ()

  #: Dataset kinds ``from_dataset`` accepts (``'image'``, ``'audio'``, ...).
  DATA_KINDS = ("image",)

  #: Whether the family models real-valued data (tables of floats), not
  #: only integers.
  REAL_VALUED = False

  #: Constructor size arguments of a tiny model (tests build one per family).
  TEST_SIZES = {}

  #: ``None``, or a function ``batch → batch`` that training and evaluation
  #: data pass through once, before shuffling, with the results cached.
  data_encoder = None

  #: Whether training data are ``(x, label)`` pairs (the labels feed the model).
  uses_labels = False
  #: Upper bound on ``n`` in ``sample`` (and ``num_samples`` when served):
  #: one request must not be able to allocate without limit.
  max_samples = 65536

  #: Upper bound on a served or CLI sequence ``length``.
  max_length = 1_000_000

  #: Upper bound on ``n × dims × levels`` of one ``sample`` call or request:
  #: the Gumbel noise of a sample has that many floats (2^28 = 1 GiB).
  max_sample_elements = 2 ** 28

  def __init__(self, **kwargs):
    super().__init__(**kwargs)
    self._num_dims = None
    self.num_classes = None
    self.condition_shape = None

  # -- what the model takes --------------------------------------------------

  @property
  def num_dims(self):
    """``D``, the dimensions bits/dim divide by: the size of ``event_shape``
    when it is fixed (None for sequences, which count per batch), unless
    the family scores something else (a code prior: its codes)."""
    if self._num_dims is not None:
      return self._num_dims
    shape = getattr(self, "event_shape", None)
    if shape is None or None in shape:
      return None
    return int(np.prod(shape, dtype=np.int64))

  @num_dims.setter
  def num_dims(self, value):
    self._num_dims = value

  @property
  def is_continuous(self):
    """True for real-valued data (``num_levels`` is None): vectors of floats."""
    return self.num_levels is None

  @property
  def data_dtype(self):
    """uint8 for images and videos of at most 256 levels, float32 for
    continuous data, int32 otherwise."""
    if self.is_continuous:
      return tf.float32
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

  def check_window(self, window):
    """Raises a ValueError if sequences of ``window`` steps cannot train this
    model (a sequence model checks them as it checks data); returns ``window``."""
    if self.is_sequence and window is not None:
      self._check_data(tf.zeros([1, _validation.positive_int(window, "window")], tf.int32))
    return window

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
    """``x`` validated as int32 ``[batch, *event_shape]`` in ``[0, num_levels)``
    (finite float32 for continuous data); a sequence must hold at least one
    step (its bits/dim would be 0 / 0)."""
    if self.is_continuous:
      return _validation.float_batch(x, list(self.event_shape), "x")
    x = _validation.discrete_batch(x, list(self.event_shape), self.num_levels, name="x")
    if self.is_sequence:
      if x.shape[1] == 0:
        raise ValueError("`x` must hold sequences of at least one step, got length 0.")
      if x.shape[1] is None:
        x = _validation.at_least(x, tf.shape(x)[1], 1,
                                 "`x` must hold sequences of at least one step, got length 0.")
    return x

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

  def sample(self, n, *, seed=None, temperature=1.0, condition=None, labels=MISSING,
             **options):
    """Draws ``n`` samples (``data_spec.dtype``); reproducible for a ``seed``.

    ``n`` is a positive int (or an int32 scalar tensor inside a graph),
    ``seed`` an int or an int ``[2]`` tensor, ``temperature`` a number in
    ``[0.001, 1000]``, ``condition`` as declared by the model; the family's
    options are ``SAMPLE_OPTIONS``. Every size is bounded by what it
    allocates (``max_samples``, ``max_length``, ``max_sample_elements``).
    """
    condition = deprecated_alias(condition, labels, "labels", "condition", "sample")
    if not self.can_sample:
      raise ValueError(f"{type(self).__name__} does not sample on its own: "
                       f"{self.cannot_sample_reason}")
    n = self._check_n(n)
    encoded = self._encode_condition(condition, n)
    return tf.cast(self.sample_encoded(n, seed, temperature, encoded, **options),
                   self.data_dtype)

  def sample_encoded(self, n, seed, temperature, condition, **options):
    """The one validated sampling path: ``sample``, the served ``sample``
    signature and composite models (which draw from the models they are
    built of) all come here.

    Unlike :meth:`sample`, ``condition`` is already encoded (as
    ``_encode_condition`` returns it), and every argument may be a tensor
    (checked in the graph). Returns the family's samples (int32 codes).
    """
    unknown = sorted(set(options) - set(self.SAMPLE_OPTIONS))
    if unknown:
      raise ValueError(f"{type(self).__name__}.sample does not take {', '.join(unknown)}; its "
                       f"options are: {', '.join(self.SAMPLE_OPTIONS) or 'none'}.")
    n = self._check_n(n)
    if isinstance(temperature, (tf.Tensor, tf.Variable)):
      temperature = _validation.positive_finite(tf.cast(temperature, tf.float32), "temperature")
    else:
      temperature = tf.constant(_validation.temperature(temperature))
    seed = _validation.seed(seed)
    length = options.get("length")
    if self.is_sequence and length is not None:
      if isinstance(length, (tf.Tensor, tf.Variable)):
        options["length"] = length = _validation.in_range(length, 1, self.max_length, "length")
      elif isinstance(length, bool) or not isinstance(length, (int, np.integer)):
        raise ValueError(f"`length` must be a positive integer, got {length!r}.")
      elif not 1 <= length <= self.max_length:
        raise ValueError(f"`length` must be in [1, {self.max_length}], got {length}.")
    n = self._check_elements(n, self._sample_elements(options))
    return self._sample(n, seed, temperature, condition, **options)

  def _check_n(self, n):
    """``n`` as a Python int or a checked int32 scalar tensor in ``[1, max_samples]``."""
    if isinstance(n, (tf.Tensor, tf.Variable)):
      if n.shape.rank not in (None, 0) or not n.dtype.is_integer:
        raise ValueError(f"`n` must be an integer scalar, got a {n.dtype.name} tensor of "
                         f"shape {n.shape}.")
      return _validation.in_range(tf.cast(n, tf.int32), 1, self.max_samples, "n")
    n = _validation.positive_int(n, "n")
    if n > self.max_samples:
      raise ValueError(f"`n` must be at most {self.max_samples} (max_samples), got {n}; "
                       "draw large numbers of samples in batches.")
    return n

  def _check_elements(self, n, per_sample):
    """Refuses a draw of more than ``max_sample_elements`` (``n × per_sample``)."""
    if isinstance(n, int) and isinstance(per_sample, (int, np.integer)):
      size = n * int(per_sample)
      if size > self.max_sample_elements:
        raise ValueError(f"{n} samples need {size:,} random numbers, more than "
                         f"max_sample_elements={self.max_sample_elements:,}; draw fewer at a "
                         "time.")
      return n
    size = tf.cast(n, tf.int64) * tf.cast(per_sample, tf.int64)
    return _validation.at_least(n, self.max_sample_elements, size,
                                f"num_samples × dims × levels must be at most "
                                f"max_sample_elements={self.max_sample_elements}.")

  def sample_options(self):
    """The family options ``sample`` takes (``SAMPLE_OPTIONS``)."""
    return list(self.SAMPLE_OPTIONS)

  def _sample(self, n, seed, temperature, condition, **options):
    """Samples as int codes: ``n`` an int or int32 scalar tensor, ``seed`` an
    int32 ``[2]`` tensor, ``temperature`` a float32 tensor, ``condition``
    encoded; ``options`` are among ``SAMPLE_OPTIONS``."""
    raise NotImplementedError

  def _sample_elements(self, options):
    """Memory one sample drawn with ``options`` needs, in floats: by default
    its Gumbel noise, ``dims × levels`` (``length`` fills a free event
    dimension). Families whose sampler keeps more (a key/value cache, more
    frames) count that too."""
    length = options.get("length")
    length = 1 if length is None else length
    dims = 1
    for d in self.event_shape:
      dims = dims * (length if d is None else d)
    return dims * (self.num_levels or 1)

  # -- building ----------------------------------------------------------------

  @classmethod
  def from_dataset(cls, spec, **sizes):
    """A new model for ``spec`` (a ``tfgen.data.DatasetSpec``) with size
    arguments ``sizes``. ValueError if the model does not take data of
    ``spec.kind`` (``DATA_KINDS``)."""
    if spec.kind not in cls.DATA_KINDS:
      raise ValueError(f"{cls.__name__} models {'/'.join(cls.DATA_KINDS)} data; dataset "
                       f"{spec.name!r} is {spec.kind}.")
    if spec.num_levels is None and not cls.REAL_VALUED:
      raise ValueError(f"{cls.__name__} models discrete data; dataset {spec.name!r} holds real "
                       "values (the flows over vectors take them: maf, iaf, realnvp, nice).")
    return cls._from_dataset(spec, **sizes)

  @classmethod
  def _from_dataset(cls, spec, **sizes):
    """Fixed-shape data: ``cls(spec.shape, num_levels=…, **sizes)``;
    sequences: ``cls(num_levels=…, **sizes)``."""
    if spec.shape:
      return cls(tuple(spec.shape), num_levels=spec.num_levels, **sizes)
    return cls(num_levels=spec.num_levels, **sizes)

  def get_config(self):
    """The constructor arguments; subclasses add theirs to this dict."""
    return {"name": self.name}

  @classmethod
  def from_config(cls, config, custom_objects=None):
    return cls(**config)

  # -- serving and reporting -------------------------------------------------------

  def serving_functions(self):
    """The exported signatures, ``{name: ServingFunction}``: here ``sample``
    (see :func:`tfgen.export.signatures.sample_signature`) when
    ``can_sample``. Families add theirs to this dict."""
    return {"sample": signatures.sample_signature(self)} if self.can_sample else {}

  def describe(self, result, spec=None):
    """One line on an ``evaluate`` result (``{metric: value}``) of data ``spec``."""
    return ", ".join(f"{k} {v:.4f}" for k, v in result.items())

  def preview(self, x):
    """Images that show the model on data batch ``x`` (e.g. originals beside
    reconstructions), in data form; ``None`` when it has none."""
    return None


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

  **As a TFP distribution.** ``distribution`` (unconditional models) and
  ``distribution_given(condition)`` are ``tfd.Distribution``\ s with TFP's
  shape semantics (:mod:`tfgen.distributions`), built from this contract
  alone: a family gets them with no code of its own.

  **Data** are integers in ``[0, num_levels)``, or, when ``num_levels`` is
  None (``is_continuous``), finite float32 vectors (the flows over vectors).

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

  **Subclasses** set ``event_shape`` and ``num_levels`` (``num_dims`` follows
  from the shape), declare ``num_classes`` / ``condition_shape`` through
  :meth:`_set_condition`, ``SAMPLE_OPTIONS``, ``DATA_KINDS`` and
  ``TEST_SIZES``, and implement
  ``_log_prob(x, condition, training)`` (``x`` validated int32, ``condition``
  encoded by :meth:`_encode_condition`) and ``_sample(n, seed, temperature,
  condition, **options)`` with tensor ``seed`` and ``temperature`` (and
  ``n`` an int or, when served, an int32 scalar tensor).

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

  def log_prob(self, x, condition=None, *, training=False, labels=MISSING, **options):
    """Per-example log-likelihood (nats) of discrete data ``x``, shape ``[batch]``."""
    condition = deprecated_alias(condition, labels, "labels", "condition", "log_prob")
    x = self._check_data(x)
    encoded = self._encode_condition(condition, tf.shape(x)[0])
    with one_pass():
      return self._log_prob(x, encoded, training=training, **options)

  def log_prob_encoded(self, x, condition, *, training=False, **options):
    """The validated core of :meth:`log_prob` for composite models (a code
    prior scoring its codes, a video model its frames): ``x`` is checked
    as data, ``condition`` is already encoded (as ``_encode_condition``
    returns it) and may be any ``[batch, condition_size]`` float tensor."""
    with one_pass():
      return self._log_prob(self._check_data(x), condition, training=training, **options)

  def bits_per_dim(self, x, condition=None, *, labels=MISSING, **options):
    """Per-example ``−log₂ p(x) / D`` of discrete data ``x``."""
    condition = deprecated_alias(condition, labels, "labels", "condition", "bits_per_dim")
    lp = self.log_prob(x, condition, **options)
    return bits_per_dim(lp, self._event_dims(tf.convert_to_tensor(x)))

  def conditionals(self, x, condition=None, *, labels=MISSING):
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

  # -- as a TFP distribution -------------------------------------------------------

  @property
  def distribution(self):
    """``p(x)`` as a ``tfd.Distribution`` with TFP's shape semantics (a
    :class:`tfgen.distributions.ModelDistribution`), for unconditional
    models; a conditional model's is :meth:`distribution_given`."""
    if self.condition_spec is not None:
      raise ValueError(f"{self.name} is conditional: use `model.distribution_given(condition)` "
                       f"({_validation.describe_condition(self.num_classes, self.condition_shape)}"
                       ", with any leading batch shape).")
    return distributions.of(self)

  def distribution_given(self, condition=None, *, length=None, validate_args=False, name=None):
    """``p(x | condition)`` as a ``tfd.Distribution`` whose batch shape is the
    condition's leading shape (``[]`` for an unconditional model and
    ``condition=None``). ``length`` fixes the length of a sequence model's
    samples. See :class:`tfgen.distributions.ModelDistribution`."""
    return distributions.of(self, condition, length=length, validate_args=validate_args,
                            name=name)

  # -- serving -----------------------------------------------------------------

  def serving_functions(self):
    """The exported signatures: ``{name: ServingFunction}``.

    ``serving_default`` maps ``x`` (int32) to ``log_prob`` and
    ``bits_per_dim`` (:func:`tfgen.export.signatures.log_prob_signature`);
    ``sample`` is :meth:`GenerativeModel.serving_functions`'. Conditional
    models take ``condition`` in both. Every input is checked in the graph.
    """
    return {"serving_default": signatures.log_prob_signature(self),
            **super().serving_functions()}

  def _fixed_log_prob(self, x, condition):
    """``log_prob`` as served and as :attr:`distribution` gives it:
    deterministic, and each example's depends on that example alone (flows
    fix their dequantization noise). ``x`` is checked data, ``condition``
    encoded."""
    return self._log_prob(x, condition)

  def _sample_and_log_prob(self, n, seed, condition, **options):
    """``n`` samples (as ``sample_encoded`` returns them) and their
    :meth:`_fixed_log_prob`. By default it draws and then scores; a flow
    keeps the log-det of the draw instead (one pass, for IAF too)."""
    x = self.sample_encoded(n, seed, 1.0, condition, **options)
    with one_pass():
      return x, self._fixed_log_prob(x, condition)

  def _event_dims(self, x):
    """``D`` for bits/dim: scored dimensions per example of batch ``x``."""
    return float(self.num_dims)

  # -- lossless coding (tfgen.compression) --------------------------------------------

  #: Sample options of the path that codes: the cached step where a family has one.
  CODING_OPTIONS = {"method": "cached"}

  @property
  def cannot_code_reason(self):
    """Why :mod:`tfgen.compression` cannot code this model's data, or None.

    A model codes when its likelihood is a product of discrete conditionals
    and its sampler draws each position once, through
    :func:`tfgen.autoregressive.sampling.gumbel_argmax`, with noise laid out
    like its data (checked again on every run). Families whose likelihood
    is not such a product say why here."""
    if self.is_continuous:
      return "its data are real-valued: a discrete coder needs integer data."
    if not self.can_sample:
      return self.cannot_sample_reason
    return None

  def coding_options(self, x_shape):
    """The ``sample_encoded`` options that code a batch of shape ``x_shape``:
    :attr:`CODING_OPTIONS` among the family's ``SAMPLE_OPTIONS``, and
    ``length`` for sequences."""
    options = {k: v for k, v in self.CODING_OPTIONS.items() if k in self.SAMPLE_OPTIONS}
    if self.is_sequence:
      options["length"] = int(x_shape[1])
    return options

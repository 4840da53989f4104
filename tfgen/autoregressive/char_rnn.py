"""Character-level recurrent language models (char-RNN), with scheduled sampling."""

import tensorflow as tf
import tensorflow_probability as tfp

from tfgen import _validation
from tfgen._keras import keras
from tfgen.autoregressive import sampling
from tfgen.autoregressive.scheduled_sampling import DECAYS, ScheduledSampling
from tfgen.base import LikelihoodModel
from tfgen.family import ModelFamily, SizeOption

tfd = tfp.distributions

CELLS = ("lstm", "gru")


class CharRNN(LikelihoodModel):
  """A recurrent autoregressive model of integer sequences (bytes by default).

  ``p(x) = ∏_t Categorical(x_t | softmax(W h_t + b))`` with
  ``h_t = RNN(h_{t−1}, e(x_{t−1}))``: ``num_layers`` stacked LSTM or GRU
  layers of ``units``, over an embedding of the previous token (a learned
  start token ``e(BOS)`` at ``t = 0``). The condition, if any (class ids or
  vectors, e.g. an image embedding for captioning), **sets the initial
  state** of every layer through a learned ``tanh`` projection; it is not
  fed at every step.

  Training is **teacher forcing** by default: the input at ``t`` is the true
  ``x_{t−1}``, and the whole window runs through Keras's fused recurrent
  layers. With ``scheduled_sampling`` (Bengio et al. 2015) the training
  pass instead steps the cells one token at a time and, at each step, feeds
  the model's own sample of the previous token with probability
  ``1 − ε_i`` (``ε_i`` from :class:`ScheduledSampling`, decaying with the
  optimizer's step). As in the paper, gradients flow through the states and
  logits but not through the sampling decision. ``log_prob`` with
  ``training=False`` (``evaluate``) is always the exact teacher-forced
  likelihood.

  ``sample(n, length=T, prime=...)`` generates step by step from the
  recurrent state (the cache: one cell step per token); ``method='naive'``
  reruns the recurrence over the whole prefix for every token. Both read
  the same Gumbel noise, so they return the same codes for a seed. The
  result starts with ``prime`` (bytes, a str or codes) when given.

  Args:
    num_levels: ``K``; data are integers in ``[0, K)`` (256: bytes).
    cell: ``'lstm'`` or ``'gru'``.
    units: state size of every layer.
    num_layers: stacked recurrent layers.
    embedding_dim: token embedding size (default ``min(units, 128)``).
    dropout: dropout between layers and before the output, in training.
    num_classes, condition_shape: conditional on class ids or float vectors.
    scheduled_sampling: ``None`` (teacher forcing), a decay name
      (``'linear'``, ``'exponential'``, ``'inverse_sigmoid'``), a dict of
      :class:`ScheduledSampling` arguments, or a ScheduledSampling.

  Example:

  >>> model = CharRNN(units=256, num_layers=2)
  >>> model.compile(tfgen.training.default_optimizer(2e-3))
  >>> model.fit(tfgen.data.load("fortunes", batch_size=32, window=256), steps_per_epoch=500)
  >>> text = model.sample(1, length=400, prime="Q: ", seed=1, temperature=0.8)

  References:
    - Graves (2013). Generating Sequences With Recurrent Neural Networks. arXiv:1308.0850.
    - Bengio, Vinyals, Jaitly & Shazeer (2015). Scheduled Sampling for Sequence Prediction
      with Recurrent Neural Networks. arXiv:1506.03099.
  """

  DATA_KINDS = ("text", "audio")

  def __init__(self, num_levels=256, cell="lstm", units=512, num_layers=2, embedding_dim=None,
               dropout=0.0, num_classes=None, condition_shape=None, scheduled_sampling=None,
               name="char_rnn", **kwargs):
    super().__init__(name=name, **kwargs)
    self.num_levels = _validation.positive_int(num_levels, "num_levels")
    if self.num_levels < 2:
      raise ValueError(f"`num_levels` must be at least 2, got {num_levels}.")
    self.cell = _validation.one_of(cell, "cell", set(CELLS))
    self.units = _validation.positive_int(units, "units")
    self.num_layers = _validation.positive_int(num_layers, "num_layers")
    self.embedding_dim = _validation.positive_int(
        min(self.units, 128) if embedding_dim is None else embedding_dim, "embedding_dim")
    if not (isinstance(dropout, (int, float)) and 0 <= dropout < 1):
      raise ValueError(f"`dropout` must lie in [0, 1), got {dropout!r}.")
    self.dropout = float(dropout)
    self.schedule = ScheduledSampling.from_spec(scheduled_sampling)
    self._set_condition(num_classes, condition_shape)
    self.event_shape = (None,)
    self.embed = keras.layers.Embedding(self.num_levels + 1, self.embedding_dim, name="embed")
    layer = keras.layers.LSTM if self.cell == "lstm" else keras.layers.GRU
    self.rnns = [layer(self.units, return_sequences=True, return_state=True, name=f"rnn_{n}")
                 for n in range(self.num_layers)]
    self.drop = keras.layers.Dropout(self.dropout)
    self.head = keras.layers.Dense(self.num_levels, name="head")
    self._states_per_layer = 2 if self.cell == "lstm" else 1
    self.initial = ([keras.layers.Dense(self.units * self._states_per_layer, activation="tanh",
                                        name=f"initial_{n}") for n in range(self.num_layers)]
                    if self.condition_size else [])
    cond = None if self.condition_size is None else tf.zeros([1, self.condition_size])
    self._logits(tf.zeros([1, 2], tf.int32), cond)  # build every weight now
    self.built = True


  @property
  def default_window(self):
    return 256

  # -- the network -----------------------------------------------------------------

  @property
  def bos(self):
    """The start token's index in the embedding (one past the data levels)."""
    return self.num_levels

  def _initial_states(self, condition, batch):
    """Per layer, the list of initial state tensors ``[B, units]``."""
    if condition is None:
      zeros = tf.zeros(tf.stack([batch, self.units]), self.rnns[0].compute_dtype)
      return [[zeros] * self._states_per_layer for _ in range(self.num_layers)]
    return [tf.split(proj(condition), self._states_per_layer, axis=-1) for proj in self.initial]

  def _inputs(self, x):
    """Teacher forcing: the input at ``t`` is ``x_{t−1}`` (BOS at ``t = 0``)."""
    bos = tf.fill(tf.stack([tf.shape(x)[0], 1]), self.bos)
    return tf.concat([bos, x[:, :-1]], axis=1)

  def _logits(self, x, condition, training=False):
    """Teacher-forced logits ``[B, T, K]`` through the fused recurrent layers."""
    h = self.embed(self._inputs(x))
    states = self._initial_states(condition, tf.shape(x)[0])
    for n, rnn in enumerate(self.rnns):
      h = rnn(h, initial_state=states[n], training=training)[0]
      h = self.drop(h, training=training)
    return tf.cast(self.head(h), tf.float32)

  def _step(self, token, states, training=False):
    """One token ``[B]`` through every cell: ``(logits [B, K], new states)``."""
    h = self.embed(token)
    new = []
    for n, rnn in enumerate(self.rnns):
      h, layer_states = rnn.cell(h, states[n])
      h = self.drop(h, training=training)
      new.append(tf.nest.flatten(layer_states))
    return tf.cast(self.head(h), tf.float32), new

  # -- likelihood --------------------------------------------------------------------

  def _conditionals(self, x, condition):
    """``Independent(Categorical)`` over the sequence: each ``p(x_t | x_<t)`` given ``x``."""
    return tfd.Independent(tfd.Categorical(logits=self._logits(x, condition)), 1)

  def _log_prob(self, x, condition, training=False):
    if training and self.schedule is not None:
      logits = self._scheduled_logits(x, condition, training)
    else:
      logits = self._logits(x, condition, training=training)
    return tf.reduce_sum(tfd.Categorical(logits=logits).log_prob(x), axis=1)

  def _event_dims(self, x):
    return tf.cast(tf.shape(x)[1], tf.float32)

  def _scheduled_logits(self, x, condition, training):
    """Logits of a scheduled-sampling pass: at step ``t`` the input is the true
    ``x_{t−1}`` with probability ``ε_i``, else the model's own sample of it."""
    batch, steps = tf.shape(x)[0], tf.shape(x)[1]
    step = self._step_count()
    eps = self.schedule(step)
    seed = tf.stack([tf.cast(step % (2 ** 31 - 1), tf.int32), 7919])
    coins = tf.random.stateless_uniform(tf.stack([batch, steps]), seed=seed)
    noise = sampling.gumbel_noise(tf.stack([batch, steps, self.num_levels]), seed + 1)
    states = self._initial_states(condition, batch)
    flat_states = tf.nest.flatten(states)
    out = tf.TensorArray(tf.float32, size=steps)

    def body(t, token, flat, out):
      logits, new = self._step(token, tf.nest.pack_sequence_as(states, flat), training)
      own = tf.stop_gradient(sampling.gumbel_argmax(logits, noise[:, t], 1.))
      truth = tf.gather(x, t, axis=1)
      fed = tf.where(coins[:, t] < eps, truth, own)
      return t + 1, fed, tf.nest.flatten(new), out.write(t, logits)

    token = tf.fill(tf.stack([batch]), self.bos)
    _, _, _, out = tf.while_loop(lambda t, *_: t < steps, body, (0, token, flat_states, out))
    return tf.transpose(out.stack(), [1, 0, 2])

  # -- sampling ----------------------------------------------------------------------

  SAMPLE_OPTIONS = ("length", "prime", "method")

  def _sample(self, n, seed, temperature, condition, length=None, prime=None, method="cached"):
    """``n`` sequences of ``length`` codes, starting with ``prime`` if given;
    ``method`` ``'cached'`` (one cell step per token) or ``'naive'``."""
    if length is None:
      raise ValueError("CharRNN.sample needs `length`, the number of codes per sequence.")
    _validation.one_of(method, "method", {"cached", "naive"})
    prime = (tf.zeros([0], tf.int32) if prime is None
             else sampling.as_prime(prime, self.num_levels, length))
    noise = sampling.gumbel_noise(tf.stack([n, length, self.num_levels]), seed)
    states = self._initial_states(condition, n)
    fn = self._cached_fn if method == "cached" else self._naive_fn
    return fn(noise, temperature, tf.nest.flatten(states), prime)

  @tf.function(reduce_retracing=True)
  def _cached_fn(self, noise, temperature, flat_states, prime):
    n, length = tf.shape(noise)[0], tf.shape(noise)[1]
    structure = [flat_states[i:i + self._states_per_layer]
                 for i in range(0, len(flat_states), self._states_per_layer)]

    def body(t, token, flat, codes):
      logits, new = self._step(token, tf.nest.pack_sequence_as(structure, flat))
      value = sampling.primed(t, prime, sampling.gumbel_argmax(logits, noise[:, t], temperature))
      return t + 1, value, tf.nest.flatten(new), sampling.put_step(codes, t, value)

    token = tf.fill(tf.stack([n]), self.bos)
    codes = tf.zeros(tf.stack([n, length]), tf.int32)
    return tf.while_loop(lambda t, *_: t < length, body, (0, token, flat_states, codes))[3]

  @tf.function(reduce_retracing=True)
  def _naive_fn(self, noise, temperature, flat_states, prime):
    n, length = tf.shape(noise)[0], tf.shape(noise)[1]
    structure = [flat_states[i:i + self._states_per_layer]
                 for i in range(0, len(flat_states), self._states_per_layer)]

    def state_at(t, codes):
      """Reruns the recurrence over codes[:, :t] from the initial state."""
      def inner(s, token, flat):
        logits, new = self._step(token, tf.nest.pack_sequence_as(structure, flat))
        nxt = tf.gather(codes, tf.minimum(s, length - 1), axis=1)
        return s + 1, nxt, tf.nest.flatten(new)
      start = tf.fill(tf.stack([n]), self.bos)
      _, token, flat = tf.while_loop(lambda s, *_: s < t, inner, (0, start, flat_states))
      return token, flat

    def body(t, codes):
      token, flat = state_at(t, codes)
      logits, _ = self._step(token, tf.nest.pack_sequence_as(structure, flat))
      value = sampling.primed(t, prime, sampling.gumbel_argmax(logits, noise[:, t], temperature))
      return t + 1, sampling.put_step(codes, t, value)

    codes = tf.zeros(tf.stack([n, length]), tf.int32)
    return tf.while_loop(lambda t, _: t < length, body, (0, codes))[1]

  def get_config(self):
    return {**super().get_config(), "num_levels": self.num_levels, "cell": self.cell,
            "units": self.units, "num_layers": self.num_layers,
            "embedding_dim": self.embedding_dim, "dropout": self.dropout,
            "num_classes": self.num_classes, "condition_shape": self.condition_shape,
            "scheduled_sampling": None if self.schedule is None else self.schedule.get_config()}


FAMILY = ModelFamily(
    "char_rnn", CharRNN, "Karpathy 2015 (char-rnn); Bengio et al. 2015, Scheduled Sampling for "
    "Sequence Prediction with Recurrent Neural Networks", "fortunes",
    demo=dict(cell="lstm", units=256, num_layers=2),
    sizes=(SizeOption("units", "units", int, "recurrent state size"),
           SizeOption("num-layers", "num_layers", int, "recurrent layers"),
           SizeOption("cell", "cell", str, f"recurrent cell: {' or '.join(CELLS)}"),
           SizeOption("scheduled-sampling", "scheduled_sampling", str,
                      f"scheduled-sampling decay: {', '.join(DECAYS)}")),
    tiny=dict(num_levels=8, units=4, num_layers=1))

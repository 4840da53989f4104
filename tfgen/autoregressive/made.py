"""MADE (Germain et al. 2015) over discrete vectors, via TFP's AutoregressiveNetwork."""

import numpy as np
import tensorflow as tf
import tensorflow_probability as tfp

from tfgen import _validation
from tfgen.autoregressive.sampling import gumbel_noise
from tfgen.base import LikelihoodModel

tfb, tfd = tfp.bijectors, tfp.distributions

ORDERS = ("left-to-right", "right-to-left", "random")


class MADE(LikelihoodModel):
  """Masked Autoencoder for Distribution Estimation on ``[B, D]`` integer data.

  ``p(x) = ∏_d p(x_{π(d)} | x_{π(<d)})`` for the ordering ``π`` given by
  ``input_order``. One masked MLP (``tfp.bijectors.AutoregressiveNetwork``)
  outputs all ``D`` conditionals at once: ``Bernoulli`` for binary data
  (``num_levels=2``) and a ``num_levels``-way ``Categorical`` otherwise.
  ``model(x)`` returns their ``tfd.Independent`` over the vector, so
  ``log_prob`` is exact. Sampling takes ``D`` sequential passes.

  Args:
    event_size: ``D``.
    hidden_units: widths of the masked hidden layers.
    num_levels: ``K``; data are integers in ``[0, K)``.
    input_order: ``'left-to-right'``, ``'right-to-left'``, ``'random'``
      (drawn from ``seed``), or a permutation of ``range(D)`` listing the
      dimensions in generation order.
    conditional_size: length of an optional conditioning vector (e.g. a
      class one-hot), passed as ``labels``.

  Order-agnostic training over several orderings (MADE §3.4) is not
  implemented; one ordering per model.
  """

  def __init__(self, event_size, hidden_units=(512,), num_levels=2,
               input_order="left-to-right", conditional_size=None, seed=None, name="made",
               **kwargs):
    _validation.full_precision("MADE")
    super().__init__(name=name, **kwargs)
    self.event_size = _validation.positive_int(event_size, "event_size")
    self.num_levels = _validation.positive_int(num_levels, "num_levels")
    if self.num_levels < 2:
      raise ValueError(f"`num_levels` must be at least 2, got {num_levels}.")
    self.hidden_units = [_validation.positive_int(u, "hidden_units entry") for u in hidden_units]
    self.conditional_size = (None if conditional_size is None else
                             _validation.positive_int(conditional_size, "conditional_size"))
    self.order = self._order(input_order, seed)
    self.num_dims = self.event_size
    degrees = np.empty(self.event_size, np.int32)
    degrees[self.order] = np.arange(1, self.event_size + 1)  # 1-based position in the order
    self.network = tfb.AutoregressiveNetwork(
        params=1 if self.num_levels == 2 else self.num_levels, event_shape=[self.event_size],
        hidden_units=self.hidden_units, input_order=degrees, activation="relu",
        conditional=self.conditional_size is not None,
        conditional_event_shape=None if self.conditional_size is None else [conditional_size])
    self._params(tf.zeros([1, self.event_size], tf.int32),
                 None if conditional_size is None else tf.zeros([1, conditional_size]))
    self.built = True

  def _order(self, input_order, seed):
    d = self.event_size
    if isinstance(input_order, str):
      _validation.one_of(input_order, "input_order", set(ORDERS))
      if input_order == "left-to-right":
        return np.arange(d)
      if input_order == "right-to-left":
        return np.arange(d)[::-1].copy()
      return np.random.default_rng(seed).permutation(d)
    order = np.asarray(input_order)
    if order.shape != (d,) or sorted(order.tolist()) != list(range(d)):
      raise ValueError(f"`input_order` must be one of {list(ORDERS)} or a permutation of "
                       f"range({d}), got {input_order!r}.")
    return order

  def _condition(self, labels, batch):
    if self.conditional_size is None:
      if labels is not None:
        raise ValueError("`labels` were given, but this model is unconditional.")
      return None
    if labels is None:
      raise ValueError(f"This model is conditional; pass `labels` of shape "
                       f"[batch, {self.conditional_size}].")
    labels = tf.convert_to_tensor(labels, tf.float32)
    _validation.static_shape(labels, [self.conditional_size], "labels")
    return labels

  def _params(self, x, condition):
    inputs = tf.cast(x, tf.float32) * (2. / (self.num_levels - 1)) - 1.
    out = self.network(inputs, conditional_input=condition)
    return out[..., 0] if self.num_levels == 2 else out

  def call(self, inputs, labels=None, training=False):
    if isinstance(inputs, (tuple, list)):
      inputs, labels = inputs
    x = _validation.discrete_batch(inputs, [self.event_size], self.num_levels, name="x")
    params = self._params(x, self._condition(labels, x.shape[0]))
    if self.num_levels == 2:
      return tfd.Independent(tfd.Bernoulli(logits=params), reinterpreted_batch_ndims=1)
    return tfd.Independent(tfd.Categorical(logits=params), reinterpreted_batch_ndims=1)

  def log_prob(self, x, labels=None, training=False):
    x = _validation.discrete_batch(x, [self.event_size], self.num_levels, name="x")
    return self(x, labels=labels).log_prob(x)

  def sample(self, n, seed=None, temperature=1.0, labels=None):
    """``n`` samples (int32 ``[n, D]``) in ``D`` sequential network passes.

    With Gumbel noise fixed by ``seed``, pass ``d`` settles the ``d``-th
    dimension of the ordering; after ``D`` passes the sample is exact.
    """
    n = _validation.positive_int(n, "n")
    temperature = _validation.temperature(temperature)
    seed = _validation.seed(seed)
    condition = self._condition(labels, n)
    noise = gumbel_noise([n, self.event_size, self.num_levels], seed)
    return self._sample_fn(tf.zeros([n, self.event_size], tf.int32), noise,
                           tf.constant(temperature), condition)

  def sample_graph(self, n, seed, temperature, condition=None):
    """Sampling with tensor arguments (for export)."""
    noise = gumbel_noise(tf.stack([n, self.event_size, self.num_levels]), seed)
    return self._sample_fn(tf.zeros(tf.stack([n, self.event_size]), tf.int32), noise,
                           temperature, condition)

  def encode_condition(self, labels, batch=None):
    return self._condition(labels, batch)

  @tf.function(reduce_retracing=True)
  def _sample_fn(self, x, noise, temperature, condition):
    def body(step, x):
      params = self._params(x, condition)
      logits = (tf.stack([tf.zeros_like(params), params], -1) if self.num_levels == 2
                else params)
      return step + 1, tf.argmax(logits / temperature + noise, -1, output_type=tf.int32)
    return tf.while_loop(lambda s, _: s < self.event_size, body, (0, x))[1]

  def get_config(self):
    return {"event_size": self.event_size, "hidden_units": self.hidden_units,
            "num_levels": self.num_levels, "input_order": self.order.tolist(),
            "conditional_size": self.conditional_size}

"""MADE (Germain et al. 2015) over discrete vectors, via TFP's AutoregressiveNetwork."""

import numpy as np
import tensorflow as tf
import tensorflow_probability as tfp

from tfgen import _validation
from tfgen.autoregressive.sampling import gumbel_argmax, gumbel_noise, put_step
from tfgen._deprecation import MISSING, deprecated_alias
from tfgen.base import LikelihoodModel
from tfgen.family import ModelFamily, SizeOption, int_list
from tfgen.layers.masked_mlp import MaskedMLP

tfb, tfd = tfp.bijectors, tfp.distributions

ORDERS = ("left-to-right", "right-to-left", "random")


class MADE(LikelihoodModel):
  """Masked Autoencoder for Distribution Estimation on discrete vectors.

  ``p(x) = ∏_d p(x_{π(d)} | x_{π(<d)})`` for the ordering ``π`` given by
  ``input_order``. One masked MLP (``tfp.bijectors.AutoregressiveNetwork``)
  outputs all ``D`` conditionals at once: ``Bernoulli`` for binary data
  (``num_levels=2``) and a ``num_levels``-way ``Categorical`` otherwise, so
  ``log_prob`` is exact in one pass; sampling takes ``D`` passes.
  ``conditionals(x)`` returns their ``tfd.Independent`` over the event.

  Args:
    event_size: ``D``, or an event shape (for example ``(28, 28, 1)``): the
      data then keep that shape in ``log_prob`` and ``sample`` and are
      flattened in raster order inside.
    hidden_units: widths of the masked hidden layers.
    num_levels: ``K``; data are integers in ``[0, K)``.
    input_order: ``'left-to-right'``, ``'right-to-left'``, ``'random'``
      (drawn from ``seed``), or a permutation of ``range(D)`` listing the
      dimensions in generation order.
    num_classes, condition_shape: make it conditional on class ids or float
      vectors (the deprecated ``conditional_size=k`` is
      ``condition_shape=(k,)``).

    num_masks: ``k > 1`` is order- and connectivity-agnostic MADE (§3.4):
      ``k`` orderings (the first is ``input_order``) and connectivities
      share one set of weights (:class:`tfgen.layers.MaskedMLP`). Training
      draws one mask per minibatch; ``log_prob`` outside training is the
      exact log-likelihood of the ensemble, ``log (1/k) Σ_m p_m(x)``, and
      ``sample`` draws from that same mixture (a mask per sample, then its
      ordering). ``log_prob(x, mask=m)`` scores one member.

  References:
    - Germain, Gregor, Murray & Larochelle (2015). MADE: Masked Autoencoder for Distribution
      Estimation. arXiv:1502.03509.
  """

  DATA_KINDS = ("image", "table")

  def __init__(self, event_size, hidden_units=(512,), num_levels=2,
               input_order="left-to-right", num_classes=None, condition_shape=None, seed=None,
               num_masks=1, name="made", conditional_size=MISSING, **kwargs):
    old = MISSING if conditional_size in (MISSING, None) else (conditional_size,)
    condition_shape = deprecated_alias(condition_shape, old, "conditional_size",
                                       "condition_shape", "MADE")
    super().__init__(name=name, **kwargs)
    self.event_shape = _validation.event_shape(event_size)
    self.event_size = int(np.prod(self.event_shape))
    self.num_levels = _validation.positive_int(num_levels, "num_levels")
    if self.num_levels < 2:
      raise ValueError(f"`num_levels` must be at least 2, got {num_levels}.")
    self.hidden_units = [_validation.positive_int(u, "hidden_units entry") for u in hidden_units]
    self._set_condition(num_classes, condition_shape)
    self.order = self._order(input_order, seed)
    self.num_masks = _validation.positive_int(num_masks, "num_masks")
    params = 1 if self.num_levels == 2 else self.num_levels
    widths = [self.event_size] + self.hidden_units + [self.event_size * params]
    mask_entries = self.num_masks * sum(a * b for a, b in zip(widths, widths[1:]))
    if self.num_masks > 1 and mask_entries > self.max_mask_entries:
      raise ValueError(f"`num_masks`={self.num_masks} masks of this network hold "
                       f"{mask_entries:,} entries, more than max_mask_entries="
                       f"{self.max_mask_entries:,}; use fewer masks.")
    self.seed = seed
    degrees = np.empty(self.event_size, np.int32)
    degrees[self.order] = np.arange(1, self.event_size + 1)  # 1-based position in the order
    if self.num_masks > 1:
      self.network = MaskedMLP(self.event_size, self.hidden_units,
                               params=1 if self.num_levels == 2 else self.num_levels,
                               num_masks=self.num_masks, order=self.order, seed=seed or 0,
                               condition_size=self.condition_size, name="masked_mlp")
    else:
      self.network = tfb.AutoregressiveNetwork(
          params=1 if self.num_levels == 2 else self.num_levels, event_shape=[self.event_size],
          hidden_units=self.hidden_units, input_order=degrees, activation="relu",
          conditional=self.condition_size is not None,
          conditional_event_shape=None if self.condition_size is None else [self.condition_size],
          # TFP builds its masked Dense layers in the network's own dtype: under
          # a mixed-precision policy this network still computes in float32.
          dtype="float32")
    self._params(tf.zeros([1, self.event_size], tf.int32),
                 None if self.condition_size is None else tf.zeros([1, self.condition_size]))
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

  def _params(self, flat, condition, mask=0):
    inputs = tf.cast(flat, tf.float32) * (2. / (self.num_levels - 1)) - 1.
    if self.num_masks > 1:
      out = self.network(inputs, mask=mask, condition=condition)
    else:
      out = self.network(inputs, conditional_input=condition)
    return out[..., 0] if self.num_levels == 2 else out

  def _flat(self, x):
    return tf.reshape(x, tf.stack([tf.shape(x)[0], self.event_size]))

  def _distribution(self, flat, condition, mask=0):
    params = self._params(flat, condition, mask)
    if self.num_levels == 2:
      return tfd.Independent(tfd.Bernoulli(logits=params), reinterpreted_batch_ndims=1)
    return tfd.Independent(tfd.Categorical(logits=params), reinterpreted_batch_ndims=1)

  def _conditionals(self, x, condition):
    """``Independent(Bernoulli | Categorical)`` over the flat event, given ``x``."""
    return self._distribution(self._flat(x), condition)

  #: Upper bound on ``num_masks`` × the network's weight count (the masks are stored).
  max_mask_entries = 2 ** 28

  def _check_mask(self, mask):
    """``mask`` (which ensemble member scores ``x``): an int in ``[0, num_masks)``."""
    if isinstance(mask, (tf.Tensor, tf.Variable)):
      if mask.shape.rank not in (None, 0) or not mask.dtype.is_integer:
        raise ValueError(f"`mask` must be an integer scalar, got a {mask.dtype.name} tensor "
                         f"of shape {mask.shape}.")
      return _validation.in_range(mask, 0, self.num_masks - 1, "mask")
    if isinstance(mask, bool) or not isinstance(mask, (int, np.integer)) \
        or not 0 <= mask < self.num_masks:
      raise ValueError(f"`mask` must be an integer in [0, {self.num_masks - 1}] (this MADE has "
                       f"num_masks={self.num_masks}), got {mask!r}.")
    return int(mask)

  def _log_prob(self, x, condition, training=False, mask=None):
    if mask is not None:
      mask = self._check_mask(mask)
    flat = self._flat(x)
    if self.num_masks == 1 or mask is not None:
      return self._distribution(flat, condition, 0 if mask is None else mask).log_prob(flat)
    if training:  # one mask per minibatch, the same on every replica
      step = getattr(getattr(self, "optimizer", None), "iterations", None)
      step = tf.constant(0, tf.int64) if step is None else tf.cast(step, tf.int64)
      seed = tf.stack([tf.cast(step % (2 ** 31 - 1), tf.int32), 91])
      mask = tf.random.stateless_uniform([], seed, 0, self.num_masks, dtype=tf.int32)
      return self._distribution(flat, condition, mask).log_prob(flat)
    members = tf.stack([self._distribution(flat, condition, m).log_prob(flat)
                        for m in range(self.num_masks)])
    return tf.reduce_logsumexp(members, axis=0) - np.log(self.num_masks)

  @property
  def cannot_code_reason(self):
    if self.num_masks > 1:
      return (f"with num_masks={self.num_masks} its likelihood is a mixture over orderings, "
              "not one product of conditionals; compress with a num_masks=1 MADE.")
    return super().cannot_code_reason

  def _sample(self, n, seed, temperature, condition):
    """``D`` sequential network passes: with the Gumbel noise fixed by
    ``seed``, pass ``d`` settles the ``d``-th dimension of the ordering."""
    noise = gumbel_noise(tf.stack([n, self.event_size, self.num_levels]), seed)
    # The ensemble is a mixture: each sample draws its mask, then follows its ordering.
    masks = tf.random.stateless_uniform(tf.stack([n]), tf.bitwise.bitwise_xor(seed, 0x5eed), 0,
                                        self.num_masks, dtype=tf.int32)
    flat = self._sample_fn(tf.zeros(tf.stack([n, self.event_size]), tf.int32), noise,
                           temperature, condition, masks)
    return tf.reshape(flat, tf.concat([[n], self.event_shape], 0))

  @tf.function(reduce_retracing=True)
  def _sample_fn(self, x, noise, temperature, condition, masks):
    order = tf.constant(self.order, tf.int32)

    def body(step, x):
      params = self._params(x, condition, masks if self.num_masks > 1 else 0)
      logits = (tf.stack([tf.zeros_like(params), params], -1) if self.num_levels == 2
                else params)
      if self.num_masks > 1:   # an ordering per sample: redraw every dimension
        return step + 1, gumbel_argmax(logits, noise, temperature)
      # One ordering: draw only its step-th dimension (each position once, so
      # the sampler also codes; the earlier ones would redraw the same values).
      d = order[step]
      value = gumbel_argmax(logits[:, d], noise[:, d], temperature)
      return step + 1, put_step(x, d, value)
    return tf.while_loop(lambda s, _: s < self.event_size, body, (0, x))[1]

  def get_config(self):
    event = self.event_shape if len(self.event_shape) > 1 else self.event_size
    return {**super().get_config(), "event_size": event, "hidden_units": self.hidden_units,
            "num_levels": self.num_levels, "input_order": self.order.tolist(),
            "num_classes": self.num_classes, "condition_shape": self.condition_shape,
            "num_masks": self.num_masks, "seed": self.seed}


FAMILY = ModelFamily(
    "made", MADE, "Germain, Gregor, Murray & Larochelle 2015, MADE: Masked Autoencoder for "
    "Distribution Estimation", "binarized_fashion_mnist",
    demo=dict(hidden_units=[500]),
    sizes=(SizeOption("hidden-units", "hidden_units", int_list,
                      "comma-separated hidden layer widths"),),
    tiny=dict(event_size=(4, 4, 1), hidden_units=[8], num_levels=4))

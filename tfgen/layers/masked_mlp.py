"""A MADE network with several orderings and connectivities that share one set of weights."""

import numpy as np
import tensorflow as tf

from tfgen import _validation
from tfgen._keras import keras


def made_masks(order, hidden_units, rng):
  """The masks of one MADE (Germain et al. 2015, eq. 12-13) for ``order``.

  ``order`` lists the dimensions in generation order. Input ``i`` gets
  degree ``m(i)`` = its 1-based position in the order; each hidden unit a
  degree drawn uniformly from ``[min degree of the layer below, D − 1]``
  (the connectivity); a unit sees the units below whose degree is ``≤`` its
  own, and output ``i`` sees the last hidden layer's units of degree
  ``< m(i)``. Returns float32 masks ``[in, out]``, one per weight layer.
  """
  d = len(order)
  degrees = [np.empty(d, np.int64)]
  degrees[0][np.asarray(order)] = np.arange(1, d + 1)
  for units in hidden_units:
    low = min(int(degrees[-1].min()), d - 1)
    degrees.append(rng.integers(low, max(d - 1, low) + 1, size=units))
  masks = [(degrees[l + 1][None, :] >= degrees[l][:, None]).astype(np.float32)
           for l in range(len(hidden_units))]
  masks.append((degrees[0][None, :] > degrees[-1][:, None]).astype(np.float32))
  return masks


class MaskedMLP(keras.layers.Layer):
  """``num_masks`` MADE networks over ``D`` inputs that share their weights.

  Mask ``0`` uses ``order``; masks ``1 … k−1`` use random orderings and
  every mask its own random connectivity (MADE §3.4, order- and
  connectivity-agnostic training). ``call(x, mask, condition)`` returns
  ``params`` outputs per dimension, ``[B, D, params]``, through mask
  ``mask`` (an int, or an int ``[B]`` choosing one mask per example). The
  output for dimension ``i`` depends only on the inputs before ``i`` in
  that mask's order. A condition, if any, enters the first hidden layer
  unmasked.

  Example:

  >>> net = MaskedMLP(5, [16], params=1, num_masks=4, seed=0)
  >>> net(tf.zeros([2, 5]), mask=3).shape
  TensorShape([2, 5, 1])
  """

  def __init__(self, event_size, hidden_units, params=1, num_masks=1, order=None, seed=0,
               condition_size=None, **kwargs):
    super().__init__(**kwargs)
    self.event_size = _validation.positive_int(event_size, "event_size")
    self.hidden_units = [_validation.positive_int(u, "hidden_units entry")
                         for u in hidden_units]
    if not self.hidden_units:
      raise ValueError("`hidden_units` must list at least one hidden layer.")
    self.params = _validation.positive_int(params, "params")
    self.num_masks = _validation.positive_int(num_masks, "num_masks")
    order = np.arange(self.event_size) if order is None else np.asarray(order)
    if sorted(order.tolist()) != list(range(self.event_size)):
      raise ValueError(f"`order` must be a permutation of range({self.event_size}).")
    self.order, self.seed, self.condition_size = order.tolist(), seed, condition_size
    rng = np.random.default_rng(seed)
    orders = [order] + [rng.permutation(self.event_size) for _ in range(self.num_masks - 1)]
    per_mask = [made_masks(o, self.hidden_units, rng) for o in orders]
    self.orders = np.stack(orders)
    # [k, in, out] per layer; the output layer's columns repeat per parameter.
    self.masks = [tf.constant(np.stack([m[l] for m in per_mask]))
                  for l in range(len(self.hidden_units))]
    last = np.stack([m[-1] for m in per_mask])                          # [k, H, D]
    self.masks.append(tf.constant(np.repeat(last, self.params, axis=2)))  # [k, H, D·P]
    sizes = [self.event_size] + self.hidden_units + [self.event_size * self.params]
    self.kernels = [self.add_weight(f"kernel_{l}", [sizes[l], sizes[l + 1]],
                                    initializer=keras.initializers.GlorotUniform(seed=seed + l))
                    for l in range(len(sizes) - 1)]
    self.biases = [self.add_weight(f"bias_{l}", [sizes[l + 1]], initializer="zeros")
                   for l in range(len(sizes) - 1)]
    self.condition_kernel = (self.add_weight("condition_kernel",
                                             [condition_size, self.hidden_units[0]],
                                             initializer="glorot_uniform")
                             if condition_size else None)

  def call(self, x, mask=0, condition=None):
    # Under a mixed-precision policy the layer computes in its compute dtype
    # (Keras casts the kernels); its outputs, the logits, are float32.
    dtype = self.compute_dtype
    x = tf.cast(x, dtype)
    mask = tf.convert_to_tensor(mask, tf.int32)
    h = x
    for l, (kernel, bias) in enumerate(zip(self.kernels, self.biases)):
      m = tf.cast(tf.gather(self.masks[l], mask), dtype)   # [in, out], or [B, in, out]
      h = (h @ (kernel * m) if m.shape.rank == 2
           else tf.einsum("bi,bio->bo", h, kernel[None] * m)) + bias
      if l == 0 and condition is not None:
        h += tf.cast(condition, dtype) @ self.condition_kernel
      if l + 1 < len(self.kernels):
        h = tf.nn.relu(h)
    return tf.cast(tf.reshape(h, [-1, self.event_size, self.params]), tf.float32)

  def get_config(self):
    return {**super().get_config(), "event_size": self.event_size,
            "hidden_units": self.hidden_units, "params": self.params,
            "num_masks": self.num_masks, "order": self.order, "seed": self.seed,
            "condition_size": self.condition_size}

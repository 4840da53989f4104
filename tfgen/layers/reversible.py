"""Reversible residual blocks and stacks whose backward pass stores no activations
(Gomez, Ren, Urtasun & Grosse 2017)."""

import tensorflow as tf

from tfgen import _validation
from tfgen._keras import keras


class GradientSum:
  """Per-variable gradient totals for a ``tf.custom_gradient`` that back-propagates
  piece by piece: ``add(weights, grads)`` for each piece, then ``result()`` lists
  one gradient per variable of ``variables`` (zeros for those no piece touched)."""

  def __init__(self, variables):
    self.variables = list(variables or [])
    self.totals = {id(v): None for v in self.variables}

  def add(self, weights, grads):
    for v, g in zip(weights, grads):
      if g is not None and id(v) in self.totals:
        old = self.totals[id(v)]
        self.totals[id(v)] = g if old is None else old + g

  def result(self):
    return [tf.zeros_like(v) if self.totals[id(v)] is None else self.totals[id(v)]
            for v in self.variables]


def _check_float(x, name):
  dtype = getattr(x, "dtype", None)
  if dtype is not None and not tf.as_dtype(dtype).is_floating:
    raise ValueError(f"{name}: the input must be a float tensor (its halves pass through "
                     f"float layers), got {tf.as_dtype(dtype).name}; cast it first.")


class ReversibleBlock(keras.layers.Layer):
  """The RevNet block on inputs split in two halves along the last axis::

      forward:  y₁ = x₁ + F(x₂),   y₂ = x₂ + G(y₁)
      inverse:  x₂ = y₂ − G(y₁),   x₁ = y₁ − F(x₂)

  ``F`` and ``G`` are any Keras layers that keep the shape of a half (for
  images ``[B, H, W, C/2]``); the block is invertible whatever they are.
  A residual function that changes the shape is refused with a ValueError
  when the block is built.

  Example:

  >>> f = keras.layers.Conv2D(8, 3, padding="same")
  >>> g = keras.layers.Conv2D(8, 3, padding="same")
  >>> block = ReversibleBlock(f, g)
  >>> x = tf.random.normal([2, 5, 5, 16])
  >>> float(tf.reduce_max(tf.abs(block.inverse(block(x)) - x))) < 1e-5
  True

  References:
    - Gomez, Ren, Urtasun & Grosse (2017). The Reversible Residual Network: Backpropagation
      Without Storing Activations. arXiv:1707.04585.
  """

  def __init__(self, f, g, **kwargs):
    super().__init__(**kwargs)
    for name, layer in (("f", f), ("g", g)):
      if not callable(layer):
        raise ValueError(f"`{name}` must be a Keras layer (callable), got {type(layer).__name__}.")
    self.f, self.g = f, g

  def get_config(self):
    return {**super().get_config(), "f": keras.layers.serialize(self.f),
            "g": keras.layers.serialize(self.g)}

  @classmethod
  def from_config(cls, config):
    config = dict(config)
    f, g = (keras.layers.deserialize(config.pop(k)) for k in ("f", "g"))
    return cls(f, g, **config)

  def build(self, input_shape):
    channels = input_shape[-1]
    if channels is None or channels % 2:
      raise ValueError(f"ReversibleBlock splits the last axis in two halves: it needs an even "
                       f"size, got {channels}.")
    half = tf.TensorShape(input_shape[:-1]).concatenate([channels // 2])
    probe = tf.zeros([1 if d is None else d for d in half.as_list()])
    for name, layer in (("F", self.f), ("G", self.g)):
      out = layer(probe)
      if out.shape[1:] != probe.shape[1:]:
        raise ValueError(f"ReversibleBlock: {name} must keep the shape of a half "
                         f"{probe.shape[1:].as_list()}, but maps it to {out.shape[1:].as_list()}.")
    super().build(input_shape)

  def call(self, x):
    _check_float(x, self.name)
    x1, x2 = tf.split(x, 2, axis=-1)
    y1 = x1 + self.f(x2)
    return tf.concat([y1, x2 + self.g(y1)], axis=-1)

  def inverse(self, y):
    """The input ``x`` of output ``y`` (exact up to float rounding)."""
    _check_float(y, self.name)
    y1, y2 = tf.split(y, 2, axis=-1)
    x2 = y2 - self.g(y1)
    return tf.concat([y1 - self.f(x2), x2], axis=-1)


class ReversibleSequence(keras.layers.Layer):
  """Reversible blocks applied in turn, with a backward pass that stores nothing.

  With ``memory_saving=True`` (the default) the stack is one
  ``tf.custom_gradient`` op: the forward pass keeps only the stack's output,
  and the gradient walks the blocks backwards, rebuilding each block's input
  from its output with :meth:`ReversibleBlock.inverse` and back-propagating
  through that one block. Activation memory is then that of one block,
  whatever the depth (Gomez et al. 2017, §4), for about one extra forward
  pass of compute. ``memory_saving=False`` is ordinary backprop; the
  gradients agree to float32 round-off (reconstruction adds a little).
  """

  def __init__(self, blocks, memory_saving=True, **kwargs):
    super().__init__(**kwargs)
    blocks = list(blocks)
    if not blocks or not all(isinstance(b, ReversibleBlock) for b in blocks):
      raise ValueError("`blocks` must be a non-empty list of ReversibleBlock layers.")
    self.blocks, self.memory_saving = blocks, _validation.boolean(memory_saving, "memory_saving")

  def get_config(self):
    return {**super().get_config(), "memory_saving": self.memory_saving,
            "blocks": [keras.layers.serialize(b) for b in self.blocks]}

  @classmethod
  def from_config(cls, config):
    config = dict(config)
    blocks = [keras.layers.deserialize(b, custom_objects={"ReversibleBlock": ReversibleBlock})
              for b in config.pop("blocks")]
    return cls(blocks, **config)

  def build(self, input_shape):
    for block in self.blocks:
      block.build(input_shape)
    super().build(input_shape)

  def call(self, x):
    if not self.memory_saving:
      for block in self.blocks:
        x = block(x)
      return x
    return self._reversible(x)

  def inverse(self, y):
    for block in reversed(self.blocks):
      y = block.inverse(y)
    return y

  def _reversible(self, x):
    blocks = self.blocks

    @tf.custom_gradient
    def run(x):
      y = x
      for block in blocks:
        y = block(y)

      def grad(dy, variables=None):
        totals = GradientSum(variables)
        y_here = y
        for block in reversed(blocks):
          # Rebuild only after the later block's gradient exists (otherwise the
          # runtime may rebuild every input first and hold them all).
          with tf.control_dependencies([dy]):
            x_here = tf.stop_gradient(block.inverse(y_here))
          weights = block.trainable_variables
          with tf.GradientTape() as tape:
            tape.watch(x_here)
            out = block(x_here)
          grads = tape.gradient(out, [x_here] + weights, output_gradients=dy)
          dy = grads[0]
          totals.add(weights, grads[1:])
          y_here = x_here
        return dy, totals.result()

      return y, grad

    return run(x)

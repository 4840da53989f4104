"""RevNet (Gomez et al. 2017): an image classifier of reversible residual stages."""

import math

import tensorflow as tf

from tfgen import _validation
from tfgen._keras import keras
from tfgen.base import GenerativeModel
from tfgen.export.signatures import ServingFunction
from tfgen.family import ModelFamily, SizeOption, int_list
from tfgen.layers.reversible import ReversibleBlock, ReversibleSequence

BLOCKS = ("reversible", "residual")


def _residual_function(channels, name):
  """ReLU → 3×3 conv → ReLU → 3×3 conv (the pre-activation residual branch). The last
  conv has no bias: with one, Grappler tries to fuse conv + bias + the residual add,
  fails, and logs an error."""
  return keras.Sequential([keras.layers.ReLU(), keras.layers.Conv2D(channels, 3, padding="same"),
                           keras.layers.ReLU(),
                           keras.layers.Conv2D(channels, 3, padding="same", use_bias=False)],
                          name=name)


class _Residual(keras.layers.Layer):
  """An ordinary residual block ``y = x + F(x)`` (the ResNet baseline)."""

  def __init__(self, channels, **kwargs):
    super().__init__(**kwargs)
    self.f = _residual_function(channels, "f")

  def call(self, x):
    return x + self.f(x)


class RevNet(GenerativeModel):
  """A classifier built from reversible stages, trained with ``fit`` on ``(images, labels)``.

  A 3×3 stem convolution to ``channels``, then ``len(stages)`` stages; stage
  ``s`` has ``stages[s]`` blocks at ``channels · 2^s`` channels and starts
  (for ``s > 0``) with a non-reversible stride-2 convolution that halves the
  resolution and doubles the channels, as in the paper. A global average
  pool and a dense layer give the class logits.

  - ``block='reversible'``: each block is a :class:`~tfgen.layers.ReversibleBlock`
    whose ``F`` and ``G`` are pre-activation residual branches on half the
    channels; with ``memory_saving=True`` each stage is a
    :class:`~tfgen.layers.ReversibleSequence` that rebuilds activations in
    the backward pass instead of storing them.
  - ``block='residual'``: the ResNet baseline of the same depth and width:
    each block is two ordinary residual blocks ``x + F(x)`` on all channels
    (the same number of convolutions per block).

  ``fit``/``evaluate`` report ``loss`` (cross-entropy, nats) and
  ``accuracy``; ``predict_proba(x)`` gives class probabilities. A classifier
  has no density and does not sample.

  Args:
    image_shape: ``(H, W, C)``.
    num_classes: classes.
    stages: blocks per stage.
    channels: width of the first stage (even).
    block: ``'reversible'`` or ``'residual'``.
    memory_saving: reversible stages rebuild activations in the backward pass.
    num_levels: levels of the pixel data.

  References:
    - Gomez, Ren, Urtasun & Grosse (2017). The Reversible Residual Network: Backpropagation
      Without Storing Activations. arXiv:1707.04585.
  """

  can_sample = False
  cannot_sample_reason = ("RevNet is a classifier; it gives class probabilities (`tfgen "
                          "evaluate`, the SavedModel's serving_default, "
                          "`model.predict_proba`).")
  uses_labels = True

  def __init__(self, image_shape, num_classes=10, stages=(2, 2), channels=32,
               block="reversible", memory_saving=True, num_levels=256, name="revnet", **kwargs):
    super().__init__(name=name, **kwargs)
    self.image_shape = _validation.image_shape(image_shape)
    self.event_shape, self.num_dims = self.image_shape, None
    self.num_levels = _validation.positive_int(num_levels, "num_levels")
    if self.num_levels < 2:
      raise ValueError(f"`num_levels` must be at least 2, got {num_levels}.")
    self.num_classes_out = _validation.positive_int(num_classes, "num_classes")
    if isinstance(stages, int):
      stages = [stages]
    if not isinstance(stages, (list, tuple)) or not stages:
      raise ValueError(f"`stages` must be a non-empty list of block counts, got {stages!r}.")
    self.stages = [_validation.positive_int(s, "stages entry") for s in stages]
    self.channels = _validation.positive_int(channels, "channels")
    if self.channels % 2:
      raise ValueError(f"`channels` must be even (a reversible block splits them), got {channels}.")
    _validation.one_of(block, "block", set(BLOCKS))
    self.block, self.memory_saving = block, _validation.boolean(memory_saving, "memory_saving")
    self.stem = keras.layers.Conv2D(self.channels, 3, padding="same", name="stem")
    self.downsample, self.stage_layers = [], []
    width = self.channels
    for s, depth in enumerate(self.stages):
      if s > 0:
        width *= 2
        self.downsample.append(keras.layers.Conv2D(width, 3, strides=2, padding="same",
                                                   name=f"down{s}"))
      if block == "reversible":
        blocks = [ReversibleBlock(_residual_function(width // 2, "f"),
                                  _residual_function(width // 2, "g"), name=f"rev{s}_{b}")
                  for b in range(depth)]
        self.stage_layers.append(ReversibleSequence(blocks, memory_saving, name=f"stage{s}"))
      else:
        self.stage_layers.append(keras.Sequential(
            [_Residual(width, name=f"res{s}_{b}") for b in range(2 * depth)], name=f"stage{s}"))
    self.head = keras.layers.Dense(self.num_classes_out, name="head")
    self.loss_tracker = keras.metrics.Mean(name="loss")
    self.accuracy_tracker = keras.metrics.Mean(name="accuracy")
    self(tf.zeros((1,) + self.image_shape, tf.uint8))  # build every weight now

  @property
  def metrics(self):
    return [self.loss_tracker, self.accuracy_tracker]

  @classmethod
  def _from_dataset(cls, spec, **sizes):
    if not spec.num_classes:
      raise ValueError(f"RevNet classifies labelled images; dataset {spec.name!r} has no "
                       "labels.")
    return cls(spec.shape, num_classes=spec.num_classes, num_levels=spec.num_levels, **sizes)

  def call(self, x, training=False):
    """Class logits ``[B, num_classes]`` of integer images ``x`` (checked:
    whole numbers in ``[0, num_levels)``, so NaN or 1000 is refused)."""
    x = self._check_data(x)
    h = self.stem(tf.cast(x, tf.float32) * (2. / (self.num_levels - 1)) - 1.)
    for s, stage in enumerate(self.stage_layers):
      if s > 0:
        h = self.downsample[s - 1](tf.nn.relu(h))
      h = stage(h)
    return self.head(tf.reduce_mean(tf.nn.relu(h), axis=[1, 2]))

  def predict_proba(self, x):
    """Class probabilities ``[B, num_classes]`` of integer images ``x``."""
    return tf.nn.softmax(self(x))

  def _check_labels(self, labels, batch):
    if labels is None:
      raise ValueError("RevNet trains on (images, labels): pass the labels as `y`.")
    labels = _validation.discrete_batch(labels, [], self.num_classes_out, name="labels")
    return _validation.same_rows(labels, batch, "labels")

  def _objective(self, x, labels, training):
    labels = self._check_labels(labels, tf.shape(x)[0])
    logits = self(x, training=training)
    loss = tf.nn.sparse_softmax_cross_entropy_with_logits(labels, logits)
    correct = tf.cast(tf.equal(tf.argmax(logits, -1, output_type=tf.int32), labels), tf.float32)
    return loss, {"loss": loss, "accuracy": correct}

  def describe(self, result, spec=None):
    return (f"accuracy {result['accuracy']:.2%} (cross-entropy {result['loss']:.4f} nats, "
            f"{result['loss'] / math.log(2):.4f} bits)")

  def serving_functions(self):
    """``serving_default``: ``x`` (int32 images) → ``probabilities`` and ``class``."""
    x = tf.TensorSpec([None] + list(self.image_shape), tf.int32, "x")

    def classify(x):
      p = self.predict_proba(x)
      return {"probabilities": p, "class": tf.argmax(p, -1, output_type=tf.int32)}
    return {"serving_default": ServingFunction(classify, [x])}

  def get_config(self):
    return {**super().get_config(), "image_shape": self.image_shape,
            "num_classes": self.num_classes_out, "stages": self.stages,
            "channels": self.channels, "block": self.block,
            "memory_saving": self.memory_saving, "num_levels": self.num_levels}


FAMILY = ModelFamily(
    "revnet", RevNet, "Gomez, Ren, Urtasun & Grosse 2017, The Reversible Residual Network: "
    "Backpropagation Without Storing Activations", "fashion_mnist",
    demo=dict(stages=[2, 2], channels=32),
    sizes=(SizeOption("stages", "stages", int_list, "comma-separated blocks per stage"),
           SizeOption("channels", "channels", int, "first stage width (even)"),
           SizeOption("block", "block", str, f"block type: {', '.join(BLOCKS)}")),
    tiny=dict(image_shape=(8, 8, 1), stages=[1], channels=4))

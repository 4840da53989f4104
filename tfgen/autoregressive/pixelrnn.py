"""PixelRNN (van den Oord, Kalchbrenner & Kavukcuoglu 2016): Row LSTM and Diagonal BiLSTM."""

import tensorflow as tf
import tensorflow_probability as tfp

from tfgen import _validation
from tfgen.autoregressive import sampling
from tfgen.base import LikelihoodModel
from tfgen.family import ModelFamily, SizeOption
from tfgen.layers.masked_conv import MaskedConv2D
from tfgen.layers.pixel_rnn_layers import DiagonalBiLSTM, RowLSTM

tfd = tfp.distributions

LAYERS = {"row": RowLSTM, "diagonal": DiagonalBiLSTM}


class PixelRNN(LikelihoodModel):
  """PixelRNN: ``p(x) = ∏ p(x_{i,j,c} | x_{<(i,j,c)})`` with spatial LSTMs.

  A 7×7 mask-A convolution, then ``num_layers`` residual spatial LSTM layers
  (``layer='row'``: :class:`~tfgen.layers.RowLSTM`; ``'diagonal'``:
  :class:`~tfgen.layers.DiagonalBiLSTM`, whose receptive field is the whole
  past: no blind spot), then ReLU → masked 1×1 → ReLU → masked 1×1 to a
  ``num_levels``-way softmax per sub-pixel, R → G → B inside a pixel, as
  in PixelCNN. ``conditionals(x)`` is the ``Independent(Categorical)`` of
  every conditional given ``x``; ``log_prob`` is exact and takes one pass.

  Sampling is sequential and naive: every sub-pixel reruns the network on
  the image so far (``H·W·C`` passes), with Gumbel-max draws from a
  stateless seed, so it is reproducible. ``prefix=`` keeps the top rows.

  Args:
    image_shape: ``(H, W, C)`` with ``C`` 1 or 3.
    num_levels: ``K``.
    units: features per layer (a multiple of ``C``).
    num_layers: spatial LSTM layers.
    layer: ``'row'`` or ``'diagonal'``.
    num_classes, condition_shape: conditional on class ids or vectors (a
      learned bias on every LSTM's gates).

  References:
    - van den Oord, Kalchbrenner & Kavukcuoglu (2016). Pixel Recurrent Neural Networks.
      arXiv:1601.06759.
  """

  def __init__(self, image_shape, num_levels=256, units=32, num_layers=2, layer="diagonal",
               num_classes=None, condition_shape=None, name="pixelrnn", **kwargs):
    super().__init__(name=name, **kwargs)
    self.image_shape = _validation.image_shape(image_shape)
    self.event_shape = self.image_shape
    h, w, c = self.image_shape
    if c not in (1, 3):
      raise ValueError(f"PixelRNN supports 1 or 3 channels, got image_shape {image_shape!r}.")
    self.num_levels = _validation.positive_int(num_levels, "num_levels")
    if self.num_levels < 2:
      raise ValueError(f"`num_levels` must be at least 2, got {num_levels}.")
    self.units = _validation.positive_int(units, "units")
    if self.units % c:
      raise ValueError(f"`units` must be a multiple of the channel count {c}, got {units}.")
    self.num_layers = _validation.positive_int(num_layers, "num_layers")
    self.layer = _validation.one_of(layer, "layer", set(LAYERS))
    self._set_condition(num_classes, condition_shape)
    self.first = MaskedConv2D(self.units, 7, "A", c, name="first")
    self.rnns = [LAYERS[self.layer](self.units, c, condition_size=self.condition_size,
                                    name=f"{self.layer}_lstm_{n}") for n in range(num_layers)]
    self.head_hidden = MaskedConv2D(self.units, 1, "B", c, name="head_hidden")
    self.head_out = MaskedConv2D(c * self.num_levels, 1, "B", c, name="head_out")
    cond = None if self.condition_size is None else tf.zeros([1, self.condition_size])
    self._logits(tf.zeros((1,) + self.image_shape, tf.int32), cond)  # build every weight now
    self.built = True


  def _scale(self, x):
    return tf.cast(x, tf.float32) * (2. / (self.num_levels - 1)) - 1.

  def _features(self, scaled, condition):
    h = self.first(scaled)
    for rnn in self.rnns:
      h = rnn(h, condition, image=scaled)
    return h

  def _head(self, features):
    out = self.head_out(tf.nn.relu(self.head_hidden(tf.nn.relu(features))))
    return tf.reshape(tf.cast(out, tf.float32),
                      tf.concat([tf.shape(out)[:-1], [self.image_shape[2], self.num_levels]], 0))

  def _logits(self, x, condition):
    return self._head(self._features(self._scale(x), condition))

  def logits_from_float(self, x, condition=None):
    """Logits ``[B, H, W, C, K]`` of a float input scaled to ``[−1, 1]``:
    differentiable in the input, for receptive-field analysis."""
    x = tf.convert_to_tensor(x, tf.float32)
    return self._head(self._features(x, self._encode_condition(condition, tf.shape(x)[0])))

  def _conditionals(self, x, condition):
    """``Independent(Categorical)`` over images: every conditional given ``x``."""
    return tfd.Independent(tfd.Categorical(logits=self._logits(x, condition)), 3)

  def _log_prob(self, x, condition, training=False):
    return self._conditionals(x, condition).log_prob(x)

  SAMPLE_OPTIONS = ("prefix",)

  def _sample(self, n, seed, temperature, condition, prefix=None):
    """``n`` images, one sub-pixel per network pass; ``prefix`` keeps the top rows."""
    images, start = sampling.image_prefix(prefix, n, self.image_shape, self.num_levels)
    h, w, c = self.image_shape
    noise = sampling.gumbel_noise(tf.stack([n, h, w, c, self.num_levels]), seed)
    return self._naive_fn(images, tf.constant(start), noise, temperature, condition)

  @tf.function(reduce_retracing=True)
  def _naive_fn(self, images, start, noise, temperature, condition):
    return sampling.sample_naive(lambda x: self._logits(x, condition), images, start, noise,
                                 temperature)

  def get_config(self):
    return {**super().get_config(), "image_shape": self.image_shape,
            "num_levels": self.num_levels, "units": self.units, "num_layers": self.num_layers,
            "layer": self.layer, "num_classes": self.num_classes,
            "condition_shape": self.condition_shape}


FAMILY = ModelFamily(
    "pixelrnn", PixelRNN, "van den Oord, Kalchbrenner & Kavukcuoglu 2016, Pixel Recurrent "
    "Neural Networks (Row LSTM, Diagonal BiLSTM)", "binarized_fashion_mnist",
    demo=dict(units=32, num_layers=2, layer="diagonal"),
    sizes=(SizeOption("units", "units", int, "recurrent state size"),
           SizeOption("num-layers", "num_layers", int, "spatial LSTM layers"),
           SizeOption("layer", "layer", str, "spatial LSTM: row or diagonal")),
    tiny=dict(image_shape=(3, 3, 1), num_levels=4, units=4, num_layers=1))

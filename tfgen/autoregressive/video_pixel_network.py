"""Video Pixel Networks (Kalchbrenner et al. 2016)."""

import numpy as np
import tensorflow as tf
import tensorflow_probability as tfp

from tfgen import _validation
from tfgen._keras import keras
from tfgen.autoregressive import sampling
from tfgen.autoregressive.pixelcnn import PixelCNN
from tfgen.base import LikelihoodModel
from tfgen.family import ModelFamily, SizeOption

tfd = tfp.distributions


class FrameEncoder(keras.layers.Layer):
  """The resolution-preserving encoder of one frame: a 3×3 convolution to
  ``filters`` channels, then ``num_layers`` residual blocks of ReLU → 3×3
  convolution with dilations 1, 2, 4, 8 (repeating), as the VPN's dilated
  encoder (§3 of the paper; it uses multiplicative units, tfgen plain ones)."""

  def __init__(self, filters, num_layers, **kwargs):
    super().__init__(**kwargs)
    self.filters, self.num_layers = filters, num_layers
    self.inp = keras.layers.Conv2D(filters, 3, padding="same", name="input")
    self.blocks = [keras.layers.Conv2D(filters, 3, padding="same", dilation_rate=2 ** (i % 4),
                                       name=f"block_{i}") for i in range(num_layers)]

  def call(self, frames):
    h = self.inp(frames)
    for block in self.blocks:
      h = h + block(tf.nn.relu(h))
    return tf.nn.relu(h)


class VideoPixelNetwork(LikelihoodModel):
  """``p(x) = ∏_t ∏_i p(x_{t,i} | x_{<t}, x_{t,<i})`` over videos ``[T, H, W, C]``.

  Each frame before ``t`` passes through a :class:`FrameEncoder`; a
  convolutional LSTM (``tf_keras.layers.ConvLSTM2D``) runs over the encoded
  frames, so its state ``h_t`` (``[H, W, lstm_filters]``) summarises frames
  ``< t`` (``h_0`` sees zeros). Frame ``t`` is then modelled by a Gated
  PixelCNN decoder (masked convolutions, no blind spot) whose every layer
  takes ``h_t`` as a local condition map: within the frame, pixels are
  generated in raster order. ``log_prob`` is exact and computed for all
  frames in one pass (teacher forcing); bits/dim count every pixel of
  every frame.

  ``sample(n, num_frames=T, prefix_frames=None)`` generates frame by frame:
  the LSTM takes one step per frame and the frame is drawn by the
  decoder's cached sampler (``method='cached'``; ``'naive'`` reruns the
  decoder per pixel, same draws). ``prefix_frames`` (integer ``[n, P, H, W,
  C]``) are kept and the video continued after them. ``num_frames`` may
  exceed the training length.

  A condition (``num_classes=`` ids, or a ``condition_shape=`` vector, for
  example an action) adds a learned per-channel bias ``W c`` to every
  context map ``h_t`` the decoder reads, so it reaches every pixel of every
  frame without touching the ordering.

  Args:
    video_shape: ``(T, H, W, C)``: the training clips.
    num_levels: pixel values (256, or 2 for binarised video).
    encoder_filters, encoder_layers: the frame encoder.
    lstm_filters: channels of the ConvLSTM state.
    decoder_filters, decoder_layers: the per-frame Gated PixelCNN.
    num_classes, condition_shape: a class or vector condition (at most one).

  References:
    - Kalchbrenner et al. (2016). Video Pixel Networks. arXiv:1610.00527.
  """

  DATA_KINDS = ("video",)

  def __init__(self, video_shape, num_levels=256, encoder_filters=32, encoder_layers=4,
               lstm_filters=32, decoder_filters=32, decoder_layers=4, num_classes=None,
               condition_shape=None, name="video_pixel_network", **kwargs):
    super().__init__(name=name, **kwargs)
    if not isinstance(video_shape, (tuple, list)) or len(video_shape) != 4:
      raise ValueError(f"`video_shape` must be (frames, height, width, channels), got "
                       f"{video_shape!r}.")
    frames = _validation.positive_int(video_shape[0], "video_shape frames")
    self.frame_shape = _validation.image_shape(video_shape[1:])
    self.video_shape = (frames,) + tuple(self.frame_shape)
    self.event_shape = self.video_shape
    self.num_levels = _validation.positive_int(num_levels, "num_levels")
    p = _validation.positive_int
    self.encoder_filters = p(encoder_filters, "encoder_filters")
    self.encoder_layers = p(encoder_layers, "encoder_layers")
    self.lstm_filters = p(lstm_filters, "lstm_filters")
    self.decoder_filters = p(decoder_filters, "decoder_filters")
    self.decoder_layers = p(decoder_layers, "decoder_layers")
    self._set_condition(num_classes, condition_shape)
    h, w, _ = self.frame_shape
    self.condition_bias = (keras.layers.Dense(self.lstm_filters, use_bias=False,
                                              name="condition")
                           if self.condition_size else None)
    self.encoder = FrameEncoder(self.encoder_filters, self.encoder_layers, name="encoder")
    self.lstm = keras.layers.ConvLSTM2D(self.lstm_filters, 3, padding="same",
                                        recurrent_activation="sigmoid", return_sequences=True,
                                        return_state=True, name="lstm")
    self.decoder = PixelCNN(self.frame_shape, num_levels=self.num_levels,
                            filters=self.decoder_filters, num_layers=self.decoder_layers,
                            gated=True, condition_shape=(h, w, self.lstm_filters), name="decoder")
    cond = tf.zeros([1, self.condition_size]) if self.condition_size else None
    self._log_prob(tf.zeros([1, 2, h, w, self.frame_shape[2]], tf.int32), cond)  # build now
    self.built = True


  # -- the network ------------------------------------------------------------------------

  def _scale(self, x):
    return tf.cast(x, tf.float32) * (2. / (self.num_levels - 1)) - 1.

  def _encode(self, frames):
    """Scaled frames ``[B, T, H, W, C]`` → encodings ``[B, T, H, W, F]``."""
    shape = tf.shape(frames)
    flat = tf.reshape(frames, tf.concat([[-1], shape[2:]], 0))
    out = self.encoder(flat)
    return tf.reshape(out, tf.concat([shape[:2], tf.shape(out)[1:]], 0))

  def _conditioned(self, h, condition):
    """Context maps ``h`` (``[B, …, H, W, L]``) plus the condition's bias."""
    if self.condition_bias is None:
      return h
    bias = self.condition_bias(condition)                          # [B, L]
    for _ in range(h.shape.rank - 2):
      bias = bias[:, None]
    return h + bias

  def _contexts(self, scaled, condition=None):
    """LSTM states ``[B, T, H, W, L]``; ``h_t`` has seen frames ``< t`` only."""
    enc = self._encode(scaled[:, :-1])
    inputs = tf.concat([tf.zeros_like(enc[:, :1]), enc], axis=1)
    return self._conditioned(self.lstm(inputs)[0], condition)

  def _frame_logits(self, scaled, condition=None):
    """Logits ``[B, T, H, W, C, K]`` of every pixel from scaled video ``[B, T, H, W, C]``."""
    contexts = self._contexts(scaled, condition)
    shape = tf.shape(scaled)
    merge = lambda t: tf.reshape(t, tf.concat([[-1], tf.shape(t)[2:]], 0))
    d = self.decoder
    logits = d._head(d.stack(merge(scaled), merge(contexts)))
    return tf.reshape(logits, tf.concat([shape[:2], tf.shape(logits)[1:]], 0))

  def logits_from_float(self, video, condition=None):
    """Logits ``[B, T, H, W, C, K]`` from float video scaled to ``[−1, 1]``;
    differentiable in the input (to check the ordering by gradients)."""
    video = tf.convert_to_tensor(video, tf.float32)
    return self._frame_logits(video, self._encode_condition(condition, tf.shape(video)[0]))

  def _conditionals(self, x, condition):
    return tfd.Independent(tfd.Categorical(
        logits=self._frame_logits(self._scale(x), condition)), 4)

  def _log_prob(self, x, condition, training=False):
    return self._conditionals(x, condition).log_prob(x)

  def frame_by_frame_log_prob(self, x, condition=None):
    """``log_prob`` computed as sampling runs: one LSTM step and one decoder
    pass per frame (for tests: it must equal :meth:`log_prob`)."""
    x = self._check_data(x)
    condition = self._encode_condition(condition, tf.shape(x)[0])
    state, prev, total = None, None, 0.
    for t in range(x.shape[1]):
      h, state = self._step(prev, state, tf.shape(x)[0], condition)
      frame = x[:, t]
      total += self.decoder.log_prob_encoded(frame, h)
      prev = frame
    return total

  def _step(self, prev, state, n, condition=None):
    """One LSTM step: the context for the next frame given the previous frame
    (None before the first) → ``(h [n, H, W, L], (h, c))``; ``h`` carries the
    condition's bias, the recurrent state does not."""
    h, w, c = self.frame_shape
    if prev is None:
      inp = tf.zeros(tf.stack([n, 1, h, w, self.encoder_filters]))
    else:
      inp = self._encode(self._scale(prev)[:, None])
    if state is None:
      zeros = tf.zeros(tf.stack([n, h, w, self.lstm_filters]))
      state = (zeros, zeros)
    out, hidden, cell = self.lstm(inp, initial_state=list(state))
    return self._conditioned(out[:, 0], condition), (hidden, cell)

  # -- sampling -------------------------------------------------------------------------

  SAMPLE_OPTIONS = ("num_frames", "prefix_frames", "method")

  #: Upper bound on ``num_frames``: generation unrolls one step per frame.
  max_frames = 1024

  def _sample_elements(self, options):
    frames = options.get("num_frames")
    frames = self.video_shape[0] if frames is None else self._check_frames(frames)
    return frames * int(np.prod(self.frame_shape)) * self.num_levels

  def _check_frames(self, num_frames):
    num_frames = _validation.positive_int(num_frames, "num_frames")
    if num_frames > self.max_frames:
      raise ValueError(f"`num_frames` must be at most {self.max_frames} (max_frames), got "
                       f"{num_frames}.")
    return num_frames

  def _sample(self, n, seed, temperature, condition, num_frames=None, prefix_frames=None,
              method="cached"):
    """Frame by frame: ``num_frames`` frames (default: the training length),
    continuing ``prefix_frames`` if given."""
    _validation.one_of(method, "method", {"cached", "naive"})
    num_frames = self.video_shape[0] if num_frames is None else self._check_frames(num_frames)
    prefix = self._check_prefix(prefix_frames, n, num_frames)
    return self._sample_frames(n, seed, temperature, condition, num_frames, prefix, method)

  def _check_prefix(self, prefix, n, num_frames):
    if prefix is None:
      return None
    prefix = np.asarray(prefix)
    want = (n, None) + tuple(self.frame_shape)
    if prefix.ndim != 5 or prefix.shape[0] != n or prefix.shape[2:] != tuple(self.frame_shape):
      raise ValueError(f"`prefix_frames` must have shape [n, frames, H, W, C] = "
                       f"{list(want)}, got {list(prefix.shape)}.")
    if prefix.shape[1] > num_frames:
      raise ValueError(f"`prefix_frames` holds {prefix.shape[1]} frames, more than "
                       f"num_frames={num_frames}.")
    return _validation.discrete_batch(prefix.reshape((-1,) + prefix.shape[2:]),
                                      list(self.frame_shape), self.num_levels,
                                      name="prefix_frames")

  def _sample_frames(self, n, seed, temperature, condition, num_frames, prefix, method):
    seeds = tf.random.experimental.stateless_split(tf.cast(seed, tf.int32), num_frames)
    given = 0 if prefix is None else prefix.shape[0] // n
    if prefix is not None:
      prefix = tf.reshape(tf.cast(prefix, tf.int32), [n, given] + list(self.frame_shape))
    frames, prev, state = [], None, None
    for t in range(num_frames):
      h, state = self._step(prev, state, n, condition)
      if t < given:
        frame = prefix[:, t]
      else:
        with sampling.coding_part(t, num_frames):
          frame = self.decoder.sample_encoded(n, seeds[t], temperature, h, method=method)
      prev = tf.cast(frame, tf.int32)
      frames.append(prev)
    return tf.stack(frames, axis=1)

  def get_config(self):
    return {**super().get_config(), "video_shape": list(self.video_shape),
            "num_levels": self.num_levels, "encoder_filters": self.encoder_filters,
            "encoder_layers": self.encoder_layers, "lstm_filters": self.lstm_filters,
            "decoder_filters": self.decoder_filters, "decoder_layers": self.decoder_layers,
            "num_classes": self.num_classes,
            "condition_shape": None if self.condition_shape is None else list(
                self.condition_shape)}


FAMILY = ModelFamily(
    "video_pixel_network", VideoPixelNetwork,
    "Kalchbrenner et al. 2016, Video Pixel Networks", "binarized_moving_fashion_mnist_small",
    demo=dict(encoder_filters=16, encoder_layers=2, lstm_filters=16, decoder_filters=16,
              decoder_layers=3),
    sizes=(SizeOption("filters", "decoder_filters", int, "decoder feature maps"),
           SizeOption("num-layers", "decoder_layers", int, "decoder gated blocks"),
           SizeOption("lstm-filters", "lstm_filters", int, "ConvLSTM channels"),
           SizeOption("encoder-layers", "encoder_layers", int, "dilated encoder blocks")),
    tiny=dict(video_shape=(2, 4, 4, 1), num_levels=4, encoder_filters=4, encoder_layers=1,
              lstm_filters=4, decoder_filters=4, decoder_layers=1))

"""TensorBoard samples: an image grid, audio or text from the model after every epoch."""

import numpy as np
import tensorflow as tf

from tfgen._keras import keras
from tfgen.training.render import image_grid_of, texts_of, video_strip_of, waves_of


class SampleSummaries(keras.callbacks.Callback):
  """Writes samples to TensorBoard at the end of every ``every``-th epoch.

  ``sample_fn(epoch)`` returns numpy samples in data form: uint8 images
  ``[n, H, W, C]`` become one grid image (``tf.summary.image``), μ-law code
  sequences ``[n, T]`` become audio clips (``tf.summary.audio``) and byte
  sequences become text (``tf.summary.text``). The step is the epoch
  number, as for Keras' epoch scalars.

  Args:
    log_dir: event file folder (``RUN/logs/samples``).
    sample_fn: ``epoch -> samples``.
    kind: ``'image'``, ``'audio'`` or ``'text'``.
    num_levels: levels of the data (images are stretched to 0..255 for viewing).
    sample_rate: Hz, for audio.
    every: write every ``every``-th epoch.
    tag: the summary's name (``'samples'``; e.g. reconstructions).
  """

  def __init__(self, log_dir, sample_fn, kind, num_levels=256, sample_rate=8000, every=1,
               tag="samples"):
    super().__init__()
    if kind not in ("image", "video", "audio", "text"):
      raise ValueError(f"`kind` must be 'image', 'video', 'audio' or 'text', got {kind!r}.")
    self.log_dir, self.sample_fn, self.kind = log_dir, sample_fn, kind
    self.num_levels, self.sample_rate, self.every = num_levels, sample_rate, every
    self.tag = tag
    self._writer = None

  def write(self, samples, step):
    if self._writer is None:
      self._writer = tf.summary.create_file_writer(self.log_dir)
    with self._writer.as_default(step=step):
      if self.kind == "image":
        tf.summary.image(self.tag, image_grid_of(samples, self.num_levels)[None])
      elif self.kind == "video":
        tf.summary.image(self.tag, video_strip_of(samples, self.num_levels)[None])
      elif self.kind == "audio":
        wave = np.stack(waves_of(samples, self.num_levels))[..., None]
        tf.summary.audio(self.tag, wave, self.sample_rate, max_outputs=len(samples))
      else:
        tf.summary.text(self.tag, tf.constant(texts_of(samples)))
    self._writer.flush()

  def on_epoch_end(self, epoch, logs=None):
    if (epoch + 1) % self.every == 0:
      self.write(self.sample_fn(epoch), epoch)

  def on_train_end(self, logs=None):
    if self._writer is not None:
      self._writer.close()
      self._writer = None

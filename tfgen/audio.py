"""Audio helpers: μ-law companding, WAV reading and writing, resampling."""

import os

import numpy as np
import tensorflow as tf

from tfgen import _validation


def _check_unit_range(x, name):
  """ValueError (eager) or an assertion (graph) unless −1 ≤ x ≤ 1 and finite."""
  message = f"`{name}` must hold finite values in [-1, 1]"
  ok = tf.reduce_all(tf.math.is_finite(x)) & tf.reduce_all(tf.abs(x) <= 1.)
  if tf.executing_eagerly():
    if not bool(ok):
      finite = x[tf.math.is_finite(x)]
      lo = float(tf.reduce_min(finite)) if tf.size(finite) else float("nan")
      hi = float(tf.reduce_max(finite)) if tf.size(finite) else float("nan")
      extra = "" if bool(tf.reduce_all(tf.math.is_finite(x))) else " and non-finite values"
      raise ValueError(f"{message}; got values in [{lo}, {hi}]{extra}.")
    return []
  return [tf.debugging.Assert(ok, [message + "."])]


def mu_law_encode(x, levels=256):
  """Waveform in ``[−1, 1]`` → integer codes in ``[0, levels)`` (ITU-T G.711 μ-law).

  ``x̃ = sign(x) · ln(1 + μ|x|) / ln(1 + μ)`` with ``μ = levels − 1``, then
  ``x̃`` is quantised uniformly to ``levels`` codes (van den Oord et al.
  2016, §2.2).

  Raises:
    ValueError: for values outside ``[−1, 1]`` or non-finite values.
  """
  levels = _levels(levels)
  x = tf.convert_to_tensor(x, tf.float32)
  mu = float(levels - 1)
  with tf.control_dependencies(_check_unit_range(x, "x")):
    companded = tf.sign(x) * tf.math.log1p(mu * tf.abs(x)) / np.log1p(mu)
    return tf.cast(tf.floor((companded + 1.) / 2. * mu + 0.5), tf.int32)


def _levels(levels):
  levels = _validation.positive_int(levels, "levels")
  if levels < 2:
    raise ValueError(f"`levels` must be at least 2, got {levels}.")
  return levels


def mu_law_decode(codes, levels=256):
  """Integer codes in ``[0, levels)`` → waveform in ``[−1, 1]``; inverse of
  :func:`mu_law_encode` up to quantisation.

  Raises:
    ValueError: codes that are not whole numbers in ``[0, levels)``.
  """
  levels = _levels(levels)
  codes = tf.convert_to_tensor(codes)
  flat = tf.reshape(codes, [1, -1])  # any shape: checked as one batch of values
  if not tf.executing_eagerly() or tf.size(flat) > 0:
    flat = _validation.discrete_batch(flat, [None], levels, name="codes", allow_empty=True)
  codes = tf.reshape(flat, tf.shape(codes))
  mu = float(levels - 1)
  companded = tf.cast(codes, tf.float32) * (2. / mu) - 1.
  return tf.sign(companded) * (tf.pow(1. + mu, tf.abs(companded)) - 1.) / mu


def read_wav(path):
  """Reads a 16-bit PCM WAV file: ``(samples float32 [T] in [−1, 1], rate)``.

  Multi-channel audio is downmixed to mono by averaging.

  Raises:
    ValueError: if the file is empty, corrupt, or not 16-bit PCM WAV; the
      message names the file.
  """
  path = os.fspath(path)
  if not os.path.isfile(path):
    raise FileNotFoundError(f"No WAV file at {path!r}.")
  try:
    data = tf.io.read_file(path)
  except tf.errors.OpError as e:
    raise ValueError(f"{path!r} cannot be read: {e.message.splitlines()[0]}") from None
  if int(tf.strings.length(data)) == 0:
    raise ValueError(f"{os.fspath(path)!r} is empty.")
  try:
    audio, rate = tf.audio.decode_wav(data)
  except tf.errors.OpError as e:
    raise ValueError(f"{os.fspath(path)!r} is not a readable 16-bit PCM WAV file "
                     f"({_plain(e.message)}).") from None
  if audio.shape[0] == 0:
    raise ValueError(f"{os.fspath(path)!r} has no samples.")
  return tf.reduce_mean(audio, axis=-1), int(rate)


def _plain(message):
  """A TF error message without its ``{{function_node ...}}`` prefix and node lists."""
  import re
  message = re.sub(r"\{\{function_node [^}]*\}\}", "", message.splitlines()[0])
  return re.sub(r"\s*\[Op:[^\]]*\]", "", message).strip()


def write_wav(path, samples, rate):
  """Writes mono float samples in ``[−1, 1]`` as 16-bit PCM WAV.

  Raises:
    ValueError: non-finite samples or samples outside ``[−1, 1]`` (tfgen
      never clips silently), a rate that is not a positive int, or a path
      that is a folder or cannot be written.
  """
  rate = _validation.positive_int(rate, "rate")
  samples = tf.convert_to_tensor(samples, tf.float32)
  if samples.shape.rank != 1:
    raise ValueError(f"`samples` must be 1-D (mono), got shape {samples.shape.as_list()}.")
  _check_unit_range(samples, "samples")
  path = os.fspath(path)
  if os.path.isdir(path):
    raise ValueError(f"{path!r} is a folder; give a .wav file path.")
  try:
    tf.io.write_file(path, tf.audio.encode_wav(samples[:, None], rate))
  except tf.errors.OpError as e:
    raise ValueError(f"Cannot write {path!r}: {_plain(e.message)}") from None


def resample(samples, rate_in, rate_out):
  """Band-limited resampling of a 1-D signal by FFT (ideal low-pass).

  Returns ``round(T · rate_out / rate_in)`` samples. Fine for clips of
  speech; it assumes the clip is periodic, so its edges may ring slightly.
  """
  if not (rate_in > 0 and rate_out > 0):
    raise ValueError(f"Sample rates must be positive, got {rate_in} -> {rate_out}.")
  x = np.asarray(samples, np.float64)
  if x.ndim != 1 or len(x) == 0:
    raise ValueError(f"`samples` must be a non-empty 1-D signal, got shape {x.shape}.")
  if rate_in == rate_out:
    return x.astype(np.float32)
  n_out = int(round(len(x) * rate_out / rate_in))
  spectrum = np.fft.rfft(x)
  keep = min(len(spectrum), n_out // 2 + 1)
  out = np.zeros(n_out // 2 + 1, complex)
  out[:keep] = spectrum[:keep]
  return (np.fft.irfft(out, n_out) * (n_out / len(x))).astype(np.float32)


def resampled_codes(samples, rate_in, rate_out, levels=256):
  """A 1-D signal in [-1, 1] as the codes tfgen's audio models take:
  resampled from ``rate_in`` to ``rate_out`` Hz (:func:`resample`), clipped
  to [-1, 1] (the resampler can ring past it) and μ-law encoded to
  ``levels`` codes; a numpy int32 array."""
  x = resample(samples, rate_in, rate_out)
  return mu_law_encode(np.clip(x, -1., 1.), levels).numpy()

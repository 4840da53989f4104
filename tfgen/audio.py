"""Audio helpers: μ-law companding, WAV reading and writing, resampling."""

import os

import numpy as np
import tensorflow as tf


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
  x = tf.convert_to_tensor(x, tf.float32)
  mu = float(levels - 1)
  with tf.control_dependencies(_check_unit_range(x, "x")):
    companded = tf.sign(x) * tf.math.log1p(mu * tf.abs(x)) / np.log1p(mu)
    return tf.cast(tf.floor((companded + 1.) / 2. * mu + 0.5), tf.int32)


def mu_law_decode(codes, levels=256):
  """Integer codes in ``[0, levels)`` → waveform in ``[−1, 1]``; inverse of
  :func:`mu_law_encode` up to quantisation."""
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
  data = tf.io.read_file(os.fspath(path))
  if int(tf.strings.length(data)) == 0:
    raise ValueError(f"{os.fspath(path)!r} is empty.")
  try:
    audio, rate = tf.audio.decode_wav(data)
  except tf.errors.InvalidArgumentError as e:
    raise ValueError(f"{os.fspath(path)!r} is not a readable 16-bit PCM WAV file: "
                     f"{e.message.splitlines()[0]}") from None
  if audio.shape[0] == 0:
    raise ValueError(f"{os.fspath(path)!r} has no samples.")
  return tf.reduce_mean(audio, axis=-1), int(rate)


def write_wav(path, samples, rate):
  """Writes mono float samples in ``[−1, 1]`` as 16-bit PCM WAV."""
  samples = tf.clip_by_value(tf.convert_to_tensor(samples, tf.float32), -1., 1.)
  if samples.shape.rank != 1:
    raise ValueError(f"`samples` must be 1-D (mono), got shape {samples.shape.as_list()}.")
  tf.io.write_file(os.fspath(path), tf.audio.encode_wav(samples[:, None], int(rate)))


def resample(samples, rate_in, rate_out):
  """Band-limited resampling of a 1-D signal by FFT (ideal low-pass).

  Returns ``round(T · rate_out / rate_in)`` samples. Fine for clips of
  speech; it assumes the clip is periodic, so its edges may ring slightly.
  """
  if rate_in <= 0 or rate_out <= 0:
    raise ValueError(f"Sample rates must be positive, got {rate_in} -> {rate_out}.")
  x = np.asarray(samples, np.float64)
  if rate_in == rate_out:
    return x.astype(np.float32)
  n_out = int(round(len(x) * rate_out / rate_in))
  spectrum = np.fft.rfft(x)
  keep = min(len(spectrum), n_out // 2 + 1)
  out = np.zeros(n_out // 2 + 1, complex)
  out[:keep] = spectrum[:keep]
  return (np.fft.irfft(out, n_out) * (n_out / len(x))).astype(np.float32)

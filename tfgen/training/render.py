"""Samples in data form → what a person looks at or listens to: one place for
the CLI's sample files and the TensorBoard sample summaries."""

import os

import numpy as np

from tfgen import audio
from tfgen.data.table import write_csv
from tfgen.training.grid import image_grid, write_png

#: The file each kind of data is written as.
EXTENSIONS = {"image": ".png", "video": ".png", "audio": ".wav", "text": ".txt",
              "table": ".csv"}


def image_grid_of(samples, num_levels):
  """``[N, H, W, C]`` integer images with ``num_levels`` levels → one uint8 grid,
  stretched to 0..255 (so binarized images show black and white)."""
  images = np.asarray(samples).astype(np.int64) * 255 // (num_levels - 1)
  return image_grid(images.astype(np.uint8))


def video_strip_of(samples, num_levels, pad=1):
  """``[N, T, H, W, C]`` integer videos → one uint8 image: a row per video,
  its frames left to right, stretched to 0..255."""
  videos = np.asarray(samples).astype(np.int64) * 255 // (num_levels - 1)
  n, t, h, w, c = videos.shape
  strip = np.zeros((n * (h + pad) + pad, t * (w + pad) + pad, c), np.uint8)
  for i in range(n):
    for j in range(t):
      strip[pad + i * (h + pad): pad + i * (h + pad) + h,
            pad + j * (w + pad): pad + j * (w + pad) + w] = videos[i, j]
  return strip


def waves_of(samples, num_levels):
  """μ-law code sequences ``[N, T]`` → a list of float waveforms in [−1, 1]."""
  return [audio.mu_law_decode(np.asarray(s), num_levels).numpy() for s in samples]


def texts_of(samples):
  """Byte sequences ``[N, T]`` → strings (invalid UTF-8 shows as U+FFFD)."""
  return [bytes(np.asarray(s, np.uint8)).decode("utf-8", "replace") for s in samples]


def write_samples(path, samples, kind, num_levels=256, sample_rate=8000, columns=None):
  """Writes samples as a PNG grid (images), a PNG strip (videos: a row
  each, frames left to right), one WAV with a quarter second of
  silence between clips (audio), or a text file with a blank line between
  samples (text), or a CSV with a header row of ``columns`` (tables)."""
  if kind not in EXTENSIONS:
    raise ValueError(f"`kind` must be one of {sorted(EXTENSIONS)}, got {kind!r}.")
  os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
  if kind == "table":
    samples = np.asarray(samples)
    names = columns or [f"c{j}" for j in range(samples.shape[-1])]
    write_csv(path, samples.reshape(-1, samples.shape[-1]), names)
  elif kind == "image":
    write_png(path, image_grid_of(samples, num_levels))
  elif kind == "video":
    write_png(path, video_strip_of(samples, num_levels))
  elif kind == "audio":
    gap = np.zeros(sample_rate // 4, np.float32)
    clips = waves_of(samples, num_levels)
    audio.write_wav(path, np.concatenate([x for c in clips for x in (c, gap)][:-1]), sample_rate)
  else:
    with open(path, "w", encoding="utf-8") as f:
      for text in texts_of(samples):
        f.write(text + "\n\n")

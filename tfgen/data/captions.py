"""Captions as byte codes, and captions drawn for class labels (text-to-image data).

A caption is UTF-8 text of at most ``text_length`` bytes, stored as int32
``[text_length]`` codes zero-padded on the right (0 is the padding, so a
caption holds no NUL byte and at least one byte).
"""

import numpy as np


def encode_captions(captions, text_length):
  """Strings (or bytes) → int32 ``[N, text_length]`` UTF-8 bytes, zero-padded.

  Raises ValueError for an empty caption, a NUL byte (0 is the padding),
  or one longer than ``text_length`` bytes.
  """
  if isinstance(captions, (str, bytes)):
    raise ValueError("`captions` must be a list of strings, not one string.")
  out = np.zeros([len(captions), text_length], np.int32)
  for i, caption in enumerate(captions):
    if isinstance(caption, str):
      caption = caption.encode("utf-8")
    if not isinstance(caption, (bytes, bytearray)):
      raise ValueError(f"caption {i} must be text (str or bytes), got "
                       f"{type(caption).__name__}.")
    if not caption:
      raise ValueError(f"caption {i} is empty; a caption needs at least one byte.")
    if b"\0" in caption:
      raise ValueError(f"caption {i} holds a NUL byte (0 pads captions).")
    if len(caption) > text_length:
      raise ValueError(f"caption {i} has {len(caption)} bytes, more than "
                       f"text_length={text_length}: {caption[:40]!r}...")
    out[i, :len(caption)] = np.frombuffer(bytes(caption), np.uint8)
  return out


def label_captions(labels, class_names, templates, text_length, seed=0):
  """int32 captions ``[B, text_length]`` for class ids ``labels``: each example
  draws a template (``'photo of {}'``) with its class name; ``seed`` fixes
  the draws. ValueError for a label outside ``[0, len(class_names))``."""
  labels = np.asarray(labels).reshape(-1)
  if labels.size and (labels.min() < 0 or labels.max() >= len(class_names)):
    raise ValueError(f"labels must lie in [0, {len(class_names) - 1}].")
  rng = np.random.default_rng(seed)
  picks = rng.integers(0, len(templates), size=labels.size)
  return encode_captions([templates[p].format(class_names[c]) for p, c in zip(picks, labels)],
                         text_length)

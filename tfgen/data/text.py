"""Plain-text files as byte sequences, for character-level models."""

import glob
import os

import numpy as np


def read_text(path):
  """The UTF-8 bytes of a text file, or of every ``*.txt`` below a folder
  (in sorted order, one newline between files), as uint8 ``[N]``.

  Byte-level modelling needs no vocabulary: every file is 256-way data and
  the bytes decode back to the text exactly (``bytes(codes).decode()``).

  Raises:
    FileNotFoundError: ``path`` does not exist or holds no ``.txt`` file.
    ValueError: the text is empty.
  """
  path = os.fspath(path)
  if os.path.isdir(path):
    files = sorted(glob.glob(os.path.join(path, "**", "*.txt"), recursive=True))
    if not files:
      raise FileNotFoundError(f"No .txt files under {path!r}.")
  elif os.path.isfile(path):
    files = [path]
  else:
    raise FileNotFoundError(f"No text file or folder at {path!r}.")
  chunks = []
  for f in files:
    with open(f, "rb") as handle:
      chunks.append(handle.read())
  data = b"\n".join(chunks)
  if not data:
    raise ValueError(f"The text under {path!r} is empty.")
  return np.frombuffer(data, np.uint8)


def split_text(codes, split, test_fraction=0.1):
  """The first ``1 - test_fraction`` of ``codes`` for ``'train'``, the rest for ``'test'``."""
  cut = int(round(len(codes) * (1 - test_fraction)))
  return codes[:cut] if split == "train" else codes[cut:]

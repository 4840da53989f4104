"""The Debian ``fortunes`` collection: several MB of English text, offline."""

import os

import numpy as np

FORTUNES_DIR = "/usr/share/games/fortunes"
HOW_TO_GET = ("The fortunes text was not found. Get it one of these ways:\n"
              "  - Debian/Ubuntu: sudo apt-get install fortunes  (files land in "
              f"{FORTUNES_DIR})\n"
              "  - pass data_dir=DIR (CLI: --data-dir DIR): a folder of fortune files (plain "
              "text; the .dat indexes and .u8 links are skipped).")


def read_fortunes(directory=None):
  """The fortune files in ``directory`` (default: the Debian package's folder),
  each as uint8 bytes, in sorted file-name order.

  Fortune files are plain text, one saying after another, separated by lines
  holding ``%``; they are kept as they are (the separators teach a model
  where sayings end). Files ending in ``.dat`` (strfile indexes) or ``.u8``
  (links) and hidden files are skipped.

  Raises:
    FileNotFoundError: no such folder, or no fortune file in it; the message
      says how to get them.
  """
  directory = os.fspath(directory or FORTUNES_DIR)
  if not os.path.isdir(directory):
    raise FileNotFoundError(HOW_TO_GET)
  names = sorted(n for n in os.listdir(directory)
                 if not n.startswith(".") and not n.endswith((".dat", ".u8"))
                 and os.path.isfile(os.path.join(directory, n))
                 and not os.path.islink(os.path.join(directory, n)))
  texts = []
  for name in names:
    with open(os.path.join(directory, name), "rb") as f:
      data = f.read()
    if data:
      texts.append(np.frombuffer(data, np.uint8))
  if not texts:
    raise FileNotFoundError(f"No fortune files in {directory!r}.\n{HOW_TO_GET}")
  return texts


def split_files(texts, split):
  """Every tenth file (in sorted order) is the test split; the rest train."""
  chosen = [t for i, t in enumerate(texts) if (i % 10 == 9) == (split == "test")]
  return chosen or texts[:1]

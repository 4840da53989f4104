"""Fashion-MNIST (Xiao et al. 2017): offline IDX files first, TFDS online."""

import os

from tfgen.data import tfds_source
from tfgen.data.idx import SPLIT_FILES as _FILES
from tfgen.data.idx import read_idx_split as _from_idx

DEBIAN_DIR = "/usr/share/datasets/fashion-mnist"
HOW_TO_GET = ("Fashion-MNIST was not found. Get it one of these ways:\n"
              "  - Debian/Ubuntu: sudo apt-get install dataset-fashion-mnist  (files land in "
              f"{DEBIAN_DIR})\n"
              "  - pass data_dir=DIR (CLI: --data-dir DIR) or set TFGEN_DATA_DIR to a folder with "
              "the four IDX files (train-images-idx3-ubyte[.gz], ...)\n"
              "  - online: TFDS downloads it on first use (tfds.load('fashion_mnist')).")


def _from_tfds(split):
  return tfds_source.load("fashion_mnist", split, how_to_get=HOW_TO_GET, as_arrays=True)


def load_fashion_mnist(split="train", data_dir=None):
  """Returns ``(images uint8 [N, 28, 28, 1], labels int64 [N])``.

  Looks in ``data_dir``, then ``$TFGEN_DATA_DIR``, then the Debian package's
  folder, then asks TFDS (which downloads when online).

  Raises:
    ValueError: for an unknown split, or ``data_dir`` without the files.
    FileNotFoundError: when no source has the data; the message says how
      to get it.
  """
  if split not in _FILES:
    raise ValueError(f"`split` must be one of {sorted(_FILES)}, got {split!r}.")
  if data_dir is not None:
    found = _from_idx(data_dir, split)
    if found is None:
      raise ValueError(f"data_dir={data_dir!r} does not contain {_FILES[split][0]}[.gz] and "
                       f"{_FILES[split][1]}[.gz].")
    return found
  for directory in (os.environ.get("TFGEN_DATA_DIR"), DEBIAN_DIR):
    if directory:
      found = _from_idx(directory, split)
      if found is not None:
        return found
  return _from_tfds(split)

"""Fashion-MNIST (Xiao et al. 2017): offline IDX files first, TFDS online."""

import os

import numpy as np
import tensorflow as tf

from tfgen.data.idx import read_idx

DEBIAN_DIR = "/usr/share/datasets/fashion-mnist"
_FILES = {"train": ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
          "test": ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte")}
HOW_TO_GET = ("Fashion-MNIST was not found. Get it one of these ways:\n"
              "  - Debian/Ubuntu: sudo apt-get install dataset-fashion-mnist  (files land in "
              f"{DEBIAN_DIR})\n"
              "  - pass data_dir=DIR (CLI: --data-dir DIR) or set TFGEN_DATA_DIR to a folder with "
              "the four IDX files (train-images-idx3-ubyte[.gz], ...)\n"
              "  - online: TFDS downloads it on first use (tfds.load('fashion_mnist')).")


def _find(directory, stem):
  for name in (stem + ".gz", stem):
    path = os.path.join(directory, name)
    if os.path.exists(path):
      return path
  return None


def _from_idx(directory, split):
  paths = [_find(directory, stem) for stem in _FILES[split]]
  if None in paths:
    return None
  images, labels = (read_idx(p) for p in paths)
  if images.ndim != 3 or len(images) != len(labels):
    raise ValueError(f"IDX files in {directory!r} do not hold matching images [N, H, W] and "
                     f"labels [N]: got {images.shape} and {labels.shape}.")
  return images[..., None], labels.astype(np.int64)


def _from_tfds(split):
  try:
    import tensorflow_datasets as tfds
    images, labels = tfds.as_numpy(tfds.load("fashion_mnist", split=split, batch_size=-1,
                                             as_supervised=True))
  except Exception as e:  # offline, or TFDS unavailable: report how to get the data.
    raise FileNotFoundError(HOW_TO_GET + f"\n(TFDS said: {type(e).__name__}: {e})") from None
  return images, labels.astype(np.int64)


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


def fashion_mnist(split="train", batch_size=64, data_dir=None, labels=False, shuffle=None,
                  repeat=False, take=None, seed=None):
  """A batched ``tf.data.Dataset`` of uint8 images ``[B, 28, 28, 1]``.

  With ``labels=True`` elements are ``(images, labels)``. Shuffles the
  training split by default; ``take`` keeps the first N examples.
  """
  images, y = load_fashion_mnist(split, data_dir)
  if take is not None:
    images, y = images[:take], y[:take]
  ds = tf.data.Dataset.from_tensor_slices((images, y) if labels else images)
  if shuffle if shuffle is not None else split == "train":
    ds = ds.shuffle(min(len(images), 60000), seed=seed, reshuffle_each_iteration=True)
  if repeat:
    ds = ds.repeat()
  return ds.batch(batch_size, drop_remainder=repeat).prefetch(tf.data.AUTOTUNE)

"""Reader for the IDX format of MNIST and Fashion-MNIST (LeCun et al.)."""

import gzip
import os
import zlib

import numpy as np

_DTYPES = {0x08: np.uint8, 0x09: np.int8, 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}


def read_idx(path):
  """Returns the array stored in an IDX file (optionally gzipped).

  Raises:
    ValueError: if the file is truncated, not IDX, or a ``.gz`` that is not
      gzip; the message names the file.
  """
  opener = gzip.open if str(path).endswith(".gz") else open
  try:
    with opener(path, "rb") as f:
      data = f.read()
  except (EOFError, gzip.BadGzipFile, OSError, zlib.error) as e:
    raise ValueError(f"{os.fspath(path)!r} cannot be read ({type(e).__name__}: {e}); "
                     "it is truncated or not the file it claims to be.") from None
  if len(data) < 4 or data[0] != 0 or data[1] != 0 or data[2] not in _DTYPES:
    raise ValueError(f"{os.fspath(path)!r} is not an IDX file (bad magic number).")
  ndim = data[3]
  header = 4 + 4 * ndim
  dims = [int.from_bytes(data[4 + 4 * i: 8 + 4 * i], "big") for i in range(ndim)]
  dtype = np.dtype(_DTYPES[data[2]])
  expected = header + int(np.prod(dims)) * dtype.itemsize
  if len(data) != expected:
    raise ValueError(f"{os.fspath(path)!r} is truncated or corrupt: {len(data)} bytes, "
                     f"expected {expected} for shape {dims}.")
  return np.frombuffer(data, dtype=dtype, offset=header).reshape(dims)


# The file names are the same for MNIST and Fashion-MNIST.
SPLIT_FILES = {"train": ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
               "test": ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte")}


def _find(directory, stem):
  for name in (stem + ".gz", stem):
    path = os.path.join(directory, name)
    if os.path.exists(path):
      return path
  return None


def read_idx_split(directory, split, num_classes=10):
  """``(images uint8 [N, H, W, 1], labels int64 [N])`` of an MNIST-style
  split in ``directory``, or ``None`` when its two files are not there.

  Raises:
    ValueError: when the files exist but do not hold matching images and labels.
  """
  paths = [_find(directory, stem) for stem in SPLIT_FILES[split]]
  if None in paths:
    return None
  images, labels = (read_idx(p) for p in paths)
  if images.ndim != 3 or labels.ndim != 1 or len(images) != len(labels):
    raise ValueError(f"IDX files in {directory!r} do not hold matching images [N, H, W] and "
                     f"labels [N]: got {images.shape} and {labels.shape}.")
  if len(images) == 0:
    raise ValueError(f"{paths[0]!r} holds no images.")
  if images.dtype != np.uint8 or labels.dtype != np.uint8:
    raise ValueError(f"IDX files in {directory!r} must hold unsigned bytes (8-bit images and "
                     f"labels), got {images.dtype} images and {labels.dtype} labels.")
  if labels.max() >= num_classes:
    raise ValueError(f"{paths[1]!r} has labels up to {int(labels.max())}; expected class ids "
                     f"in [0, {num_classes - 1}].")
  return images[..., None], labels.astype(np.int64)

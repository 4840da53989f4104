"""Reader for the IDX format of (Fashion-)MNIST (LeCun et al.)."""

import gzip
import os

import numpy as np

_DTYPES = {0x08: np.uint8, 0x09: np.int8, 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}


def read_idx(path):
  """Returns the array stored in an IDX file (optionally gzipped).

  Raises:
    ValueError: if the file is truncated or not IDX.
  """
  opener = gzip.open if str(path).endswith(".gz") else open
  with opener(path, "rb") as f:
    data = f.read()
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

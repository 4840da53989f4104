import gzip

import numpy as np
import pytest

from tfgen import data
from tfgen.data import load_fashion_mnist, read_idx
from tfgen.data import fashion as fm_module


def _write_idx(path, array):
  header = bytes([0, 0, 0x08, array.ndim]) + b"".join(
      int(d).to_bytes(4, "big") for d in array.shape)
  with gzip.open(path, "wb") as f:
    f.write(header + array.astype(np.uint8).tobytes())


def _fake_dir(tmp_path, n=10):
  images = np.random.default_rng(0).integers(0, 256, size=(n, 28, 28), dtype=np.uint8)
  labels = np.arange(n, dtype=np.uint8) % 10
  _write_idx(tmp_path / "t10k-images-idx3-ubyte.gz", images)
  _write_idx(tmp_path / "t10k-labels-idx1-ubyte.gz", labels)
  return images, labels


def test_reads_idx_files_from_a_directory(tmp_path):
  images, labels = _fake_dir(tmp_path)
  x, y = load_fashion_mnist("test", data_dir=str(tmp_path))
  np.testing.assert_array_equal(x[..., 0], images)
  np.testing.assert_array_equal(y, labels)
  ds = data.load("fashion_mnist", "test", 4, data_dir=str(tmp_path), labels=True)
  batches = list(ds)
  assert [b[0].shape[0] for b in batches] == [4, 4, 2]
  assert batches[0][0].dtype.name == "uint8"


def test_truncated_file_is_reported(tmp_path):
  path = tmp_path / "bad.gz"
  with gzip.open(path, "wb") as f:
    f.write(bytes([0, 0, 8, 1]) + (100).to_bytes(4, "big") + b"\x00" * 10)
  with pytest.raises(ValueError, match="truncated"):
    read_idx(str(path))


def test_missing_everywhere_says_how_to_get_it(tmp_path, monkeypatch):
  monkeypatch.setattr(fm_module, "DEBIAN_DIR", str(tmp_path / "nope"))
  monkeypatch.delenv("TFGEN_DATA_DIR", raising=False)

  def offline(split):
    raise FileNotFoundError(fm_module.HOW_TO_GET)
  monkeypatch.setattr(fm_module, "_from_tfds", offline)
  with pytest.raises(FileNotFoundError, match="apt-get install dataset-fashion-mnist"):
    load_fashion_mnist("train")
  with pytest.raises(ValueError, match="does not contain"):
    load_fashion_mnist("train", data_dir=str(tmp_path))
  with pytest.raises(ValueError, match="split"):
    load_fashion_mnist("validation")


def test_real_files_when_installed(fmnist_available):
  x, y = load_fashion_mnist("test")
  assert x.shape == (10000, 28, 28, 1) and x.dtype == np.uint8
  assert sorted(set(y.tolist())) == list(range(10))

import numpy as np
import pytest
import tensorflow as tf

from tfgen import data
from tfgen.data import tfds_source
from tests.data.test_fashion import _write_idx
from tests.data.test_wav import _tone


def _mnist_dir(path, n=12):
  rng = np.random.default_rng(1)
  images = rng.integers(0, 256, size=(n, 28, 28), dtype=np.uint8)
  for split, prefix in (("train", "train"), ("test", "t10k")):
    _write_idx(path / f"{prefix}-images-idx3-ubyte.gz", images)
    _write_idx(path / f"{prefix}-labels-idx1-ubyte.gz", np.arange(n, dtype=np.uint8) % 10)
  return images


def test_mnist_and_binarized_from_idx_files(tmp_path):
  images = _mnist_dir(tmp_path)
  x, y = next(iter(data.load("mnist", "test", 12, data_dir=str(tmp_path), labels=True)))
  np.testing.assert_array_equal(x.numpy()[..., 0], images)            # test split keeps order
  np.testing.assert_array_equal(y.numpy(), np.arange(12) % 10)
  b = next(iter(data.load("binarized_mnist", "test", 12, data_dir=str(tmp_path)))).numpy()
  np.testing.assert_array_equal(b[..., 0], (images >= 128).astype(np.uint8))
  assert data.info("binarized_mnist").num_levels == 2


def test_training_split_shuffles_repeats_and_keeps_batch_shape(tmp_path):
  images = _mnist_dir(tmp_path, n=10)
  ds = data.load("mnist", "train", 4, data_dir=str(tmp_path), repeat=True, seed=0)
  batches = [b.numpy() for b in ds.take(6)]                 # 24 examples from 10: repeats
  assert all(b.shape == (4, 28, 28, 1) for b in batches)    # no ragged last batch
  first = np.concatenate(batches)[:10, ..., 0]
  assert not np.array_equal(first, images)                  # shuffled
  assert sorted(map(bytes, first)) == sorted(map(bytes, images))   # a permutation of one epoch


@pytest.mark.parametrize("batch", [4, 64])
def test_every_pass_is_a_new_permutation_and_seeds_reproduce(tmp_path, batch):
  _mnist_dir(tmp_path, n=10)
  load = lambda seed: np.concatenate([b.numpy()[..., 0].reshape(len(b), -1)[:, :8] for b in
                                      data.load("mnist", "train", batch, data_dir=str(tmp_path),
                                                repeat=True, seed=seed, labels=False).take(5)])
  stream = load(0)
  keys = [bytes(row) for row in stream]
  passes = [keys[i:i + 10] for i in range(0, len(keys) - 9, 10)]
  assert len(passes) >= 2 and all(len(set(p)) == 10 for p in passes)   # each pass: all ten
  assert passes[0] != passes[1]                                      # reshuffled
  assert np.array_equal(load(0), stream) and not np.array_equal(load(1), stream)


@pytest.mark.parametrize("batch", [100, 1000])   # one slice per window; one gather
def test_random_windows_start_uniformly_over_every_window(batch):
  from tfgen.data.windows import random_windows
  clips = [np.arange(10), np.arange(100, 105), np.arange(200, 202)]   # 8 + 3 + 0 windows of 3
  x = np.concatenate([b.numpy() for b in random_windows(clips, 3, batch, seed=0)
                      .take(11000 // batch)])
  assert x.dtype == np.int32 and (np.diff(x, axis=1) == 1).all()      # real, contiguous
  starts, counts = np.unique(x[:, 0], return_counts=True)
  assert starts.tolist() == list(range(8)) + [100, 101, 102]
  assert counts.min() > 0.8 * 1000 and counts.max() < 1.2 * 1000      # 11000 draws, 11 starts


def test_tfds_datasets_through_tfds(monkeypatch):
  import tensorflow_datasets as tfds
  monkeypatch.setattr(tfds_source, "online", lambda timeout=3.0: True)
  with tfds.testing.mock_data(num_examples=20):
    x, y = next(iter(data.load("cifar10", "train", 8, labels=True, seed=0)))
    assert x.shape == (8, 32, 32, 3) and x.dtype == tf.uint8 and y.dtype == tf.int64
    b = next(iter(data.load("binarized_mnist", "test", 8))).numpy()
    assert b.shape == (8, 28, 28, 1) and set(np.unique(b)) <= {0, 1}


def test_offline_missing_dataset_fails_fast_with_how_to(tmp_path, monkeypatch):
  monkeypatch.setattr(tfds_source, "online", lambda timeout=3.0: False)
  for name, hint in (("mnist", "--data-dir"), ("cifar10", "tfds.load('cifar10')")):
    with pytest.raises(FileNotFoundError, match="was not found") as e:
      data.load(name, data_dir=str(tmp_path))
    assert hint in str(e.value) and "offline" in str(e.value)


def test_wav_folder_holds_out_every_tenth_file(tmp_path):
  for i in range(10):
    _tone(tmp_path / f"{i:02d}.wav", 8000, seconds=0.25)   # 2000 samples each
  train = data.load("wav", "train", 4, data_dir=str(tmp_path), window=500, seed=0)
  assert next(iter(train)).shape == (4, 500)
  test = np.concatenate([b.numpy() for b in data.load("wav", "test", 3, data_dir=str(tmp_path),
                                                      window=500)])
  assert test.shape == (4, 500)                             # one file, 4 whole windows, once


def test_text_is_byte_level_and_split_at_ninety_percent(tmp_path):
  text = "".join(chr(ord("a") + i % 26) for i in range(1000))
  (tmp_path / "a.txt").write_text(text)
  test = np.concatenate([b.numpy() for b in data.load("text", "test", 8,
                                                      data_dir=str(tmp_path), window=10)])
  assert bytes(test.ravel().astype(np.uint8)).decode() == text[900:]
  train = next(iter(data.load("text", "train", 2, data_dir=str(tmp_path / "a.txt"),
                              window=50, seed=1))).numpy()
  for row in train:                                        # every window is a real substring
    assert bytes(row.astype(np.uint8)).decode() in text[:900]


@pytest.mark.parametrize("kwargs, match", [
    (dict(name="imagenet"), "Unknown dataset 'imagenet'; available: fashion_mnist"),
    (dict(name="text"), "needs data_dir"),
    (dict(name="mnist", split="valid"), "split"),
    (dict(name="mnist", batch_size=0), "batch_size"),
    (dict(name="speech", labels=True), "no labels"),
])
def test_bad_arguments_are_named(kwargs, match, tmp_path):
  kwargs.setdefault("data_dir", None if kwargs["name"] != "speech" else str(tmp_path))
  if kwargs["name"] == "speech":
    _tone(tmp_path / "a.wav", 8000)
  with pytest.raises(ValueError, match=match):
    data.load(**kwargs)


def test_missing_data_dir_is_reported(tmp_path):
  with pytest.raises(FileNotFoundError, match="does not exist"):
    data.load("text", data_dir=str(tmp_path / "nope.txt"))

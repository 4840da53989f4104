"""Image folders (tfgen.data.image_folder) through data.load and the CLI."""

import os

import numpy as np
import pytest
import tensorflow as tf

from tfgen import data
from tfgen.data import image_folder
from tfgen.data.fashion import load_fashion_mnist


def _png(path, image):
  os.makedirs(os.path.dirname(path), exist_ok=True)
  tf.io.write_file(str(path), tf.io.encode_png(image))


def _fashion_folder(root, per_class=12, classes=(0, 9)):
  """PNGs of real Fashion-MNIST images in one subfolder per class."""
  images, labels = load_fashion_mnist("test")
  names = {0: "t-shirt", 9: "ankle_boot", 1: "trouser"}
  for c in classes:
    for i, j in enumerate(np.flatnonzero(labels == c)[:per_class]):
      _png(root / names[c] / f"{i:03d}.png", images[j])
  return images, labels


def test_a_class_folder_reads_back_the_pixels_and_the_class_names(tmp_path, fmnist_available):
  images, labels = _fashion_folder(tmp_path)
  before = sorted(os.listdir(tmp_path))
  found = image_folder.read_folder(tmp_path)
  assert found.images.shape == (24, 28, 28, 1) and found.images.dtype == np.uint8
  assert found.class_names == ("ankle_boot", "t-shirt")
  np.testing.assert_array_equal(found.images[found.labels == 1][0],
                                images[np.flatnonzero(labels == 0)[0]])
  spec = data.info("images", tmp_path)
  assert (spec.shape, spec.num_classes, spec.class_names) == ((28, 28, 1), 2, found.class_names)
  x, y = next(iter(data.load("images", "train", 64, data_dir=tmp_path, labels=True)))
  test = next(iter(data.load("images", "test", 64, data_dir=tmp_path)))
  assert x.shape[0] + test.shape[0] == 24 and set(y.numpy()) <= {0, 1}
  assert sorted(os.listdir(tmp_path)) == before     # nothing written into the user's folder


def test_colour_alpha_resize_and_bits(tmp_path):
  rgba = np.zeros([40, 20, 4], np.uint8)
  rgba[..., 0] = 200                 # red where opaque
  rgba[:20, :, 3] = 255              # top half opaque, bottom half transparent
  _png(tmp_path / "a.png", rgba)
  _png(tmp_path / "b.png", np.full([10, 10, 1], 7, np.uint8))       # grayscale
  with pytest.raises(ValueError, match="different sizes.*40x20.*10x10|10x10.*40x20"):
    image_folder.read_folder(tmp_path)
  found = image_folder.read_folder(tmp_path, image_size=(8, 8))
  assert found.images.shape == (2, 8, 8, 3)     # one colour image makes the folder RGB
  a = found.images[0]
  # 40x20 → 16x8 (shorter side), centre crop rows 4..12: opaque red on top,
  # alpha over white below.
  np.testing.assert_array_equal(a[0, 0], [200, 0, 0])
  np.testing.assert_array_equal(a[-1, 0], [255, 255, 255])
  np.testing.assert_array_equal(found.images[1], 7)              # gray → RGB
  five = image_folder.read_folder(tmp_path, image_size="8x8", bits=5)
  np.testing.assert_array_equal(five.images, found.images >> 3)


def test_the_hash_split_is_stable_when_files_are_added(tmp_path):
  for i in range(40):
    _png(tmp_path / f"{i:02d}.png", np.full([4, 4, 1], i, np.uint8))
  first = image_folder.read_folder(tmp_path)
  test_before = set(first.images[first.is_test][:, 0, 0, 0])
  for i in range(40, 80):
    _png(tmp_path / f"{i:02d}.png", np.full([4, 4, 1], i, np.uint8))
  later = image_folder.read_folder(tmp_path)
  assert test_before <= set(later.images[later.is_test][:, 0, 0, 0])
  assert 0 < later.is_test.sum() < 20


def test_train_and_test_folders_are_the_splits(tmp_path):
  for split, n in (("train", 5), ("test", 2)):
    for i in range(n):
      _png(tmp_path / split / "cat" / f"{i}.png", np.full([4, 4, 1], 1, np.uint8))
      _png(tmp_path / split / "dog" / f"{i}.png", np.full([4, 4, 1], 2, np.uint8))
  found = image_folder.read_folder(tmp_path)
  assert found.class_names == ("cat", "dog") and found.is_test.sum() == 4
  assert len(found.images) == 14


@pytest.mark.slow   # two whole runs: CI runs it (pytest -m slow)
def test_glow_and_gated_pixelcnn_train_on_a_class_folder_from_the_cli(tmp_path, capsys,
                                                                      fmnist_available):
  from tests.test_cli import _run
  _fashion_folder(tmp_path / "fm", per_class=20)
  for argv in (["glow", "--levels", "1", "--steps-per-level", "1", "--hidden-channels", "4"],
               ["gated_pixelcnn", "--filters", "8", "--num-layers", "2"]):
    out = tmp_path / argv[0]
    code, stdout, err = _run(["train"] + argv + ["--data", "images", "--data-dir",
                                                 tmp_path / "fm", "--epochs", "1",
                                                 "--steps-per-epoch", "2", "--batch-size", "8",
                                                 "--out", out, "--verbose", "0", "--no-export"],
                             capsys)
    assert code == 0, err
    code, _, err = _run(["sample", out, "--n", "4"], capsys)
    assert code == 0 and (out / "sample.png").exists(), err


@pytest.mark.slow   # the installed icons (apt: oxygen-icon-theme): CI runs it
def test_the_icons_are_a_colour_dataset_with_classes():
  if not os.path.isdir(data.catalog.ICONS_DIR):
    pytest.skip("oxygen-icon-theme not installed")
  spec = data.info("icons")
  assert spec.shape == (32, 32, 3) and spec.num_classes == 10 and "places" in spec.class_names
  x = next(iter(data.load("icons", "train", 64)))
  assert x.dtype == tf.uint8 and x.shape == [64, 32, 32, 3]
  assert float(tf.math.reduce_std(tf.cast(x, tf.float32))) > 20   # real colour content


_DATA_ARGS = ("image_shape", "event_size", "num_levels")


def _image_families():
  from tfgen import models
  return sorted(n for n, f in models.FAMILIES.items()
                if "image" in f.model.DATA_KINDS and not f.builds_on)


@pytest.fixture(scope="module")
def class_folder(tmp_path_factory):
  root = tmp_path_factory.mktemp("folder")
  if not os.path.isdir("/usr/share/datasets/fashion-mnist"):
    pytest.skip("dataset-fashion-mnist not installed")
  _fashion_folder(root, per_class=20)
  return root


@pytest.mark.slow   # every image family, a run each: CI runs it (pytest -m slow)
@pytest.mark.parametrize("name", _image_families())
def test_every_image_family_trains_on_a_resized_class_folder(name, class_folder, tmp_path):
  from tfgen import models, runs
  family = models.FAMILIES[name]
  sizes = {k: v for k, v in family.tiny.items() if k not in _DATA_ARGS}
  run = runs.train_run(tmp_path / name, name, data="images", data_dir=class_folder, epochs=1,
                       steps_per_epoch=1, batch_size=4, eval_batch_size=8, sizes=sizes,
                       image_size=(8, 8), export=False, verbose=0, log=lambda line: None)
  assert run.finished and all(np.isfinite(v) for v in run.config["test"].values())
  assert run.config["source"] == {"image_size": [8, 8]} or run.config["source"] == {
      "image_size": (8, 8)}

"""--data tfds:NAME[:CONFIG]: a prepared TFDS image dataset, read offline."""

import numpy as np
import pytest

from tfgen import data


@pytest.fixture(scope="module")
def tfds_dir(tmp_path_factory):
  """A TFDS data folder holding one prepared dataset, ``my_pets/small``."""
  import tensorflow as tf
  import tensorflow_datasets as tfds
  d = tmp_path_factory.mktemp("tfds")
  rng = np.random.default_rng(0)
  images = rng.integers(0, 256, (24, 8, 8, 3)).astype(np.uint8)
  labels = np.arange(24) % 2
  features = tfds.features.FeaturesDict({
      "image": tfds.features.Image(shape=(8, 8, 3)),
      "label": tfds.features.ClassLabel(names=["cat", "dog"])})
  splits = {"train": tf.data.Dataset.from_tensor_slices({"image": images[:20],
                                                         "label": labels[:20]}),
            "test": tf.data.Dataset.from_tensor_slices({"image": images[20:],
                                                        "label": labels[20:]})}
  tfds.dataset_builders.TfDataBuilder(name="my_pets", config="small", version="1.0.0",
                                      split_datasets=splits, features=features,
                                      data_dir=str(d)).download_and_prepare()
  return d, images


def test_a_prepared_dataset_is_a_spec_and_a_pipeline(tfds_dir):
  d, images = tfds_dir
  spec = data.info("tfds:my_pets:small", d)
  assert spec.shape == (8, 8, 3) and spec.num_classes == 2 and spec.class_names == ("cat", "dog")
  x, y = next(iter(data.load("tfds:my_pets:small", "train", 20, data_dir=d, labels=True,
                             shuffle=False)))
  np.testing.assert_array_equal(np.sort(x.numpy().reshape(20, -1), 0),
                                np.sort(images[:20].reshape(20, -1), 0))
  assert sorted(y.numpy().tolist()) == [0] * 10 + [1] * 10
  test = next(iter(data.load("tfds:my_pets:small", "test", 8, data_dir=d)))
  assert test.shape == [4, 8, 8, 3]


@pytest.mark.slow   # a whole run: CI runs it (pytest -m slow)
def test_the_cli_trains_on_it(tfds_dir, tmp_path, capsys):
  from tests.test_cli import _run
  d, _ = tfds_dir
  code, out, err = _run(["train", "gated_pixelcnn", "--conditional", "--data",
                         "tfds:my_pets:small", "--data-dir", d, "--filters", "6",
                         "--num-layers", "1", "--epochs", "1", "--steps-per-epoch", "1",
                         "--batch-size", "4", "--out", tmp_path / "run", "--verbose", "0",
                         "--no-export"], capsys)
  assert code == 0, err
  code, out, err = _run(["sample", tmp_path / "run", "--condition", "dog", "--n", "2"], capsys)
  assert code == 0 and "wrote 2 samples" in out, err


def test_not_prepared_or_unknown_is_one_line(tmp_path, capsys):
  from tests.test_cli import _run
  for name in ("tfds:mnist", "tfds:no_such_dataset_xyz"):
    code, _, err = _run(["train", "glow", "--data", name, "--data-dir", tmp_path,
                         "--out", tmp_path / "r"], capsys)
    assert code == 2 and len(err.strip().splitlines()) == 1, err
    assert "not prepared in" in err or "has no dataset" in err, err
  assert not (tmp_path / "r").exists()

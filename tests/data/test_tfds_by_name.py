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


@pytest.fixture(scope="module")
def tfds_sequences(tmp_path_factory):
  """A TFDS data folder with an audio dataset (16 kHz int16, no test split:
  validation stands in) and a text dataset."""
  import tensorflow as tf
  import tensorflow_datasets as tfds
  d = tmp_path_factory.mktemp("tfds_seq")
  t = np.arange(3200) / 16000.
  tones = [(0.5 * np.sin(2 * np.pi * f * t) * 32767).astype(np.int16) for f in (220, 440, 880)]
  tfds.dataset_builders.TfDataBuilder(
      name="my_tones", version="1.0.0", data_dir=str(d),
      features=tfds.features.FeaturesDict({"audio": tfds.features.Audio(
          shape=(None,), dtype=np.int16, sample_rate=16000)}),
      split_datasets={"train": tf.data.Dataset.from_tensor_slices({"audio": np.stack(tones[:2])}),
                      "validation": tf.data.Dataset.from_tensor_slices(
                          {"audio": np.stack(tones[2:])})}).download_and_prepare()
  lines = ["the quick brown fox jumps over the lazy dog " * 4, "naïve café " * 10]
  tfds.dataset_builders.TfDataBuilder(
      name="my_lines", version="1.0.0", data_dir=str(d),
      features=tfds.features.FeaturesDict({"text": tfds.features.Text()}),
      split_datasets={s: tf.data.Dataset.from_tensor_slices({"text": lines})
                      for s in ("train", "test")}).download_and_prepare()
  return d, tones, lines


def test_audio_and_text_features_become_sequence_data(tfds_sequences):
  from tfgen import audio
  d, tones, lines = tfds_sequences
  spec = data.info("tfds:my_tones", d)
  assert spec.kind == "audio" and spec.sample_rate == 8000 and spec.shape is None
  test = np.concatenate([b.numpy() for b in data.load("tfds:my_tones", "test", 4, data_dir=d,
                                                      window=400)])
  assert test.shape == (4, 400) and test.dtype == np.int32        # 1600 samples at 8 kHz
  # The 880 Hz tone, resampled to 8 kHz and mu-law coded: its decoded samples
  # correlate with the tone itself.
  decoded = audio.mu_law_decode(test[0]).numpy()
  want = 0.5 * np.sin(2 * np.pi * 880 * np.arange(400) / 8000.)
  assert np.corrcoef(decoded, want)[0, 1] > 0.95
  train = next(iter(data.load("tfds:my_tones", "train", 3, data_dir=d, window=300, seed=0)))
  assert train.shape == (3, 300) and 0 <= train.numpy().min() and train.numpy().max() < 256
  spec = data.info("tfds:my_lines", d)
  assert spec.kind == "text" and spec.num_levels == 256
  rows = np.concatenate([b.numpy() for b in data.load("tfds:my_lines", "test", 8, data_dir=d,
                                                      window=20)])
  got = bytes(rows[0].astype(np.uint8))
  assert got in lines[0].encode() or got in lines[1].encode()


def test_a_dataset_without_usable_features_is_named(tmp_path):
  import tensorflow as tf
  import tensorflow_datasets as tfds
  tfds.dataset_builders.TfDataBuilder(
      name="my_numbers", version="1.0.0", data_dir=str(tmp_path),
      features=tfds.features.FeaturesDict({"x": tfds.features.Tensor(shape=(3,),
                                                                     dtype=np.float32)}),
      split_datasets={"train": tf.data.Dataset.from_tensor_slices(
          {"x": np.zeros((2, 3), np.float32)})}).download_and_prepare()
  with pytest.raises(ValueError, match="no image, audio or text feature"):
    data.info("tfds:my_numbers", tmp_path)

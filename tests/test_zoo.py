"""tfgen.load / tfgen.pretrained: trained models back as Keras models, and
``tfgen train --init`` fine-tuning from them."""

import os

import numpy as np
import pytest
import tensorflow as tf

import tfgen
from tfgen import zoo
from tests.test_cli import _run

SHIPPED = ["fashion_mnist_gated_pixelcnn", "fashion_mnist_glow", "speech_wavenet"]


def test_the_zoo_lists_the_shipped_models_and_refuses_others():
  assert zoo.names() == SHIPPED
  with pytest.raises(ValueError, match="has: fashion_mnist_gated_pixelcnn"):
    tfgen.pretrained("cifar_glow")
  with pytest.raises(ValueError, match="no version 7"):
    tfgen.pretrained("fashion_mnist_glow", 7)
  with pytest.raises(ValueError, match="positive integer"):
    tfgen.pretrained("fashion_mnist_glow", "1")
  with pytest.raises(ValueError, match="neither a tfgen run"):
    tfgen.load("/nonexistent")


_SERVED = {}


def _served_log_prob(name, x):
  if name not in _SERVED:
    _SERVED[name] = tf.saved_model.load(os.path.join(zoo.ZOO, name, "1"))
  fn = _SERVED[name].signatures["serving_default"]
  return fn(x=tf.constant(x, tf.int32))["log_prob"].numpy()


@pytest.mark.slow   # each loads a SavedModel twice (~20 s)
@pytest.mark.parametrize("name", SHIPPED)
def test_a_pretrained_model_scores_as_its_export_does(name):
  model = tfgen.pretrained(name)
  rng = np.random.default_rng(0)
  shape = [d or 3000 for d in model.event_shape]
  x = rng.integers(0, model.num_levels, [4] + shape)
  # The distribution's log_prob is the served one (a flow's dequantization fixed).
  dist = model.distribution if None not in model.event_shape else \
      model.distribution_given(length=shape[0])
  ours = dist.log_prob(x.astype(model.data_dtype.name)).numpy()
  # One example per request: the v1 Glow export drew its fixed dequantization
  # noise for the whole request, so its scores depend on the batch around them.
  served = [_served_log_prob(name, x[i:i + 1])[0] for i in range(len(x))]
  np.testing.assert_allclose(ours, served, rtol=1e-5)


def _train(capsys, out, *argv, lr="1e-3"):
  code, _, err = _run(["train", *argv, "--epochs", 1, "--steps-per-epoch", 2, "--batch-size", 4,
                       "--validation-steps", 1, "--no-export", "--lr", lr, "--out", out,
                       "--verbose", 0], capsys)
  return code, err


def test_init_fine_tunes_from_a_run_and_checks_what_it_is_given(tmp_path, capsys,
                                                               monkeypatch):
  from tests.data.test_catalog import _mnist_dir
  monkeypatch.chdir(tmp_path)
  (tmp_path / "mnist").mkdir()
  _mnist_dir(tmp_path / "mnist", n=20)
  data = ["--data", "fashion_mnist", "--data-dir", tmp_path / "mnist"]
  code, err = _train(capsys, tmp_path / "a", "nice", "--num-couplings", 2, "--hidden-units", 8,
                     *data)
  assert code == 0, err
  code, err = _train(capsys, tmp_path / "b", "nice", "--init", tmp_path / "a", *data,
                     lr="1e-12")
  assert code == 0, err
  a, b = tfgen.load(tmp_path / "a"), tfgen.load(tmp_path / "b")
  assert a.get_config() == b.get_config()
  for u, v in zip(a.weights, b.weights):
    np.testing.assert_allclose(u.numpy(), v.numpy(), atol=1e-6)
  for argv, message in [
      (["nice", "--init", tmp_path / "a", "--hidden-units", 4], "drop the size flags"),
      (["realnvp", "--init", tmp_path / "a"], "is a NICE, not a realnvp"),
      (["nice", "--init", tmp_path / "missing"], "neither a tfgen run"),
      (["nice", "--init", tmp_path / "a", "--conditional"], "unconditional"),
      (["nice", "--init", tmp_path / "a", "--data", "binarized_fashion_mnist", "--data-dir",
        tmp_path / "mnist"], "levels")]:
    code, err = _train(capsys, tmp_path / "c", *argv)
    assert code == 2 and message in err, err
  assert not (tmp_path / "c").exists()

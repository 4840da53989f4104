"""The ``tfgen`` command line, end to end on small offline data."""

import glob
import json
import os
import subprocess
import sys

import numpy as np
import pytest
import tensorflow as tf

from tfgen import base, cli, models
from tfgen.autoregressive import sampling
from tfgen.family import ModelFamily, SizeOption
from tests.data.test_catalog import _mnist_dir
from tests.data.test_wav import _tone

TINY_NICE = ["nice", "--num-couplings", "2", "--hidden-units", "16"]


def _run(argv, capsys):
  """(exit code, stdout, stderr) of ``tfgen ARGV``, in process."""
  try:
    code = cli.main([str(a) for a in argv])
  except SystemExit as e:
    code = e.code
  out = capsys.readouterr()
  return code, out.out, out.err


def _tags(log_dir):
  """Summary tags → plugin names of every event file below ``log_dir``."""
  tags = {}
  for path in glob.glob(str(log_dir / "**" / "events.out.tfevents.*"), recursive=True):
    for event in tf.compat.v1.train.summary_iterator(path):
      for value in event.summary.value:
        tags[value.tag] = value.metadata.plugin_data.plugin_name
  return tags


@pytest.fixture(autouse=True)
def _in_a_fresh_folder(tmp_path, monkeypatch):
  """Every CLI test runs in its own empty working directory: a `runs/demo`
  left by the README's `tfgen train` must not change any result."""
  work = tmp_path / "cwd"
  work.mkdir()
  monkeypatch.chdir(work)


@pytest.fixture
def mnist_dir(tmp_path):
  (tmp_path / "mnist").mkdir()
  _mnist_dir(tmp_path / "mnist", n=40)
  return tmp_path / "mnist"


@pytest.mark.parametrize("argv, message", [
    (["train", "--epochs", "0"], "expected a positive integer, got 0"),
    (["train", "pixelsnail"], "invalid choice: 'pixelsnail'"),
    (["train", "--data", "imagenet"], "Unknown dataset 'imagenet'; available: fashion_mnist"),
    (["train", "glow", "--filters", "8"], "--filters does not apply to glow"),
    (["train", "glow", "--data", "speech"], "Glow models image data"),
    (["train", "glow", "--data", "binarized_mnist"], "use pixelcnn, gated_pixelcnn or made"),
    (["train", "--lr", "nan"], "expected a positive number"),
    (["train", "--max-minutes", "0"], "--max-minutes: expected a positive number"),
    (["train", "glow", "--levels", "0"], "--levels: sizes must be positive"),
    (["train", "--resume", "--out", "/nonexistent/run"], "no run to resume"),
    (["sample", "/nonexistent/run"], "'/nonexistent/run' is neither a tfgen run"),
    (["evaluate", "/nonexistent/run"], "nor an export (NAME/VERSION/saved_model.pb"),
    (["export", "/nonexistent/run"], "the following arguments are required: --to"),
    (["bogus"], "invalid choice: 'bogus'"),
    (["train", "vqvae_prior"], "pass --vqvae RUN"),
    (["train", "text_to_image", "--vqvae", "/nonexistent/run"], "No tfgen run"),
    (["train", "glow", "--vqvae", "runs/x"], "--vqvae does not apply to glow"),
    (["train", "vqvae", "--code-dim", "0"], "--code-dim: sizes must be positive"),
])
def test_bad_usage_is_one_line_and_exit_2(argv, message, capsys):
  code, _, err = _run(argv, capsys)
  assert code == 2
  assert message in err and "Traceback" not in err
  assert len(err.strip().splitlines()) == 1, err


def test_missing_data_is_one_clear_line(tmp_path, capsys):
  code, _, err = _run(["train", "--data", "mnist", "--data-dir", tmp_path,
                       "--out", tmp_path / "run"], capsys)
  assert code == 2 and "MNIST was not found" in err and len(err.strip().splitlines()) == 1
  assert not (tmp_path / "run").exists()          # nothing half-made is left behind


def test_every_command_has_help(capsys):
  for command, option in (("train", "--steps-per-epoch"), ("sample", "--temperature"),
                          ("evaluate", "--split"), ("export", "--to"), ("list", "-h")):
    code, out, _ = _run([command, "--help"], capsys)
    assert code == 0 and option in out
  out = subprocess.run([sys.executable, "-m", "tfgen.cli", "--help"], capture_output=True,
                       text=True, timeout=120)
  assert out.returncode == 0 and all(c in out.stdout for c in ("train", "sample", "export"))


def test_list_shows_models_and_datasets(capsys):
  code, out, _ = _run(["list"], capsys)
  assert code == 0
  for name in ("glow", "realnvp", "nice", "pixelcnn", "gated_pixelcnn", "made", "wavenet",
               "fashion_mnist", "binarized_mnist", "cifar10", "speech", "text", "Kingma"):
    assert name in out


def test_image_run_train_sample_evaluate_export_resume(tmp_path, mnist_dir, capsys):
  run = tmp_path / "run"
  base = ["train", *TINY_NICE, "--data", "mnist", "--data-dir", mnist_dir, "--batch-size", 8,
          "--steps-per-epoch", 3, "--validation-steps", 1, "--out", run, "--verbose", 2]
  code, out, err = _run(base + ["--epochs", 1], capsys)
  assert code == 0, err
  config = json.loads((run / "config.json").read_text())
  assert config["status"] == "finished" and config["model"] == "nice"
  assert f"Test {config['test']['bits_per_dim']:.4f} bits/dim" in out and "nats/dim" in out
  assert tf.io.decode_png(tf.io.read_file(str(run / "samples.png"))).shape == (233, 233, 1)   # 8 x 8 grid of 28 px + 1 px borders
  assert (run / "saved_model" / "1" / "saved_model.pb").exists()
  tags = _tags(run / "logs")
  assert tags.get("epoch_bits_per_dim") == "scalars" and tags.get("samples") == "images"

  # Resume: epoch 1 is restored from the backup, only epoch 2 runs.
  code, out, err = _run(base + ["--epochs", 2, "--resume"], capsys)
  assert code == 0, err
  assert "Epoch 2/2" in out and "Epoch 1/2" not in out and "(resuming)" in out
  code, _, err = _run(base + ["--epochs", 2], capsys)
  assert code == 2 and "already holds a run" in err

  code, out, _ = _run(["sample", run, "--n", 4, "--temperature", 0.5, "--out",
                       tmp_path / "grid.png"], capsys)
  assert code == 0
  assert tf.io.decode_png(tf.io.read_file(str(tmp_path / "grid.png"))).shape == (59, 59, 1)
  code, _, err = _run(["sample", run, "--out", tmp_path / "grid.wav"], capsys)
  assert code == 2 and "image samples are written as .png" in err

  code, out, _ = _run(["evaluate", run, "--split", "test"], capsys)
  assert code == 0
  bpd = float(out.split(": ")[-1].split()[0])
  config = json.loads((run / "config.json").read_text())
  assert abs(bpd - config["test"]["bits_per_dim"]) < 0.05   # dequantization noise differs

  code, out, _ = _run(["export", run, "--to", tmp_path / "served"], capsys)
  assert code == 0 and (tmp_path / "served" / "1" / "saved_model.pb").exists()
  loaded = tf.saved_model.load(str(tmp_path / "served" / "1"))
  x = tf.constant(np.zeros([2, 28, 28, 1], np.int32))
  assert loaded.signatures["serving_default"](x=x)["bits_per_dim"].shape == (2,)

  # The export alone samples and evaluates, as the run does.
  code, out, err = _run(["sample", tmp_path / "served", "--n", 4, "--temperature", 0.5],
                        capsys)
  assert code == 0 and "to ./sample.png" in out, err
  assert os.path.exists("sample.png") and not (tmp_path / "served" / "sample.png").exists()
  served = tf.io.decode_png(tf.io.read_file("sample.png")).numpy()
  np.testing.assert_array_equal(served, tf.io.decode_png(tf.io.read_file(
      str(tmp_path / "grid.png"))).numpy())                       # same seed, same grid
  code, out, err = _run(["evaluate", tmp_path / "served" / "1", "--data-dir", mnist_dir],
                        capsys)
  assert code == 0, err
  assert abs(float(out.split(": ")[-1].split()[0]) - bpd) < 0.05
  code, _, err = _run(["export", tmp_path / "served", "--to", tmp_path / "again"], capsys)
  assert code == 2 and "already an export" in err


@pytest.mark.parametrize("model, size", [
    ("made", ["--hidden-units", "32,32"]),
    ("gated_pixelcnn", ["--filters", "8", "--num-layers", "2"]),
    pytest.param("pixelrnn", ["--units", "4", "--num-layers", "1", "--layer", "row"],
                 marks=pytest.mark.slow),   # 80 naive samples of 784 passes: 36 s
])
def test_autoregressive_image_models_on_binarized_data(model, size, tmp_path, mnist_dir, capsys):
  run = tmp_path / model
  code, out, err = _run(["train", model, *size, "--data", "binarized_mnist", "--data-dir",
                         mnist_dir, "--epochs", 1, "--steps-per-epoch", 2, "--batch-size", 8,
                         "--validation-steps", 1, "--no-export", "--out", run, "--verbose", 0],
                        capsys)
  assert code == 0, err
  grid = tf.io.decode_png(tf.io.read_file(str(run / "samples.png"))).numpy()
  assert set(np.unique(grid)) <= {0, 255}            # binary samples shown black and white
  assert 0 < json.loads((run / "config.json").read_text())["test"]["bits_per_dim"] < 2


def test_wavenet_on_a_wav_folder_writes_audio(tmp_path, capsys):
  (tmp_path / "wavs").mkdir()
  for i in range(10):
    _tone(tmp_path / "wavs" / f"{i}.wav", 8000, seconds=0.3)
  run = tmp_path / "run"
  code, out, err = _run(["train", "wavenet", "--layers-per-stack", 3, "--stacks", 1,
                         "--channels", 8, "--skip-channels", 8, "--data", "wav", "--data-dir",
                         tmp_path / "wavs", "--window", 256, "--epochs", 1,
                         "--steps-per-epoch", 2, "--batch-size", 4, "--validation-steps", 1,
                         "--no-export", "--out", run, "--verbose", 0], capsys)
  assert code == 0, err
  assert _tags(run / "logs").get("samples") == "audio"
  code, _, err = _run(["sample", run, "--n", 2, "--seconds", 0.1, "--out", tmp_path / "s.wav"],
                      capsys)
  assert code == 0, err
  wave, rate = tf.audio.decode_wav(tf.io.read_file(str(tmp_path / "s.wav")))
  assert int(rate) == 8000 and wave.shape[0] == 2 * 800 + 2000   # two clips, 0.25 s gap


def test_wavenet_on_text_writes_text(tmp_path, capsys):
  (tmp_path / "a.txt").write_text("the quick brown fox jumps over the lazy dog. " * 200)
  run = tmp_path / "run"
  code, _, err = _run(["train", "wavenet", "--layers-per-stack", 3, "--stacks", 1,
                       "--channels", 8, "--skip-channels", 8, "--data", "text", "--data-dir",
                       tmp_path / "a.txt", "--window", 64, "--epochs", 1, "--steps-per-epoch",
                       2, "--batch-size", 4, "--validation-steps", 1, "--no-export",
                       "--out", run, "--verbose", 0], capsys)
  assert code == 0, err
  assert _tags(run / "logs").get("samples") == "text"
  assert len((run / "samples.txt").read_bytes()) > 100


def test_mixed_precision_glow_run(tmp_path, mnist_dir, capsys, monkeypatch):
  from tfgen._keras import keras
  from tfgen.training import precision
  # As on a CPU without AVX512-BF16 or AMX: the run goes on, with a warning.
  monkeypatch.setattr(precision, "slow_bfloat16_reason", lambda: "no bf16 here (test)")
  run = tmp_path / "run"
  code, _, err = _run(["train", "glow", "--levels", 1, "--steps-per-level", 2,
                       "--hidden-channels", 8, "--mixed-precision", "bfloat16", "--data", "mnist",
                       "--data-dir", mnist_dir, "--epochs", 1, "--steps-per-epoch", 2,
                       "--batch-size", 8, "--validation-steps", 1, "--no-export", "--out", run,
                       "--verbose", 0], capsys)
  assert code == 0, err
  assert "warning: --mixed-precision bfloat16: no bf16 here (test)" in err
  config = json.loads((run / "config.json").read_text())
  assert config["mixed_precision"] == "bfloat16" and np.isfinite(config["test"]["bits_per_dim"])
  assert keras.mixed_precision.global_policy().name == "float32"   # restored after the command


def test_arguments_are_checked_before_the_run_folder(tmp_path, capsys, monkeypatch):
  demo = tmp_path / "cwd" / "runs" / "demo"
  demo.mkdir(parents=True)
  (demo / "config.json").write_text('{"model": "glow", "model_config": {}, "data": "x"}')
  code, _, err = _run(["train", "--data", "imagenet"], capsys)
  assert code == 2 and "Unknown dataset 'imagenet'" in err
  code, _, err = _run(["train", "glow", "--levels", "5"], capsys)    # 28 is not divisible by 32
  assert code == 2 and "divisible" in err
  code, _, err = _run(["train", "--resume", "--overwrite"], capsys)
  assert code == 2 and "exclude each other" in err
  code, _, err = _run(["train"], capsys)                              # only now the folder
  assert code == 2 and "already holds a run" in err


def test_a_library_bug_is_exit_1_with_a_traceback_log_not_a_usage_error(capsys, monkeypatch):
  def broken(args):
    raise ValueError("an internal invariant failed")
  monkeypatch.setattr(cli, "cmd_list", broken)
  code, _, err = _run(["list"], capsys)
  assert code == 1 and "internal error: ValueError: an internal invariant failed" in err
  log = err.split("traceback in ")[1].split(";")[0]
  assert "Traceback" in open(log).read() and "broken" in open(log).read()


@pytest.mark.parametrize("level", [None, pytest.param("0", marks=pytest.mark.slow), "3"])
def test_startup_prints_no_tensorflow_noise(level, tmp_path):
  """Whatever TF_CPP_MIN_LOG_LEVEL the user set, TensorFlow's start-up lines
  ("Could not find cuda drivers ...") never reach stderr: a clean `list`
  prints nothing there, and a mistake stays one line."""
  env = {k: v for k, v in os.environ.items() if k != "TF_CPP_MIN_LOG_LEVEL"}
  if level is not None:
    env["TF_CPP_MIN_LOG_LEVEL"] = level
  if level is None:
    out = subprocess.run([sys.executable, "-m", "tfgen.cli", "list"], capture_output=True,
                         text=True, timeout=120, env=env)
    assert out.returncode == 0 and "glow" in out.stdout
    assert out.stderr.strip() == "", out.stderr
  bad = subprocess.run([sys.executable, "-m", "tfgen.cli", "sample", str(tmp_path / "none")],
                       capture_output=True, text=True, timeout=120, env=env)
  assert bad.returncode == 2 and len(bad.stderr.strip().splitlines()) == 1, bad.stderr


def test_corrupt_run_folders_are_one_line_errors(tmp_path, capsys):
  run = tmp_path / "run"
  run.mkdir()
  for text, message in (("[1, 2]", "not a tfgen run config"), ("{not json", "not a readable"),
                        ('{"model": "glow"}', "not a tfgen run config")):
    (run / "config.json").write_text(text)
    for command in ("sample", "evaluate"):
      code, _, err = _run([command, run], capsys)
      assert code == 2 and message in err and str(run) in err and len(err.splitlines()) == 1


# A family defined here, in a few lines: the CLI must train, sample, evaluate and
# export it with no change to tfgen (the model contract and the registry).
class Histogram(base.LikelihoodModel):
  """p(x) = prod_d Categorical(x_d | softmax(w_d))."""

  def __init__(self, image_shape, num_levels=256, scale=1.0, name="histogram", **kwargs):
    super().__init__(name=name, **kwargs)
    self.event_shape, self.num_levels, self.scale = tuple(image_shape), num_levels, scale
    self.w = tf.Variable(tf.zeros(list(image_shape) + [num_levels]), name="w")

  def _log_prob(self, x, condition, training=False):
    log_p = tf.nn.log_softmax(self.w * self.scale)
    return tf.reduce_sum(tf.one_hot(x, self.num_levels) * log_p, axis=[1, 2, 3, 4])

  def _sample(self, n, seed, temperature, condition):
    noise = sampling.gumbel_noise(tf.concat([[n], tf.shape(self.w)], 0), seed)
    return sampling.gumbel_argmax(self.w * self.scale, noise, temperature)

  def get_config(self):
    return {**super().get_config(), "image_shape": self.event_shape,
            "num_levels": self.num_levels, "scale": self.scale}


@pytest.fixture
def histogram_family():
  family = models.register(ModelFamily(
      "histogram", Histogram, "a per-pixel baseline", "binarized_mnist",
      demo={"scale": 1.0}, sizes=(SizeOption("scale", "scale", float, "logit scale"),)))
  yield family
  models.unregister("histogram")


def test_a_new_family_is_one_class_and_one_registry_entry(histogram_family, tmp_path, mnist_dir,
                                                          capsys):
  run = tmp_path / "run"
  code, out, err = _run(["train", "histogram", "--scale", "2", "--data-dir", mnist_dir,
                         "--epochs", 1, "--steps-per-epoch", 20, "--batch-size", 8, "--lr",
                         "0.05", "--validation-steps", 1, "--out", run, "--verbose", 0], capsys)
  assert code == 0, err
  config = json.loads((run / "config.json").read_text())
  assert config["model_config"]["scale"] == 2.0 and config["status"] == "finished"
  assert config["test"]["bits_per_dim"] < 0.999    # it learned: a fresh model is exactly 1 bit/dim
  code, _, err = _run(["sample", run, "--n", 4, "--out", tmp_path / "s.png"], capsys)
  assert code == 0, err
  grid = tf.io.decode_png(tf.io.read_file(str(tmp_path / "s.png"))).numpy()
  assert set(np.unique(grid)) <= {0, 255}
  code, out, err = _run(["evaluate", run], capsys)
  assert code == 0 and "bits/dim" in out, err
  code, out, err = _run(["export", run, "--to", tmp_path / "served"], capsys)
  assert code == 0 and "serving_default, sample" in out, err
  loaded = tf.saved_model.load(str(tmp_path / "served" / "1"))
  s = loaded.signatures["sample"](num_samples=tf.constant(3), seed=tf.constant([1, 2]),
                                  temperature=tf.constant(1.0))["samples"]
  assert s.shape == (3, 28, 28, 1)
  code, _, err = _run(["train", "histogram", "--filters", "3", "--out", tmp_path / "r2"], capsys)
  assert code == 2 and "--filters does not apply to histogram" in err


def test_char_rnn_on_text_samples_with_a_prime(tmp_path, capsys):
  (tmp_path / "a.txt").write_text("the quick brown fox jumps over the lazy dog. " * 200)
  run = tmp_path / "run"
  code, out, err = _run(["train", "char_rnn", "--units", 16, "--num-layers", 1, "--cell", "gru",
                         "--data", "text", "--data-dir", tmp_path / "a.txt", "--window", 64,
                         "--epochs", 1, "--steps-per-epoch", 3, "--batch-size", 4,
                         "--validation-steps", 1, "--out", run, "--verbose", 0], capsys)
  assert code == 0, err
  assert "bits/char" in out
  assert json.loads((run / "config.json").read_text())["model_config"]["cell"] == "gru"
  code, out, err = _run(["sample", run, "--n", 2, "--length", 30, "--prime", "Q: ",
                         "--temperature", 0.8], capsys)
  assert code == 0, err
  assert out.count("Q: ") >= 2 and (run / "sample.txt").read_text().startswith("Q: ")
  code, _, err = _run(["sample", run, "--prime", "x" * 50, "--length", 10], capsys)
  assert code == 2 and "longer than length=10" in err
  code, _, err = _run(["train", "char_rnn", "--cell", "rnn", "--data", "text", "--data-dir",
                       tmp_path / "a.txt", "--out", tmp_path / "r2"], capsys)
  assert code == 2 and "`cell` must be one of" in err
  code, out, err = _run(["export", run, "--to", tmp_path / "served"], capsys)
  assert code == 0 and "sample" in out, err


@pytest.mark.parametrize("model, size", [
    ("transformer", ["--attention", "fixed", "--context-length", "32", "--d-model", "16",
                     "--num-heads", "2", "--num-layers", "1"]),
    ("image_transformer", ["--d-model", "8", "--num-heads", "2", "--num-layers", "1"]),
])
def test_transformers_train_sample_and_export(model, size, tmp_path, mnist_dir, capsys):
  (tmp_path / "a.txt").write_text("the quick brown fox jumps over the lazy dog. " * 200)
  data = (["--data", "text", "--data-dir", tmp_path / "a.txt", "--window", 32]
          if model == "transformer" else ["--data", "binarized_mnist", "--data-dir", mnist_dir])
  run = tmp_path / "run"
  code, out, err = _run(["train", model, *size, *data, "--epochs", 1, "--steps-per-epoch", 2,
                         "--batch-size", 4, "--validation-steps", 1, "--out", run,
                         "--verbose", 0], capsys)
  assert code == 0, err
  extra = ["--prime", "Q: ", "--length", 20] if model == "transformer" else []
  code, out, err = _run(["sample", run, "--n", 2, *extra], capsys)
  assert code == 0, err
  assert (run / "saved_model" / "1" / "saved_model.pb").exists()
  if model == "transformer":
    assert out.count("Q: ") >= 2
    code, _, err = _run(["sample", run, "--length", 40], capsys)
    assert code == 2 and "context_length=32" in err
  else:
    code, _, err = _run(["sample", run, "--prime", "x"], capsys)
    assert code == 2 and "takes no prime" in err


VQ_TINY = ["--num-codes", "16", "--code-dim", "4", "--hidden-channels", "8",
           "--num-residual-blocks", "1"]


@pytest.mark.slow  # real data or a fresh process: CI runs it (pytest -m slow)
def test_two_stage_models_train_sample_evaluate_export(tmp_path, mnist_dir, capsys):
  """VQ-VAE, then a prior on its codes and a text-to-image prior, through the CLI."""
  common = ["--data", "mnist", "--data-dir", mnist_dir, "--epochs", "1", "--steps-per-epoch",
            "3", "--batch-size", "8", "--verbose", "0"]
  vq, prior, t2i = tmp_path / "vq", tmp_path / "prior", tmp_path / "t2i"
  code, out, _ = _run(["train", "vqvae", *VQ_TINY, *common, "--out", vq], capsys)
  assert code == 0 and "reconstruction MSE" in out and "codebook usage" in out
  assert (vq / "reconstructions.png").exists() and not (vq / "samples.png").exists()
  assert "originals_and_reconstructions" in _tags(vq / "logs")
  code, _, err = _run(["sample", vq], capsys)
  assert code == 2 and "vqvae_prior" in err and len(err.strip().splitlines()) == 1

  code, out, _ = _run(["train", "vqvae_prior", "--vqvae", vq, "--filters", "8", "--num-layers",
                       "1", *common, "--out", prior], capsys)
  assert code == 0 and "bits/code" in out
  config = json.loads((prior / "config.json").read_text())
  assert config["data"] == "mnist" and config["builds_on"] == {"vqvae": str(vq)}
  assert {"samples", "originals_and_reconstructions"} <= set(_tags(prior / "logs"))
  code, out, _ = _run(["evaluate", prior, "--data-dir", mnist_dir], capsys)
  assert code == 0 and "bits/code" in out
  code, out, _ = _run(["sample", prior, "--n", "4", "--out", tmp_path / "s.png"], capsys)
  assert code == 0 and (tmp_path / "s.png").exists()
  code, _, err = _run(["sample", prior, "--prompt", "bag"], capsys)
  assert code == 2 and "takes no prompt" in err
  code, out, _ = _run(["export", prior, "--to", tmp_path / "served"], capsys)
  assert code == 0 and all(s in out for s in ("encode", "decode", "reconstruct", "sample"))
  # The run is self-contained: the first stage's weights live in it.
  os.rename(vq, tmp_path / "moved")
  code, _, _ = _run(["sample", prior, "--n", "2", "--out", tmp_path / "s2.png"], capsys)
  assert code == 0
  code, _, err = _run(["train", "vqvae_prior", "--resume", "--out", prior, "--vqvae",
                       tmp_path / "moved", "--data-dir", mnist_dir], capsys)
  assert code == 2 and "cannot change" in err
  os.rename(tmp_path / "moved", vq)

  code, out, _ = _run(["train", "text_to_image", "--vqvae", vq, "--num-layers", "1",
                       "--d-model", "16", "--num-heads", "2", *common, "--out", t2i], capsys)
  assert code == 0 and "bits/code" in out
  code, out, _ = _run(["sample", t2i, "--prompt", "sneaker", "--n", "4"], capsys)
  assert code == 0 and (t2i / "sample.png").exists()
  for prompt, message in (("", "`prompt`: it is empty"), ("x" * 40, "text_length=24")):
    code, _, err = _run(["sample", t2i, "--prompt", prompt], capsys)
    assert code == 2 and message in err and len(err.strip().splitlines()) == 1
  # Through its export, with no run: the labels become captions as the run made them.
  code, out, err = _run(["evaluate", t2i / "saved_model", "--data-dir", mnist_dir], capsys)
  assert code == 0 and "bits/code" in out, err
  served = float(out.split(": ")[-1].split()[0])
  code, out, err = _run(["evaluate", t2i, "--data-dir", mnist_dir], capsys)
  assert code == 0 and abs(float(out.split(": ")[-1].split()[0]) - served) < 0.5, (out, served)


def test_new_families_train_from_the_command_line(tmp_path, mnist_dir, capsys):
  """NADE, MAF and the RevNet classifier through the same commands (IAF shares MAF's
  code path here; its D-pass density makes a CLI run slow, and tests/flows covers it)."""
  common = ["--data-dir", mnist_dir, "--epochs", "1", "--steps-per-epoch", "2", "--batch-size",
            "8", "--verbose", "0", "--validation-steps", "1"]
  runs = {"nade": ["--data", "binarized_mnist", "--hidden-units", "16"],
          "maf": ["--data", "mnist", "--num-bijectors", "1", "--hidden-units", "16"],
          "revnet": ["--data", "mnist", "--stages", "1", "--channels", "4"]}
  for name, flags in runs.items():
    code, out, err = _run(["train", name, *flags, *common, "--out", tmp_path / name], capsys)
    assert code == 0, err
    assert ("accuracy" if name == "revnet" else "bits/dim") in out
  code, _, err = _run(["sample", tmp_path / "revnet"], capsys)
  assert code == 2 and "classifier" in err
  code, out, _ = _run(["sample", tmp_path / "nade", "--n", "4"], capsys)
  assert code == 0
  assert (tmp_path / "revnet" / "saved_model" / "1").is_dir()


@pytest.mark.slow  # real data or a fresh process: CI runs it (pytest -m slow)
def test_parallel_generation_and_video_from_the_command_line(tmp_path, mnist_dir, capsys,
                                                             fmnist_available):
  """A Parallel WaveNet distilled from a WaveNet run, the multiscale PixelCNN and
  the Video Pixel Network through the same commands."""
  (tmp_path / "wavs").mkdir()
  for i in range(10):
    _tone(tmp_path / "wavs" / f"{i}.wav", 8000, seconds=0.3)
  common = ["--epochs", "1", "--steps-per-epoch", "2", "--batch-size", "4", "--verbose", "0",
            "--validation-steps", "1"]
  audio_data = ["--data", "wav", "--data-dir", tmp_path / "wavs", "--window", "256"]
  teacher, student = tmp_path / "teacher", tmp_path / "student"
  code, _, err = _run(["train", "wavenet", "--layers-per-stack", 3, "--stacks", 1, "--channels",
                       8, "--skip-channels", 8, *audio_data, *common, "--no-export", "--out",
                       teacher], capsys)
  assert code == 0, err
  code, out, err = _run(["train", "parallel_wavenet", "--teacher", teacher, "--flow-layers",
                         "2,2", "--channels", 4, *audio_data, *common, "--out", student], capsys)
  assert code == 0, err
  assert "KL(student ‖ teacher)" in out and (student / "saved_model" / "1").is_dir()
  code, _, err = _run(["sample", student, "--n", 2, "--seconds", 0.1, "--out",
                       tmp_path / "s.wav"], capsys)
  assert code == 0, err
  wave, rate = tf.audio.decode_wav(tf.io.read_file(str(tmp_path / "s.wav")))
  assert int(rate) == 8000 and wave.shape[0] == 2 * 800 + 2000
  code, _, err = _run(["train", "parallel_wavenet", "--out", tmp_path / "x"], capsys)
  assert code == 2 and "--teacher RUN" in err
  code, _, err = _run(["train", "parallel_wavenet", "--teacher", student, "--out",
                       tmp_path / "x"], capsys)
  assert code == 2 and "not wavenet" in err
  code, _, err = _run(["train", "parallel_wavenet", "--teacher", teacher, "--data", "mnist",
                       "--data-dir", mnist_dir, "--out", tmp_path / "x"], capsys)
  assert code == 2 and "audio" in err

  code, out, err = _run(["train", "multiscale_pixelcnn", "--data", "binarized_mnist",
                         "--data-dir", mnist_dir, "--filters", 4, "--num-layers", 1, *common,
                         "--no-export", "--out", tmp_path / "multiscale"], capsys)
  assert code == 0 and "bits/dim" in out, err
  code, _, err = _run(["train", "multiscale_pixelcnn", "--data", "binarized_mnist",
                       "--data-dir", mnist_dir, "--upscalings", 3, "--out", tmp_path / "x"],
                      capsys)
  assert code == 2 and "divisible by 8" in err

  vpn = tmp_path / "vpn"
  code, out, err = _run(["train", "video_pixel_network", "--filters", 4, "--num-layers", 1,
                         "--lstm-filters", 4, "--encoder-layers", 1, *common, "--no-export",
                         "--out", vpn], capsys)
  assert code == 0 and "nats per video" in out, err
  assert _tags(vpn / "logs").get("samples") == "images"
  code, _, err = _run(["sample", vpn, "--n", 2], capsys)
  assert code == 0, err
  strip = tf.io.decode_png(tf.io.read_file(str(vpn / "sample.png"))).numpy()
  assert strip.shape == (2 * 33 + 1, 10 * 33 + 1, 1) and set(np.unique(strip)) <= {0, 255}


def test_a_conditional_run_samples_each_named_class_and_reports_per_class(tmp_path, capsys,
                                                                        fmnist_available):
  from tests.data.test_image_folder import _fashion_folder
  _fashion_folder(tmp_path / "fm", per_class=16)            # t-shirt/, ankle_boot/
  out = tmp_path / "cond"
  code, stdout, err = _run(["train", "gated_pixelcnn", "--conditional", "--data", "images",
                            "--data-dir", tmp_path / "fm", "--filters", "8", "--num-layers", "2",
                            "--epochs", "1", "--steps-per-epoch", "2", "--batch-size", "8",
                            "--out", out, "--verbose", "0"], capsys)
  assert code == 0, err
  config = json.loads((out / "config.json").read_text())
  assert config["class_names"] == ["ankle_boot", "t-shirt"]
  assert config["model_config"]["num_classes"] == 2
  code, stdout, err = _run(["sample", out, "--condition", "t-shirt", "--condition", "0",
                            "--n", "3"], capsys)
  assert code == 0 and "wrote 6 samples" in stdout and "t-shirt, ankle_boot" in stdout, err
  export = out / "saved_model"
  meta = json.loads((export / "1" / "assets.extra" / "tfgen.json").read_text())
  assert meta["class_names"] == ["ankle_boot", "t-shirt"]
  code, stdout, err = _run(["sample", export, "--condition", "all", "--n", "2", "--out",
                            tmp_path / "all.png"], capsys)
  assert code == 0 and "wrote 4 samples" in stdout, err
  code, stdout, err = _run(["evaluate", out, "--per-class"], capsys)
  assert code == 0 and "ankle_boot:" in stdout and "t-shirt:" in stdout, err
  # Mistakes are one line each.
  for argv, match in ((["sample", out, "--condition", "boot"], "its classes: 0='ankle_boot'"),
                      (["sample", out], "is class-conditional: pass --condition"),
                      (["sample", out, "--condition", "all", "--condition", "0"], "alone"),
                      (["sample", export, "--condition", "7"], "not a class")):
    code, _, err = _run(argv, capsys)
    assert code == 2 and match in err and len(err.strip().splitlines()) == 1, (argv, err)


def test_conditions_on_models_and_data_that_take_none_are_one_line(tmp_path, capsys):
  run = tmp_path / "plain"
  code, _, err = _run(["train"] + TINY_NICE + ["--epochs", "1", "--steps-per-epoch", "1",
                                               "--out", run, "--verbose", "0", "--no-export"],
                      capsys)
  assert code == 0, err
  code, _, err = _run(["sample", run, "--condition", "0"], capsys)
  assert code == 2 and "not class-conditional" in err
  code, _, err = _run(["train", "char_rnn", "--conditional", "--out", tmp_path / "c"], capsys)
  assert code == 2 and ("takes no class condition" in err or "no class labels" in err), err
  code, _, err = _run(["train", "wavenet", "--conditional", "--out", tmp_path / "w"], capsys)
  assert code == 2 and "no class labels" in err, err
  assert not (tmp_path / "c").exists() and not (tmp_path / "w").exists()

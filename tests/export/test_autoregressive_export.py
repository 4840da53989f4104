"""PixelCNN, MADE and WaveNet exports load without tfgen/TFP/Keras and match."""

import json
import os
import subprocess
import sys

import numpy as np
import pytest

from tests.conftest import perturb
from tfgen import export
from tfgen.autoregressive import MADE, PixelCNN, WaveNet

LOADER = r"""
import json, sys
import numpy as np
import tensorflow as tf
path, x_path, labels = sys.argv[1], sys.argv[2], json.loads(sys.argv[3])
m = tf.saved_model.load(path)
extra = {} if labels is None else {"condition": tf.constant(labels)}
out = m.signatures["serving_default"](x=tf.constant(np.load(x_path).astype(np.int32)), **extra)
sample_extra = {} if labels is None else {"condition": tf.constant(labels[:1])}
sample_extra.update({} if sys.argv[5] == "0" else {"length": tf.constant(int(sys.argv[5]))})
s = m.signatures["sample"](num_samples=tf.constant(int(sys.argv[4])), seed=tf.constant([4, 5]),
                           temperature=tf.constant(0.9), **sample_extra)
print(json.dumps({"forbidden": sorted({k.split(".")[0] for k in sys.modules}
                                      & {"tfgen", "tensorflow_probability", "tf_keras"}),
                  "log_prob": out["log_prob"].numpy().tolist(),
                  "samples": s["samples"].numpy().tolist()}))
"""


def _pixelcnn():
  m = PixelCNN((5, 4, 3), num_levels=8, filters=6, num_layers=2, gated=True, num_classes=2)
  perturb(m, 0.3)
  x = np.random.default_rng(0).integers(0, 8, size=(2, 5, 4, 3))
  return m, x, [0, 1], (1, 0), lambda: m.sample(1, seed=[4, 5], temperature=0.9, condition=[0])


def _pixelcnn_unet():  # the served sample signature runs the U-Net's cached sampler
  m = PixelCNN((5, 4, 3), num_levels=8, filters=6, num_layers=1, gated=True, downsample=1,
               num_classes=2)
  perturb(m, 0.3)
  x = np.random.default_rng(0).integers(0, 8, size=(2, 5, 4, 3))
  return m, x, [0, 1], (1, 0), lambda: m.sample(1, seed=[4, 5], temperature=0.9, condition=[0])


def _made():
  m = MADE(6, hidden_units=[16], num_levels=3)
  x = np.random.default_rng(0).integers(0, 3, size=(2, 6))
  return m, x, None, (3, 0), lambda: m.sample(3, seed=[4, 5], temperature=0.9)


def _wavenet():
  m = WaveNet(num_layers_per_stack=3, num_stacks=1, residual_channels=8, dilation_channels=8,
              skip_channels=8, num_levels=16, num_classes=2)
  perturb(m, 0.3)
  x = np.random.default_rng(0).integers(0, 16, size=(2, 30))
  return m, x, [1, 0], (1, 40), lambda: m.sample(1, length=40, seed=[4, 5], temperature=0.9,
                                                 condition=[1])


@pytest.mark.parametrize("build", [
    pytest.param(_pixelcnn, marks=pytest.mark.slow),
    pytest.param(_pixelcnn_unet, marks=pytest.mark.slow), _made, pytest.param(_wavenet, marks=pytest.mark.slow)],
    ids=["pixelcnn", "pixelcnn_unet", "made", "wavenet"])  # made keeps a fresh process by default
def test_fresh_process_log_prob_and_samples_match(build, tmp_path):
  model, x, labels, n, sample = build()
  path = export.save(model, tmp_path / "model")
  np.save(tmp_path / "x.npy", x)
  env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3")
  run = subprocess.run([sys.executable, "-c", LOADER, path, str(tmp_path / "x.npy"),
                        json.dumps(labels), str(n[0]), str(n[1])],
                       capture_output=True, text=True, env=env, timeout=300)
  assert run.returncode == 0, run.stderr[-3000:]
  got = json.loads(run.stdout.strip().splitlines()[-1])
  assert got["forbidden"] == []
  np.testing.assert_allclose(got["log_prob"], model.log_prob(x, condition=labels), rtol=1e-5)
  np.testing.assert_array_equal(got["samples"], sample())

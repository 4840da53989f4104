"""Compression with the shipped Gated PixelCNN on real Fashion-MNIST test
images: fresh processes encode and decode, bytes agree across processes,
and the size is the model's own −log₂ p to within 1%."""

import gzip
import os
import subprocess
import sys

import numpy as np
import pytest

from tfgen import compression
from tfgen.export.rebuild import keras_model
pytestmark = pytest.mark.slow

EXPORT = os.path.join(os.path.dirname(__file__), "..", "..", "saved_models",
                      "fashion_mnist_gated_pixelcnn")
N = 24


def _idx(path):
  from tfgen.data.fashion import load_fashion_mnist
  x = np.asarray(load_fashion_mnist("test")[0])[:N, ..., 0]
  header = bytes([0, 0, 8, 3]) + b"".join(d.to_bytes(4, "big") for d in x.shape)
  path.write_bytes(header + x.tobytes())
  return x


def _tfgen(*argv):
  run = subprocess.run([sys.executable, "-m", "tfgen.cli", *map(str, argv)],
                       capture_output=True, text=True, timeout=600)
  assert run.returncode == 0, run.stderr[-2000:]
  return run.stdout


def test_fresh_processes_agree_and_cost_the_model_bits(tmp_path, fmnist_available):
  images = _idx(tmp_path / "few-images-idx3-ubyte")
  _tfgen("compress", EXPORT, tmp_path / "few-images-idx3-ubyte", "--out", tmp_path / "a.tfga")
  _tfgen("decompress", EXPORT, tmp_path / "a.tfga", "--to", tmp_path / "out")
  assert ((tmp_path / "out" / "few-images-idx3-ubyte").read_bytes()
          == (tmp_path / "few-images-idx3-ubyte").read_bytes())

  # This process, another batch size: the same data; the same size gives the same bytes.
  model, _, _ = keras_model(EXPORT)
  x = images[..., None]
  blob = compression.compress(model, x, batch_size=5)
  assert np.array_equal(compression.decompress(model, blob), x)
  from tfgen.compression import archive
  _, blobs, _ = archive.read_manifest((tmp_path / "a.tfga").read_bytes())
  assert blobs[0] == compression.compress(model, x)          # the CLI's, made elsewhere

  bits = -float(np.sum(model.log_prob(x).numpy())) / np.log(2)
  payload = 32 * compression.read_header(blob)["payload_words"]
  assert bits / x.size < 3.5                                  # the shipped model: ~2.98
  assert bits - 1 <= payload <= 1.01 * bits

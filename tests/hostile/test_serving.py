"""Hostile requests to exported models: every row is refused in the graph with a
message that says what was expected (no internal errors, no all-zero or NaN
answers, no unbounded allocation); and exports stay atomic and servable."""

import os
import stat
import subprocess
import sys

import numpy as np
import pytest
import tensorflow as tf

from tests.conftest import perturb
from tfgen import export
from tfgen.autoregressive import WaveNet
from tfgen.flows import Glow

I32, F32 = tf.int32, tf.float32


@pytest.fixture(scope="module")
def served(tmp_path_factory):
  root = tmp_path_factory.mktemp("served")
  glow = Glow((4, 4, 1), levels=1, steps_per_level=1, hidden_channels=4, num_classes=3)
  glow.log_prob(np.arange(32).reshape(2, 4, 4, 1) * 7, [0, 1])
  wavenet = WaveNet(2, 1, 4, 4, 4, num_levels=16, num_classes=2, loss_start=3)
  perturb(wavenet, 0.3)
  return (tf.saved_model.load(export.save(glow, root / "glow")),
          tf.saved_model.load(export.save(wavenet, root / "wavenet")))


def _x(n=2):
  return tf.constant(np.arange(16 * n).reshape(n, 4, 4, 1) % 256, I32)


def _sample(**kw):
  args = dict(num_samples=tf.constant(2), seed=tf.constant([1, 2]), temperature=tf.constant(1.))
  args.update({k: tf.constant(v) for k, v in kw.items()})
  return args


GLOW = [
    ("x 256", "serving_default", dict(x=_x() + 250, condition=tf.constant([0, 1])), r"\[0, 255\]"),
    ("x wrong shape", "serving_default", dict(x=tf.zeros([2, 4, 3, 1], I32),
                                              condition=tf.constant([0, 1])), "shape"),
    ("x wrong rank", "serving_default", dict(x=tf.zeros([2, 4, 4], I32),
                                             condition=tf.constant([0, 1])), "shape"),
    ("empty batch", "serving_default", dict(x=tf.zeros([0, 4, 4, 1], I32),
                                            condition=tf.zeros([0], I32)), "empty batch"),
    ("1 label for 2", "serving_default", dict(x=_x(), condition=tf.constant([1])),
     "one row per example"),
    ("label 3", "serving_default", dict(x=_x(), condition=tf.constant([0, 3])), r"\[0, 2\]"),
    ("temperature NaN", "sample", _sample(temperature=np.nan, condition=[0, 1]), "temperature"),
    ("temperature inf", "sample", _sample(temperature=np.inf, condition=[0, 1]), "temperature"),
    ("temperature 0", "sample", _sample(temperature=0., condition=[0, 1]), "temperature"),
    ("temperature -1", "sample", _sample(temperature=-1., condition=[0, 1]), "temperature"),
    ("num_samples 0", "sample", _sample(num_samples=0, condition=np.zeros([0], np.int32)),
     "num_samples"),
    ("num_samples 10^9", "sample", _sample(num_samples=10 ** 9, condition=[0]), "num_samples"),
    ("num_samples 2^31-1", "sample", _sample(num_samples=2 ** 31 - 1, condition=[0]),
     "num_samples"),
    ("labels for 1 of 2 samples", "sample", _sample(condition=[0]), "one row per example"),
    ("decode NaN", "decode", dict(z=tf.fill([1, 16], np.nan), condition=tf.constant([0])),
     "finite"),
    ("decode inf", "decode", dict(z=tf.fill([1, 16], np.inf), condition=tf.constant([0])),
     "finite"),
    ("decode wrong size", "decode", dict(z=tf.zeros([1, 15]), condition=tf.constant([0])),
     "shape"),
]

WAVENET = [
    ("x 16", "serving_default", dict(x=tf.fill([2, 8], 16), condition=tf.constant([0, 1])),
     r"\[0, 15\]"),
    ("label 2", "serving_default", dict(x=tf.zeros([2, 8], I32), condition=tf.constant([0, 2])),
     r"\[0, 1\]"),
    ("length 0", "serving_default", dict(x=tf.zeros([2, 0], I32), condition=tf.constant([0, 1])),
     "at least one step"),
    ("shorter than loss_start", "serving_default",
     dict(x=tf.zeros([2, 3], I32), condition=tf.constant([0, 1])), "longer than loss_start"),
    ("empty batch", "serving_default", dict(x=tf.zeros([0, 8], I32),
                                            condition=tf.zeros([0], I32)), "empty batch"),
    ("n 0", "sample", _sample(num_samples=0, length=5, condition=np.zeros([0], np.int32)),
     "num_samples"),
    ("3 labels for 2", "sample", _sample(length=5, condition=[0, 1, 1]), "one row per example"),
    ("temperature NaN", "sample", _sample(length=5, temperature=np.nan, condition=[0, 1]),
     "temperature"),
    ("length 0", "sample", _sample(length=0, condition=[0, 1]), "length"),
    ("length 10^9", "sample", _sample(length=10 ** 9, condition=[0, 1]), "length"),
    ("noise beyond the bound", "sample", _sample(num_samples=60000, length=900000,
                                                 condition=np.zeros([60000], np.int32)),
     "max_sample_elements"),
]


@pytest.mark.parametrize("what, signature, inputs, match", GLOW, ids=[c[0] for c in GLOW])
def test_glow_requests(served, what, signature, inputs, match):
  with pytest.raises(tf.errors.InvalidArgumentError, match=match):
    served[0].signatures[signature](**inputs)


@pytest.mark.parametrize("what, signature, inputs, match", WAVENET, ids=[c[0] for c in WAVENET])
def test_wavenet_requests(served, what, signature, inputs, match):
  with pytest.raises(tf.errors.InvalidArgumentError, match=match):
    served[1].signatures[signature](**inputs)


def test_good_requests_still_work(served):
  glow, wavenet = served
  out = glow.signatures["serving_default"](x=_x(), condition=tf.constant([0, 2]))
  assert np.all(np.isfinite(out["bits_per_dim"].numpy()))
  s = wavenet.signatures["sample"](**_sample(length=7, condition=[0, 1]))["samples"]
  assert s.shape == (2, 7) and s.dtype == tf.int32


def _tiny():
  return Glow((4, 4, 1), levels=1, steps_per_level=1, hidden_channels=4)


def test_export_folders_follow_the_umask(tmp_path):
  old = os.umask(0o022)
  try:
    path = export.save(_tiny(), tmp_path / "m")
  finally:
    os.umask(old)
  assert stat.S_IMODE(os.stat(path).st_mode) == 0o755


def test_a_killed_export_leaves_nothing_the_next_one_keeps(tmp_path):
  base = tmp_path / "m"
  base.mkdir()
  dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                        capture_output=True, text=True).stdout.strip()
  (base / f".1.{dead}.abcd").mkdir()          # what a kill -9 mid-export leaves
  (base / f".1.{dead}.abcd" / "saved_model.pb").write_bytes(b"half")
  live = base / f".2.{os.getpid()}.efgh"
  live.mkdir()                                 # another export still at work: kept
  assert export.save(_tiny(), base).endswith("/1")
  assert sorted(p.name for p in base.iterdir()) == sorted(["1", live.name])


CONCURRENT = r"""
import sys
from tfgen import export
from tfgen.flows import Glow
model = Glow((4, 4, 1), levels=1, steps_per_level=1, hidden_channels=4)
print(export.save(model, sys.argv[1]))
"""


@pytest.mark.slow  # real data or a fresh process: CI runs it (pytest -m slow)
def test_concurrent_exports_take_distinct_versions(tmp_path):
  env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3")
  procs = [subprocess.Popen([sys.executable, "-c", CONCURRENT, str(tmp_path / "m")],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
           for _ in range(2)]
  outs = [p.communicate(timeout=300) for p in procs]
  assert all(p.returncode == 0 for p in procs), [o[1][-2000:] for o in outs]
  paths = sorted(o[0].strip().splitlines()[-1] for o in outs)
  assert [os.path.basename(p) for p in paths] == ["1", "2"]
  for p in paths:
    assert os.path.exists(os.path.join(p, "saved_model.pb"))
  assert sorted(os.listdir(tmp_path / "m")) == ["1", "2"]

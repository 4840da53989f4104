import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402
import pytest  # noqa: E402
import tensorflow as tf  # noqa: E402

from tfgen import data  # noqa: E402


def brute_force_log_det(fn, x):
  """log|det ∂fn(x)/∂x| per example, from the full Jacobian (float64)."""
  x = tf.constant(np.asarray(x))  # a new tensor: never a cached bijector input
  with tf.GradientTape() as tape:
    tape.watch(x)
    y = fn(x)
  jac = tape.batch_jacobian(y, x)
  b = x.shape[0]
  d_in = int(np.prod(x.shape[1:]))
  d_out = int(np.prod(y.shape[1:]))
  assert d_in == d_out, (x.shape, y.shape)
  jac = tf.cast(tf.reshape(jac, [b, d_out, d_in]), tf.float64)
  return tf.linalg.slogdet(jac)[1].numpy()


def perturb(module, scale=0.2, seed=0):
  """Sets every trainable variable to small random values, so zero-initialised
  layers (which make couplings the identity) cannot hide bugs."""
  rng = np.random.default_rng(seed)
  for v in module.trainable_variables:
    v.assign(rng.normal(scale=scale, size=v.shape).astype(v.dtype.as_numpy_dtype))
  for layer in module.submodules:
    # Masks that TFP applies as kernel constraints (MADE) stay applied.
    constraint = getattr(layer, "kernel_constraint", None)
    if constraint is not None and getattr(layer, "kernel", None) is not None:
      layer.kernel.assign(constraint(layer.kernel))


def fresh(t):
  """A copy that defeats TFP's bijector cache (it keys on tensor identity)."""
  return tf.constant(np.asarray(t))


@pytest.fixture(scope="session")
def fmnist_available():
  try:
    data.load("fashion_mnist", "test", 8, take=8)
  except FileNotFoundError as e:
    pytest.skip(f"Fashion-MNIST not installed: {e}")
  return True


@pytest.fixture(scope="session")
def fortunes_available():
  try:
    data.load("fortunes", "test", 8, window=64)
  except FileNotFoundError as e:
    pytest.skip(f"fortunes not installed: {e}")
  return True


@pytest.fixture
def policy():
  """``policy(name)`` sets the global Keras precision policy for one test;
  float32 is restored after it."""
  from tfgen._keras import keras

  def set_policy(name):
    keras.mixed_precision.set_global_policy(name)
  yield set_policy
  keras.mixed_precision.set_global_policy("float32")


def fortunes_bits_before_after(model, lr, steps=150, window=96):
  """Held-out fortunes bits/char of ``model`` before and after ``steps`` of training."""
  from tfgen.training import default_optimizer
  model.compile(default_optimizer(lr))
  train = data.load("fortunes", "train", 32, window=window, seed=0)
  test = data.load("fortunes", "test", 64, window=window).take(4)
  before = model.evaluate(test, verbose=0, return_dict=True)["bits_per_dim"]
  model.fit(train, steps_per_epoch=steps, epochs=1, verbose=0)
  return before, model.evaluate(test, verbose=0, return_dict=True)["bits_per_dim"]


_REPORT = """
import json as _json, sys as _sys
result["mods"] = sorted({k.split(".")[0] for k in _sys.modules}
                        & {"tfgen", "tf_keras", "tensorflow_probability"})
print(_json.dumps(result))
"""


def run_tensorflow_only(script):
  """Runs ``script`` (which sets a JSON-able dict ``result``) in a fresh Python
  process and returns ``result``, plus ``result["mods"]``: which of tfgen,
  tf_keras and TFP that process imported (exports must need none)."""
  import json
  import os
  import subprocess
  import sys
  run = subprocess.run([sys.executable, "-c", script + _REPORT], capture_output=True, text=True,
                       env=dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3"), timeout=300)
  assert run.returncode == 0, run.stderr[-3000:]
  return json.loads(run.stdout.strip().splitlines()[-1])

"""Every registered family trains under XLA (``compile(jit_compile=True)``)
and under the mixed-precision policies, checked at each family's tiny size
on CPU: 20 training steps land where float32 without XLA lands.

Tolerances (relative, on the last epoch's metrics after 20 steps):

- XLA: 1e-3. The autoregressive families match to float rounding; flows
  differ by their dequantization draw (XLA's default generator is not
  TensorFlow's), about 1e-4 here.
- bfloat16: 1e-2 (8 bits of mantissa; 3e-3 was the largest seen).
"""

import functools

import numpy as np
import pytest
import tensorflow as tf

from tfgen import base, models
from tfgen._keras import keras
from tfgen.training import default_optimizer

STEPS = 20
# At most ~1 s each: the default suite; the rest run with the slow tests.
QUICK = ["gated_pixelcnn", "glow", "made", "nade", "transformer", "vqvae"]
# The Parallel WaveNet's power loss is the log of STFT power, which at the
# tiny size sits near its 1e-7 floor, where XLA's FFT rounds differently and
# 20 steps amplify it (1.5% apart); its distillation loss alone must match.
OVERRIDES = {"parallel_wavenet": {"power_weight": 0.0}}


def _params():
  return [pytest.param(n, marks=() if n in QUICK else pytest.mark.slow)
          for n in sorted(models.FAMILIES)]


def _data(model, name, n=8):
  rng = np.random.default_rng(0)
  shape = [d or 12 for d in model.event_shape]
  x = rng.integers(0, model.num_levels, size=[n] + shape).astype(model.data_dtype.name)
  y = {"text_to_image": lambda: model.captions_of(np.arange(n) % 3),
       "revnet": lambda: np.arange(n) % 3}.get(name, lambda: None)()
  return x, y


@functools.lru_cache(maxsize=None)
def _train(name, jit_compile=False, policy="float32"):
  """``(model, last epoch's metrics)`` after STEPS steps from the same start."""
  before = keras.mixed_precision.global_policy()
  keras.mixed_precision.set_global_policy(policy)
  try:
    keras.utils.set_random_seed(0)
    model = models.FAMILIES[name].build_tiny(models.FAMILIES, **OVERRIDES.get(name, {}))
    x, y = _data(model, name)
    model.compile(default_optimizer(1e-3), jit_compile=jit_compile)
    history = model.fit(x, y, batch_size=4, epochs=STEPS // 2, shuffle=False, verbose=0)
    assert int(model.optimizer.iterations.numpy()) == STEPS
    return model, {k: v[-1] for k, v in history.history.items()}
  finally:
    keras.mixed_precision.set_global_policy(before)


def _compared(name, got, want, rtol):
  assert np.isfinite(got["loss"]), got
  np.testing.assert_allclose(got["loss"], want["loss"], rtol=rtol, err_msg=name)


def test_every_family_is_covered():
  assert len(models.FAMILIES) >= 21 and set(QUICK) <= set(models.FAMILIES)


@pytest.mark.parametrize("name", _params())
def test_training_under_xla_matches_the_uncompiled_step(name):
  model, got = _train(name, jit_compile=True)
  assert model.jit_compile
  _compared(name, got, _train(name)[1], rtol=1e-3)


@pytest.mark.parametrize("name", _params())
def test_bfloat16_training_lands_near_float32(name):
  model, got = _train(name, policy="mixed_bfloat16")
  _compared(name, got, _train(name)[1], rtol=1e-2)
  # Variables stay float32; some layer really computed in bfloat16 (NADE's
  # running sum over D dimensions stays float32 by design, see its docstring).
  assert all(v.dtype == tf.float32 for v in model.variables if v.dtype.is_floating)
  layers = [m for m in model.submodules if isinstance(m, keras.layers.Layer)]
  if name != "nade":
    assert any(layer.compute_dtype == "bfloat16" for layer in layers), name
  if isinstance(model, base.LikelihoodModel):
    x, y = _data(model, name, n=2)
    keras.mixed_precision.set_global_policy("mixed_bfloat16")
    try:
      log_p = model.log_prob(x, y)
    finally:
      keras.mixed_precision.set_global_policy("float32")
    assert log_p.dtype == tf.float32 and np.all(np.isfinite(log_p.numpy()))


@pytest.mark.parametrize("name", _params())
def test_float16_wiring_loss_scaling_and_float32_variables(name):
  """What a GPU run under ``mixed_float16`` relies on, checked without one."""
  keras.mixed_precision.set_global_policy("mixed_float16")
  try:
    keras.utils.set_random_seed(0)
    model = models.FAMILIES[name].build_tiny(models.FAMILIES)
    x, y = _data(model, name, n=4)
    model.compile(default_optimizer(1e-3))
    assert isinstance(model.optimizer, keras.mixed_precision.LossScaleOptimizer)
    logs = model.train_on_batch(x, y, return_dict=True)
    assert np.isfinite(logs["loss"]), logs
    assert all(v.dtype == tf.float32 for v in model.variables if v.dtype.is_floating)
    if isinstance(model, base.LikelihoodModel):
      assert model.log_prob(x[:2], None if y is None else y[:2]).dtype == tf.float32
  finally:
    keras.mixed_precision.set_global_policy("float32")

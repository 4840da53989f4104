"""Flows under Keras mixed-precision policies: 16-bit networks, float32 log-dets."""

import numpy as np
import pytest
import tensorflow as tf

from tests.conftest import perturb
from tfgen._keras import keras
from tfgen.flows import Glow
from tfgen.training import default_optimizer


def _images(n=16):
  return np.random.default_rng(0).integers(0, 256, size=(n, 8, 8, 1)).astype(np.uint8)


@pytest.mark.parametrize("name", ["mixed_bfloat16", "mixed_float16"])
def test_glow_log_prob_is_float32_and_close_to_full_precision(name, policy):
  x = _images()
  keras.utils.set_random_seed(0)
  full = Glow((8, 8, 1), levels=2, steps_per_level=2, hidden_channels=16)
  full.log_prob(x)                                           # ActNorm's data-dependent init
  perturb(full, scale=0.05)                                  # non-trivial network weights
  policy(name)
  mixed = Glow((8, 8, 1), levels=2, steps_per_level=2, hidden_channels=16)
  mixed.set_weights(full.get_weights())
  assert {v.dtype for v in mixed.trainable_variables} == {tf.float32}   # variables stay float32
  layers = [m for m in mixed.bijector.submodules if isinstance(m, keras.layers.Conv2D)]
  assert layers and {m.compute_dtype for m in layers} == {name.split("_")[1]}  # 16-bit networks
  a = full.log_prob(x, seed=[1, 2]).numpy()
  b = mixed.log_prob(x, seed=[1, 2])
  assert b.dtype == tf.float32
  # 16-bit networks perturb the scales a little; bits/dim agree to ~1e-2.
  diff = np.abs(b.numpy() - a) / (64 * np.log(2))
  assert 0 < diff.max() < 0.05, diff                        # really 16-bit, and still close


def test_mixed_float16_fit_uses_loss_scaling_and_stays_finite(policy):
  policy("mixed_float16")
  keras.utils.set_random_seed(0)
  model = Glow((8, 8, 1), levels=2, steps_per_level=2, hidden_channels=16)
  model.compile(default_optimizer(1e-3))
  assert isinstance(model.optimizer, keras.mixed_precision.LossScaleOptimizer)
  history = model.fit(_images(64), batch_size=16, epochs=3, verbose=0)
  bpd = history.history["bits_per_dim"]
  assert np.all(np.isfinite(bpd)) and bpd[-1] < bpd[0]
  assert int(model.nonfinite_steps.numpy()) == 0


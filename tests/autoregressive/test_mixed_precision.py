"""PixelCNN and WaveNet under Keras mixed-precision policies: 16-bit
networks, float32 logits and loss, caches that stay consistent in 16 bits."""

import numpy as np
import pytest
import tensorflow as tf

from tests.conftest import perturb
from tfgen._keras import keras
from tfgen.autoregressive import MADE, PixelCNN, WaveNet
from tfgen.autoregressive.sampling import gumbel_noise
from tfgen.training import default_optimizer

SHAPE = (5, 5, 3)
WAVENET = dict(num_layers_per_stack=3, num_stacks=2, residual_channels=8, dilation_channels=8,
               skip_channels=8, num_levels=16)


def _pair(build, policy, name, scale=0.3):
  """A perturbed float32 model and a ``name``-policy copy with its weights."""
  full = build()
  perturb(full, scale=scale)  # so the logits, not the noise, decide the samples
  policy(name)
  mixed = build()
  mixed.set_weights(full.get_weights())
  assert {v.dtype for v in mixed.trainable_variables} == {tf.float32}
  return full, mixed


def _worst_gap(logits, noise, chosen, temperature):
  """How far each chosen value's score ``logits/T + g`` falls below the best
  score: 0 for an exact Gumbel-max draw from these logits."""
  scores = logits / temperature + noise
  picked = np.take_along_axis(scores, chosen[..., None], axis=-1)[..., 0]
  return (scores.max(axis=-1) - picked).max()


def _pixelcnn(gated):
  return lambda: PixelCNN(SHAPE, num_levels=4, filters=12, num_layers=3, gated=gated)


@pytest.mark.parametrize("gated", [False, True])
def test_pixelcnn_bfloat16_log_prob_is_float32_and_close_to_full_precision(gated, policy):
  full, mixed = _pair(_pixelcnn(gated), policy, "mixed_bfloat16")
  convs = [m for m in mixed.submodules if isinstance(m, keras.layers.Conv2D)]
  assert convs and {m.compute_dtype for m in convs} == {"bfloat16"}
  x = np.random.default_rng(0).integers(0, 4, size=(8,) + SHAPE).astype(np.int32)
  a, b = full.bits_per_dim(x).numpy(), mixed.bits_per_dim(x)
  assert b.dtype == tf.float32
  assert 0 < np.abs(b.numpy() - a).max() < 0.05        # really 16-bit, and still close


@pytest.mark.parametrize("gated", [False, True])
@pytest.mark.parametrize("method", ["cached", "naive"])
def test_pixelcnn_bfloat16_samples_are_gumbel_max_draws_of_its_own_logits(gated, method, policy):
  """Each sampled sub-pixel must be the argmax of ``logits/T + g`` under the
  model's full forward pass on the finished image (which, by causality, gives
  every conditional), up to bfloat16 rounding. A stale or misaligned cache
  entry would pick values far from the argmax."""
  _, mixed = _pair(_pixelcnn(gated), policy, "mixed_bfloat16", scale=0.6)
  n, seed, temperature = 3, [4, 2], 0.8
  images = mixed.sample(n, seed=seed, temperature=temperature, method=method).numpy()
  logits = mixed._logits(tf.constant(images), None).numpy()
  assert logits.std(axis=-1).mean() > 0.3               # the logits, not the noise, matter
  noise = gumbel_noise([n, *SHAPE, 4], tf.constant(seed)).numpy()
  assert _worst_gap(logits, noise, images, temperature) < 0.1


def test_pixelcnn_mixed_float16_fit_uses_loss_scaling_and_learns(policy):
  policy("mixed_float16")
  keras.utils.set_random_seed(0)
  model = PixelCNN((6, 6, 1), filters=8, num_layers=2, gated=True)
  model.compile(default_optimizer(3e-3))
  assert isinstance(model.optimizer, keras.mixed_precision.LossScaleOptimizer)
  images = np.random.default_rng(0).integers(0, 16, size=(64, 6, 6, 1)).astype(np.uint8)
  bpd = model.fit(images, batch_size=16, epochs=4, verbose=0).history["bits_per_dim"]
  assert np.all(np.isfinite(bpd)) and bpd[-1] < bpd[0] - 0.15, bpd
  assert int(model.nonfinite_steps.numpy()) == 0


def test_wavenet_bfloat16_log_prob_is_close_and_generation_follows_its_logits(policy):
  full, mixed = _pair(lambda: WaveNet(**WAVENET), policy, "mixed_bfloat16")
  x = np.random.default_rng(0).integers(0, 16, size=(2, 50)).astype(np.int32)
  a, b = full.log_prob(x).numpy(), mixed.log_prob(x)
  assert b.dtype == tf.float32
  assert 0 < np.abs(b.numpy() - a).max() / 50 < 0.05   # per step, in nats
  seed, temperature = [7, 1], 1.0
  for method in ("cached", "naive"):
    codes = mixed.generate(60, batch=2, seed=seed, temperature=temperature, method=method)
    logits = mixed._logits(codes, None, None).numpy()
    assert logits.std(axis=-1).mean() > 0.3
    noise = gumbel_noise([2, 60, 16], tf.constant(seed)).numpy()
    assert _worst_gap(logits, noise, codes.numpy(), temperature) < 0.1, method


def test_wavenet_bfloat16_fit_learns(policy):
  policy("mixed_bfloat16")
  keras.utils.set_random_seed(0)
  model = WaveNet(**WAVENET)
  model.compile(default_optimizer(3e-3))
  t = np.arange(64)
  codes = np.stack([(t * k) % 16 for k in (1, 3, 5, 7)] * 4).astype(np.int32)  # periodic
  bpd = model.fit(codes, batch_size=8, epochs=10, verbose=0).history["bits_per_dim"]
  assert np.all(np.isfinite(bpd)) and bpd[-1] < bpd[0] - 0.15, bpd

"""MultiscalePixelCNN: group dependencies by gradients, exact normalisation by
enumeration, samples that follow log_prob, and the schedule's bad inputs."""

import itertools

import numpy as np
import pytest
import tensorflow as tf

from tests.conftest import perturb
from tfgen.autoregressive import MultiscalePixelCNN


def _group(i, j, k, base_w):
  """(group, order within the base) of pixel (i, j): the base is group 0 in
  raster order; level l adds group 1 + 2l (right of known) and 2 + 2l (odd rows)."""
  if i % 2 ** k == 0 and j % 2 ** k == 0:
    return 0, (i // 2 ** k) * base_w + j // 2 ** k
  for level in range(k):
    step = 2 ** (k - level - 1)
    if i % step == 0 and j % step == 0:
      return (1 if (i // step) % 2 == 0 else 2) + 2 * level, 0
  raise AssertionError


def test_each_group_depends_only_on_earlier_groups():
  m = MultiscalePixelCNN((16, 16, 1), num_levels=4, upscalings=2, filters=8, num_layers=2,
                         base_filters=8, base_layers=2)
  perturb(m, 0.3)
  x = tf.constant(np.random.default_rng(0).uniform(-1, 1, size=(1, 16, 16, 1)), tf.float32)
  # One gradient per output pixel (a Jacobian row), by a persistent tape.
  with tf.GradientTape(persistent=True) as tape:
    tape.watch(x)
    out = tf.reduce_sum(m.logits_from_float(x) * tf.random.stateless_normal([1, 16, 16, 1, 4],
                                                                            [1, 2]), -1)
  rows = tape.jacobian(out, x).numpy()[0, :, :, 0, 0, :, :, 0]   # [16, 16, 16, 16]
  base_w = 16 // 4
  earlier_seen = 0
  for i, j in itertools.product(range(16), range(16)):
    gp, op = _group(i, j, 2, base_w)
    grad = rows[i, j]
    for a, b in itertools.product(range(16), range(16)):
      gq, oq = _group(a, b, 2, base_w)
      allowed = gq < gp or (gq == gp == 0 and oq < op)
      if not allowed:
        assert grad[a, b] == 0, f"pixel {(i, j)} (group {gp}) depends on {(a, b)} (group {gq})"
      elif grad[a, b] != 0:
        earlier_seen += 1
  assert earlier_seen > 1000        # and the groups do read the earlier ones


def test_log_prob_normalises_exactly():
  m = MultiscalePixelCNN((2, 2, 1), num_levels=2, upscalings=1, filters=4, num_layers=1,
                         base_filters=4, base_layers=1)
  perturb(m, 0.5)
  images = np.array(list(itertools.product([0, 1], repeat=4)), np.uint8).reshape(16, 2, 2, 1)
  total = np.exp(m.log_prob(images).numpy().astype(np.float64)).sum()
  np.testing.assert_allclose(total, 1.0, rtol=1e-5)


def test_samples_follow_log_prob():
  m = MultiscalePixelCNN((2, 2, 1), num_levels=2, upscalings=1, filters=4, num_layers=1,
                         base_filters=4, base_layers=1)
  perturb(m, 0.8)
  images = np.array(list(itertools.product([0, 1], repeat=4)), np.uint8).reshape(16, 2, 2, 1)
  p = np.exp(m.log_prob(images).numpy())
  s = m.sample(8000, seed=3).numpy().reshape(8000, 4)
  freq = np.array([np.mean(np.all(s == images[i].reshape(4), axis=1)) for i in range(16)])
  assert np.max(np.abs(freq - p)) < 0.02, (freq, p)


def test_sampling_methods_agree_and_conditions_work():
  m = MultiscalePixelCNN((8, 8, 1), num_levels=4, upscalings=1, filters=4, num_layers=1,
                         base_filters=4, base_layers=1, num_classes=3)
  perturb(m, 0.3)
  a = m.sample(2, seed=1, condition=[0, 2])
  assert a.shape == (2, 8, 8, 1) and a.dtype == tf.uint8
  np.testing.assert_array_equal(a, m.sample(2, seed=1, condition=[0, 2], method="naive"))
  assert np.any(a.numpy() != m.sample(2, seed=1, condition=[1, 1]).numpy())
  assert m.sequential_steps == 4 * 4 + 2
  with pytest.raises(ValueError, match="conditional"):
    m.log_prob(a)


@pytest.mark.parametrize("shape, kw, match", [
    ((30, 28, 1), dict(upscalings=2), "divisible by 4"),
    ((28, 28, 1), dict(upscalings=3), "divisible by 8"),
    ((6, 6, 1), {}, "base of at least 4x4"),
    ((28, 28, 1), dict(upscalings=0), "upscalings"),
    ((28, 28), {}, "image_shape"),
])
def test_schedules_that_do_not_divide_are_refused(shape, kw, match):
  with pytest.raises(ValueError, match=match):
    MultiscalePixelCNN(shape, **kw)


def test_default_schedule():
  assert MultiscalePixelCNN((28, 28, 1), filters=4, num_layers=1, base_filters=4,
                            base_layers=1).base.image_shape == (7, 7, 1)
  assert MultiscalePixelCNN((64, 64, 1), filters=4, num_layers=1, base_filters=4,
                            base_layers=1).upscalings == 4

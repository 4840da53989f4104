"""VideoPixelNetwork: the ordering across and within frames by gradients, the
parallel log_prob against the frame-by-frame one, and continuing videos."""

import itertools

import numpy as np
import pytest
import tensorflow as tf

from tests.conftest import perturb
from tfgen.autoregressive import VideoPixelNetwork
from tfgen.training.render import video_strip_of


def _tiny(frames=3, size=5, levels=4, filters=4):
  m = VideoPixelNetwork((frames, size, size, 1), num_levels=levels, encoder_filters=filters,
                        encoder_layers=1, lstm_filters=filters, decoder_filters=filters,
                        decoder_layers=2)
  perturb(m, 0.3)
  return m


def test_each_pixel_depends_on_earlier_frames_and_earlier_pixels_only():
  m = _tiny(filters=16)     # wide enough that no position has every ReLU off
  x = tf.constant(np.random.default_rng(0).uniform(-1, 1, size=(1, 3, 5, 5, 1)), tf.float32)
  with tf.GradientTape() as tape:
    tape.watch(x)
    out = tf.reduce_sum(m.logits_from_float(x) * tf.random.stateless_normal(
        [1, 3, 5, 5, 1, 4], [1, 2]), -1)
  jac = tape.jacobian(out, x).numpy()[0, :, :, :, 0, 0, :, :, :, 0]   # [3,5,5, 3,5,5]
  order = lambda t, i, j: (t, i * 5 + j)
  within = reads_previous = 0
  for t, i, j in itertools.product(range(3), range(5), range(5)):
    for u, a, b in itertools.product(range(3), range(5), range(5)):
      if order(u, a, b) >= order(t, i, j):
        assert jac[t, i, j, u, a, b] == 0, f"pixel {(t, i, j)} depends on {(u, a, b)}"
      within += u == t and jac[t, i, j, u, a, b] != 0
    reads_previous += t > 0 and np.any(jac[t, i, j, t - 1] != 0)
  # Every pixel after the first frame reads the frame before its own, and
  # earlier pixels of its own frame.
  assert reads_previous == 50 and within > 100


def test_parallel_log_prob_equals_frame_by_frame():
  m = _tiny()
  x = np.random.default_rng(1).integers(0, 4, size=(2, 3, 5, 5, 1)).astype(np.uint8)
  np.testing.assert_allclose(m.log_prob(x), m.frame_by_frame_log_prob(x), rtol=1e-5)
  assert np.isclose(float(m.bits_per_dim(x)[0]), -float(m.log_prob(x)[0]) / (75 * np.log(2)),
                    rtol=1e-5)


def test_sampling_continues_prefixes_and_methods_agree():
  m = _tiny()
  a = m.sample(2, seed=1)
  assert a.shape == (2, 3, 5, 5, 1) and a.dtype == tf.uint8
  np.testing.assert_array_equal(a, m.sample(2, seed=1, method="naive"))
  prefix = np.random.default_rng(2).integers(0, 4, size=(2, 2, 5, 5, 1))
  b = m.sample(2, seed=1, num_frames=6, prefix_frames=prefix)
  assert b.shape == (2, 6, 5, 5, 1)
  np.testing.assert_array_equal(b[:, :2], prefix)
  np.testing.assert_array_equal(b, m.sample(2, seed=1, num_frames=6, prefix_frames=prefix))


def test_a_condition_reaches_every_frame_and_keeps_the_samplers_equal():
  m = VideoPixelNetwork((3, 5, 5, 1), num_levels=4, encoder_filters=4, encoder_layers=1,
                        lstm_filters=4, decoder_filters=4, decoder_layers=2, num_classes=3)
  perturb(m, 0.3)
  x = np.random.default_rng(3).integers(0, 4, size=(2, 3, 5, 5, 1)).astype(np.uint8)
  a, b = m.log_prob(x, condition=[0, 0]), m.log_prob(x, condition=[2, 2])
  assert np.all(np.abs(a - b) > 1e-4)
  np.testing.assert_allclose(b, m.frame_by_frame_log_prob(x, condition=[2, 2]), rtol=1e-5)
  # The condition moves the logits of the very first pixel (no frame before it).
  first = lambda c: m.logits_from_float(np.zeros((1, 3, 5, 5, 1)), condition=[c])[0, 0, 0, 0]
  assert np.abs(first(0) - first(1)).max() > 1e-4
  s = m.sample(2, seed=4, condition=[1, 2])
  np.testing.assert_array_equal(s, m.sample(2, seed=4, condition=[1, 2], method="naive"))
  clone = VideoPixelNetwork.from_config(m.get_config())
  clone.set_weights(m.get_weights())
  np.testing.assert_allclose(clone.log_prob(x, condition=[2, 2]), b, rtol=1e-6)


@pytest.mark.parametrize("prefix, match", [
    (np.zeros((2, 2, 4, 5, 1)), "shape"),
    (np.zeros((3, 2, 5, 5, 1)), "shape"),
    (np.zeros((2, 5, 5, 1)), "shape"),
    (np.zeros((2, 7, 5, 5, 1)), "more than num_frames"),
    (np.full((2, 1, 5, 5, 1), 9), "prefix_frames"),
])
def test_bad_prefixes_are_refused(prefix, match):
  with pytest.raises(ValueError, match=match):
    _tiny().sample(2, seed=1, num_frames=6, prefix_frames=prefix)


def test_bad_shapes_are_refused():
  with pytest.raises(ValueError, match="video_shape"):
    VideoPixelNetwork((5, 5, 1))
  with pytest.raises(ValueError, match="models video data"):
    from tfgen import data
    VideoPixelNetwork.from_dataset(data.info("fashion_mnist"))
  with pytest.raises(ValueError, match="x"):
    _tiny().log_prob(np.zeros((2, 3, 4, 5, 1), np.uint8))


def test_video_strip():
  videos = np.arange(2 * 3 * 2 * 2).reshape(2, 3, 2, 2, 1) % 4
  strip = video_strip_of(videos, 4)
  assert strip.shape == (2 * 3 + 1, 3 * 3 + 1, 1) and strip.dtype == np.uint8
  np.testing.assert_array_equal(strip[1:3, 4:6, 0], videos[0, 1, :, :, 0] * 85)

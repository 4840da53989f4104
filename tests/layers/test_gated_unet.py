"""GatedPixelCNNUNet: causal at every resolution (by gradients), no blind spot."""

import numpy as np
import pytest
import tensorflow as tf

from tests.conftest import perturb
from tfgen.layers import GatedPixelCNNUNet


def _influence(stack, shape, i, j, group):
  """|∂ features(i, j, colour group) / ∂ input| per input sub-pixel."""
  x = tf.constant(np.random.default_rng(0).normal(size=(1,) + shape), tf.float32)
  with tf.GradientTape() as tape:
    tape.watch(x)
    out = stack(x)
    width = out.shape[-1] // shape[-1]
    y = tf.reduce_sum(out[0, i, j, group * width:(group + 1) * width])
  grad = tape.gradient(y, x, unconnected_gradients=tf.UnconnectedGradients.ZERO)
  return np.abs(grad.numpy()[0])


@pytest.mark.parametrize("shape, downsample", [((9, 7, 1), 1), ((7, 9, 3), 2), ((12, 10, 1), 3)])
def test_features_see_only_earlier_subpixels(shape, downsample):
  h, w, c = shape
  stack = GatedPixelCNNUNet(c, 6 * c, 1, downsample)
  stack(tf.zeros((1,) + shape))
  perturb(stack, 0.3)
  order = np.arange(h * w * c).reshape(shape)
  for i, j in [(0, 0), (1, w - 1), (h // 2, w // 2), (h - 1, 0), (h - 1, w - 1), (2, 1)]:
    for g in range(c):
      grad = _influence(stack, shape, i, j, g)
      assert np.all(grad[order >= order[i, j, g]] == 0.), (i, j, g)
      if (i, j, g) != (0, 0, 0):
        before = grad[order < order[i, j, g]]
        assert before.sum() > 0.
      if g > 0:
        assert grad[i, j, g - 1] > 0.  # G sees R, B sees G


def test_no_blind_spot_every_earlier_pixel_is_seen():
  shape, (i, j) = (16, 16, 1), (12, 5)
  stack = GatedPixelCNNUNet(1, 8, 2, 2)
  stack(tf.zeros((1,) + shape))
  perturb(stack, 0.3)
  seen = _influence(stack, shape, i, j, 0)[..., 0] > 0
  assert np.all(seen[i, :j])                       # the row so far
  assert np.all(seen[i - 3:i, j - 3:j + 4])         # above-left and above-right: no blind spot
  assert np.all(seen[:i])                           # every earlier row, through 4× coarser maps
  assert seen.sum() == i * shape[1] + j              # and nothing else


def test_refuses_a_feature_map_condition_and_bad_sizes():
  with pytest.raises(ValueError, match="downsample"):
    GatedPixelCNNUNet(1, 8, 1, 0)
  with pytest.raises(ValueError, match="num_layers"):
    GatedPixelCNNUNet(1, 8, 0, 1)
  stack = GatedPixelCNNUNet(1, 8, 1, 1, condition_size=3)
  with pytest.raises(ValueError, match="feature map"):
    stack(tf.zeros([1, 4, 4, 1]), tf.zeros([1, 4, 4, 3]))


def _teacher_forced(stack, x, condition, start_row):
  """Features at every pixel from the cache, writing ``x``'s own values (a
  sampler would write its draws): the cache starts from ``x`` with rows
  from ``start_row`` on zeroed, as for sampling from a prefix."""
  _, h, w, c = x.shape
  prefix = tf.concat([x[:, :start_row], tf.zeros_like(x[:, start_row:])], axis=1)
  cache = stack.init_cache(prefix, condition, start_row)
  out = np.zeros((x.shape[0], h, w, stack(x, condition).shape[-1]), np.float32)
  for i in range(start_row, h):
    for j in range(w):
      for k in range(c):
        features, cache = stack.step(cache, i, j, condition)
        if k == 0:
          out[:, i, j] = features.numpy()
        cache = stack.write(cache, i, j, k, x[:, i, j, k])
    cache = stack.end_row(cache, i, condition)
  return out


@pytest.mark.parametrize("shape, downsample, blocks, start_row, condition_size", [
    ((7, 6, 1), 1, 1, 0, None),
    ((9, 7, 3), 2, 2, 0, 4),
    ((11, 9, 1), 3, 1, 3, None),
    ((8, 8, 1), 2, 1, 4, 2),
])
def test_the_cache_gives_the_features_of_the_whole_network(shape, downsample, blocks, start_row,
                                                           condition_size):
  stack = GatedPixelCNNUNet(shape[-1], 6 * shape[-1], blocks, downsample,
                            condition_size=condition_size)
  rng = np.random.default_rng(2)
  x = tf.constant(rng.uniform(-1, 1, size=(2,) + shape), tf.float32)
  condition = (None if condition_size is None
               else tf.constant(rng.normal(size=(2, condition_size)), tf.float32))
  stack(x, condition)
  perturb(stack, 0.3)
  whole = stack(x, condition).numpy()
  # The current pixel's own channels (RGB) enter only through a mask-A 1×1
  # convolution of the pixel, which the cache adds at each sub-pixel; at
  # k == 0 none is written yet, so compare without it.
  if stack.current is not None:
    whole = whole - stack.current(x).numpy() + stack.current(tf.zeros_like(x)).numpy()
  cached = _teacher_forced(stack, x, condition, start_row)
  np.testing.assert_allclose(cached[:, start_row:], whole[:, start_row:], rtol=1e-4, atol=1e-4)

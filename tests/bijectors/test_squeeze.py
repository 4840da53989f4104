import numpy as np
import pytest
import tensorflow as tf

from tests.conftest import brute_force_log_det, fresh
from tfgen.bijectors import Squeeze


def test_shapes_and_round_trip():
  b = Squeeze()
  x = tf.random.normal([3, 4, 6, 5])
  y = b.forward(x)
  assert y.shape == [3, 2, 3, 20]
  assert b.forward_event_shape([4, 6, 5]) == [2, 3, 20]
  assert b.inverse_event_shape([2, 3, 20]) == [4, 6, 5]
  np.testing.assert_array_equal(b.inverse(fresh(y)), x)


def test_layout_matches_space_to_depth():
  x = tf.reshape(tf.range(2 * 4 * 4 * 3, dtype=tf.float32), [2, 4, 4, 3])
  np.testing.assert_array_equal(Squeeze().forward(x), tf.nn.space_to_depth(x, 2))
  # One output pixel gathers a 2x2 patch: entry (a*2+b)*C + c is x[a, b, c].
  np.testing.assert_array_equal(Squeeze().forward(x)[0, 0, 0, 3:6], x[0, 0, 1, :])


def test_log_det_is_zero_and_matches_jacobian():
  b = Squeeze()
  x = tf.random.normal([2, 2, 2, 2])
  np.testing.assert_allclose(brute_force_log_det(b.forward, x), 0., atol=1e-6)
  assert float(b.forward_log_det_jacobian(x, event_ndims=3)) == 0.


def test_extra_batch_dims():
  x = tf.random.normal([2, 3, 4, 4, 1])
  assert Squeeze().forward(x).shape == [2, 3, 2, 2, 4]


def test_odd_size_is_rejected():
  with pytest.raises(ValueError, match="divisible by 2"):
    Squeeze().forward_event_shape([5, 4, 1])
  with pytest.raises(ValueError, match="factor"):
    Squeeze(factor=0)

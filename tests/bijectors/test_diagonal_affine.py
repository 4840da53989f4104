import numpy as np
import pytest
import tensorflow as tf

from tests.conftest import brute_force_log_det, fresh, perturb
from tfgen.bijectors import DiagonalAffine


def test_conditional_round_trip_and_log_det():
  b = DiagonalAffine([2, 2, 2], condition_size=3)
  perturb(b)
  x = tf.random.normal([2, 2, 2, 2])
  c = tf.one_hot([0, 2], 3)
  y = b.forward(x, condition=c)
  np.testing.assert_allclose(b.inverse(fresh(y), condition=c), x, atol=1e-5)
  np.testing.assert_allclose(b.forward_log_det_jacobian(x, event_ndims=3, condition=c),
                             brute_force_log_det(lambda t: b.forward(t, condition=c), x),
                             atol=1e-4)
  y_other = b.forward(x, condition=tf.one_hot([1, 1], 3))
  assert float(tf.reduce_max(tf.abs(y - y_other))) > 1e-3
  with pytest.raises(ValueError, match="condition"):
    b.forward(x)


def test_starts_as_identity():
  x = tf.random.normal([2, 5])
  np.testing.assert_array_equal(DiagonalAffine([5]).forward(x), x)

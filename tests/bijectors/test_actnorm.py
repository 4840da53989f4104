import numpy as np
import tensorflow as tf

from tests.conftest import brute_force_log_det, fresh, perturb
from tfgen.bijectors import ActNorm


def _data():
  return tf.random.normal([64, 5, 5, 3]) * [1., 3., 0.2] + [2., -1., 5.]


def test_first_inverse_sets_zero_mean_unit_variance():
  b = ActNorm(3)
  x = _data()
  z = b.inverse(x)
  assert bool(b.initialized)
  np.testing.assert_allclose(tf.reduce_mean(z, [0, 1, 2]), 0., atol=1e-4)
  np.testing.assert_allclose(tf.math.reduce_std(z, [0, 1, 2]), 1., atol=1e-3)
  # Only the first batch initialises.
  shift = b.shift.numpy().copy()
  b.inverse(_data() * 10.)
  np.testing.assert_array_equal(b.shift.numpy(), shift)


def test_init_inside_tf_function_and_log_det_uses_new_values():
  b = ActNorm(3)
  x = _data()
  ildj = tf.function(lambda y: b.inverse_log_det_jacobian(y, event_ndims=3))(x)
  std = tf.math.reduce_std(x, [0, 1, 2])
  np.testing.assert_allclose(ildj, -25. * np.sum(np.log(std)), rtol=1e-3)
  assert bool(b.initialized)


def test_forward_does_not_initialise():
  b = ActNorm(3)
  b.forward(_data())
  assert not bool(b.initialized)


def test_round_trip_and_log_det():
  b = ActNorm(2)
  b.initialized.assign(True)
  perturb(b)
  x = tf.random.normal([3, 2, 2, 2])
  y = b.forward(x)
  np.testing.assert_allclose(b.inverse(fresh(y)), x, atol=1e-5)
  np.testing.assert_allclose(b.forward_log_det_jacobian(x, event_ndims=3) * tf.ones([3]),
                             brute_force_log_det(b.forward, x), atol=1e-4)


def test_vector_events():
  b = ActNorm(4, event_ndims=1)
  z = b.inverse(tf.random.normal([100, 4]) * 5. + 1.)
  np.testing.assert_allclose(tf.math.reduce_std(z, 0), 1., atol=1e-3)


def test_variables_are_trainable():
  assert len(ActNorm(3).trainable_variables) == 2

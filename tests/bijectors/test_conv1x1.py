import numpy as np
import pytest
import tensorflow as tf

from tests.conftest import brute_force_log_det, fresh, perturb
from tfgen.bijectors import InvertibleConv1x1


def test_initial_weight_is_orthogonal_and_lu_reconstructs_it():
  lu = InvertibleConv1x1(6, lu=True, seed=3)
  dense = InvertibleConv1x1(6, lu=False, seed=3)
  w = lu.weight().numpy()
  np.testing.assert_allclose(w @ w.T, np.eye(6), atol=1e-5)
  np.testing.assert_allclose(w, dense.weight(), atol=1e-5)


@pytest.mark.parametrize("lu", [True, False])
def test_round_trip_and_log_det(lu):
  b = InvertibleConv1x1(3, lu=lu, seed=1)
  perturb(b, scale=0.5)
  x = tf.random.normal([2, 2, 2, 3])
  y = b.forward(x)
  np.testing.assert_allclose(b.inverse(fresh(y)), x, atol=1e-4)
  expected = brute_force_log_det(b.forward, x)
  np.testing.assert_allclose(b.forward_log_det_jacobian(x, event_ndims=3) * tf.ones([2]),
                             expected, atol=1e-4)
  assert abs(expected[0]) > 1e-3  # perturbed: not volume preserving
  np.testing.assert_allclose(b.inverse_log_det_jacobian(y, event_ndims=3) * tf.ones([2]),
                             -expected, atol=1e-4)


def test_lu_and_dense_agree_after_training_like_changes():
  lu = InvertibleConv1x1(4, lu=True, seed=7)
  perturb(lu, scale=0.3)
  dense = InvertibleConv1x1(4, lu=False, seed=7)
  dense.kernel.assign(lu.weight())
  x = tf.random.normal([5, 3, 3, 4])
  np.testing.assert_allclose(lu.forward(x), dense.forward(x), atol=1e-5)
  np.testing.assert_allclose(lu.forward_log_det_jacobian(x, event_ndims=3),
                             dense.forward_log_det_jacobian(x, event_ndims=3), atol=1e-4)


def test_mixes_channels_per_pixel_with_w_in_the_density_direction():
  b = InvertibleConv1x1(3, seed=0)
  x = tf.random.normal([1, 4, 4, 3])
  z = b.inverse(x)
  np.testing.assert_allclose(z[0, 1, 2], b.weight().numpy() @ x[0, 1, 2].numpy(), atol=1e-5)


def test_bad_arguments():
  with pytest.raises(ValueError, match="channels"):
    InvertibleConv1x1(0)
  with pytest.raises(ValueError, match="event_ndims"):
    InvertibleConv1x1(3, event_ndims=4)


@pytest.mark.parametrize("lu", [True, False])
def test_compiles_under_xla_with_the_same_values(lu):
  b = InvertibleConv1x1(4, lu=lu, seed=2)
  perturb(b, scale=0.3)
  x = tf.random.normal([2, 3, 3, 4])

  def f(x):
    return b.forward(x), b.inverse_log_det_jacobian(x, event_ndims=3)
  y, ildj = tf.function(f, jit_compile=True)(x)
  np.testing.assert_allclose(y, b.forward(fresh(x)), atol=1e-5)
  np.testing.assert_allclose(ildj, b.inverse_log_det_jacobian(fresh(x), event_ndims=3), rtol=1e-5)
  expected = 9 * np.linalg.slogdet(b.weight().numpy())[1]   # 3x3 positions, inverse uses W
  np.testing.assert_allclose(ildj, expected, rtol=1e-4)

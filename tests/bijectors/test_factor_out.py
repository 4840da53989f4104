import numpy as np
import pytest
import tensorflow as tf
import tensorflow_probability as tfp

from tests.conftest import brute_force_log_det, fresh, perturb
from tfgen.bijectors import AffineCoupling, FactorOut

tfb = tfp.bijectors


def _inner():
  coupling = AffineCoupling([2, 2, 2], mask="channel", hidden_channels=4, name="inner_coupling")
  flatten = tfb.Reshape(event_shape_out=[2, 2, 2], event_shape_in=[8])
  return tfb.Chain([coupling, flatten])


@pytest.mark.parametrize("prior", ["gaussian", "standard"])
def test_round_trip_shapes_and_log_det(prior):
  b = FactorOut([2, 2, 4], _inner(), prior=prior)
  perturb(b, scale=0.3)
  x = tf.random.normal([3, 2, 2, 4])
  z = b.inverse(x)
  assert z.shape == [3, 16] and b.latent_size == 16
  assert b.forward_event_shape([16]) == [2, 2, 4]
  np.testing.assert_allclose(b.forward(fresh(z)), x, atol=1e-4)
  expected = brute_force_log_det(b.inverse, x)
  np.testing.assert_allclose(b.inverse_log_det_jacobian(fresh(x), event_ndims=3), expected,
                             atol=1e-4)
  np.testing.assert_allclose(b.forward_log_det_jacobian(fresh(z), event_ndims=1), -expected,
                             atol=1e-4)


def test_leaving_half_is_standardised_by_the_prior():
  b = FactorOut([2, 2, 4], _inner(), prior="gaussian")
  perturb(b)
  x = tf.random.normal([2, 2, 2, 4])
  z = b.inverse(x)
  out = b.prior_net(x[..., :2])
  mu, rho = out[..., :2], 3. * tf.tanh(out[..., 2:] / 3.)      # the bounded log-scale
  np.testing.assert_allclose(tf.reshape(z[:, :8], [2, 2, 2, 2]), (x[..., 2:] - mu) * tf.exp(-rho),
                             atol=1e-5)


def test_prior_scale_is_bounded():
  b = FactorOut([2, 2, 4], _inner(), prior="gaussian")
  b.prior_net.kernel.assign(tf.fill(b.prior_net.kernel.shape, 50.))   # huge raw log-scales
  x = tf.random.stateless_normal([2, 2, 2, 4], [1, 2])
  mu, rho = b._prior_params(x[..., :2])
  assert float(tf.reduce_max(tf.abs(rho))) <= 3. and float(tf.reduce_max(tf.abs(rho))) > 2.9
  np.testing.assert_allclose(b.forward(b.inverse(x)), x, atol=1e-4)


def test_bad_arguments():
  with pytest.raises(ValueError, match="prior"):
    FactorOut([2, 2, 4], _inner(), prior="laplace")
  with pytest.raises(ValueError, match="C >= 2"):
    FactorOut([2, 2, 1], _inner())

import numpy as np
import pytest
import tensorflow as tf

from tests.conftest import brute_force_log_det, fresh
from tfgen.bijectors import Dequantize


@pytest.mark.parametrize("logit", [False, True])
def test_round_trip_and_log_det(logit):
  b = Dequantize(n_bits=8, logit=logit)
  y = tf.random.uniform([3, 2, 2, 1], 0., 256.)
  z = b.inverse(y)
  np.testing.assert_allclose(b.forward(fresh(z)), y, rtol=1e-4, atol=1e-3)
  np.testing.assert_allclose(b.forward_log_det_jacobian(fresh(z), event_ndims=3) * tf.ones([3]),
                             brute_force_log_det(b.forward, z), rtol=1e-4)


def test_uniform_density_gives_n_bits_per_dim():
  # The uniform density on [0, K)^D, pulled back through Dequantize, is D*log(1/K).
  b = Dequantize(n_bits=5)
  z = b.inverse(tf.random.uniform([2, 3, 3, 1], 0., 32.))
  ildj = b.inverse_log_det_jacobian(z * 0 + b.inverse(tf.fill([2, 3, 3, 1], 5.)), event_ndims=3)
  np.testing.assert_allclose(ildj, -9 * np.log(32.), rtol=1e-6)


def test_noise_and_quantize_with_fewer_bits():
  b = Dequantize(n_bits=5)
  x = tf.constant(np.arange(256, dtype=np.uint8).reshape(1, 16, 16, 1))
  y = b.add_noise(x, seed=[1, 2])
  assert float(tf.reduce_min(y)) >= 0. and float(tf.reduce_max(y)) < 32.
  np.testing.assert_array_equal(y, b.add_noise(x, seed=[1, 2]))  # stateless
  np.testing.assert_array_equal(b.quantize(y), (x.numpy() // 8) * 8)
  np.testing.assert_array_equal(b.add_noise(x, midpoint=True), x.numpy() // 8 + 0.5)


def test_bad_arguments():
  with pytest.raises(ValueError, match="n_bits"):
    Dequantize(n_bits=9)
  with pytest.raises(ValueError, match="alpha"):
    Dequantize(logit=True, alpha=0.7)
  with pytest.raises(ValueError, match="seed"):
    Dequantize().add_noise(tf.zeros([1, 2, 2, 1], tf.uint8), seed="middle")

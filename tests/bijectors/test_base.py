"""What every tfgen bijector shares (tfgen/bijectors/base.py): float32 inputs,
and run-time input checks when built with ``validate_args=True``."""

import numpy as np
import pytest
import tensorflow as tf

from tfgen.bijectors import ActNorm, AffineCoupling, Squeeze


@pytest.mark.parametrize("make", [lambda v: Squeeze(validate_args=v),
                                  lambda v: ActNorm(2, validate_args=v),
                                  lambda v: AffineCoupling((4, 4, 2), hidden_channels=4,
                                                           validate_args=v)])
def test_validate_args_checks_inputs_only_when_asked(make):
  bad = tf.constant(np.full([1, 4, 4, 2], np.nan, np.float32))
  make(False).forward(bad)                     # off: no check, as in TFP
  with pytest.raises(tf.errors.InvalidArgumentError, match="must be finite"):
    make(True).forward(bad)
  with pytest.raises(tf.errors.InvalidArgumentError, match="must be finite"):
    make(True).inverse_log_det_jacobian(bad, event_ndims=3)
  with pytest.raises(ValueError, match="at least 3 dimensions"):
    make(True).forward(tf.zeros([4, 2]))
  bijector, good = make(True), tf.random.stateless_normal([1, 4, 4, 2], seed=[0, 1])
  bijector.inverse(bijector.forward(good))                # ActNorm: its data-dependent init
  np.testing.assert_allclose(bijector.inverse(bijector.forward(good)).numpy(), good.numpy(),
                             atol=1e-5)                # valid inputs pass through unchanged


def test_inputs_of_another_float_dtype_are_refused():
  with pytest.raises(ValueError, match="float32"):
    Squeeze().forward(tf.zeros([1, 4, 4, 2], tf.float64))

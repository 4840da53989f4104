"""The one-pass log-det (TFP's private cache, wrapped in tfgen/bijectors/_tfp_cache.py)
and its safety: results always reflect the current variables."""

import numpy as np
import pytest
import tensorflow as tf
import tensorflow_probability as tfp

from tfgen.bijectors import ActNorm, AdditiveCoupling, AffineCoupling, InvertibleConv1x1, one_pass
from tfgen.flows import Glow

tfd = tfp.distributions


def _counting(coupling):
  calls = []
  original = coupling._run_conditioner

  def run(*args, **kwargs):
    calls.append(1)
    return original(*args, **kwargs)
  coupling._run_conditioner = run
  return calls


@pytest.mark.parametrize("cls", [AdditiveCoupling, AffineCoupling])
def test_log_prob_through_transformed_distribution_runs_the_conditioner_once(cls):
  # If a TFP upgrade breaks the cache this fails, instead of silently doubling the cost.
  coupling = cls([6], mask="checkerboard", parity=0, hidden_channels=8)
  calls = _counting(coupling)
  dist = tfd.TransformedDistribution(tfd.Sample(tfd.Normal(0., 1.), [6]), coupling)
  y = tf.random.normal([3, 6])
  tf.function(dist.log_prob)(y)
  assert len(calls) == 1                     # graph mode: one pass
  calls.clear()
  with one_pass():
    dist.log_prob(y)
  assert len(calls) == 1                     # eager, inside one_pass(): one pass
  calls.clear()
  dist.log_prob(y)
  assert len(calls) == 2                     # plain eager: no cache, always current


def test_glow_log_prob_is_one_pass_per_coupling():
  model = Glow((4, 4, 1), levels=1, steps_per_level=2, hidden_channels=4)
  couplings = [m for m in model.bijector.submodules if isinstance(m, AffineCoupling)]
  counts = [_counting(c) for c in couplings]
  x = np.random.default_rng(0).integers(0, 256, size=(2, 4, 4, 1))
  model.log_prob(x)
  assert [len(c) for c in counts] == [1] * len(couplings)


def _bijectors():
  affine = AffineCoupling([4], mask="checkerboard", parity=0, hidden_channels=8)
  additive = AdditiveCoupling([4], mask="checkerboard", parity=1, hidden_channels=8)
  actnorm = ActNorm(4, event_ndims=1)
  actnorm.forward(tf.random.normal([5, 4]))  # data-dependent init
  return [affine, additive, actnorm, InvertibleConv1x1(4, event_ndims=1, seed=1),
          InvertibleConv1x1(4, lu=False, event_ndims=1, seed=1)]


@pytest.mark.parametrize("index", range(5))
def test_results_follow_the_variables_after_assign(index):
  b = _bijectors()[index]
  x = tf.random.normal([2, 4])
  y0 = b.forward(x).numpy()
  ldj0 = b.inverse_log_det_jacobian(b.forward(x), event_ndims=1).numpy()
  for v in b.trainable_variables:
    v.assign(v + 0.3)
  y1 = b.forward(x).numpy()                                  # the same input tensor
  assert np.abs(y1 - y0).max() > 1e-3, "stale forward"
  ldj1 = b.inverse_log_det_jacobian(b.forward(x), event_ndims=1).numpy()
  assert np.abs(ldj1 - ldj0).max() > 1e-4 or type(b).__name__ == "AdditiveCoupling"
  fresh = tf.constant(x.numpy())
  np.testing.assert_allclose(y1, b.forward(fresh), rtol=1e-5, atol=1e-6)


def test_float64_is_refused_clearly():
  b = AffineCoupling([4], mask="checkerboard", parity=0, hidden_channels=8)
  for method in (b.forward, b.inverse):
    with pytest.raises(ValueError, match="must be float32.*float64"):
      method(np.zeros([1, 4]))                               # numpy's default dtype
  with pytest.raises(ValueError, match="float32"):
    b.forward_log_det_jacobian(tf.zeros([1, 4], tf.float64), event_ndims=1)
  assert b.forward([[0., 0., 0., 0.]]).dtype == tf.float32     # Python floats are fine


"""MAF and IAF: log-dets against brute-force Jacobians in both directions, exact inverses,
sample-then-log_prob consistency, which direction is one pass, conditioning, bad input."""

import numpy as np
import pytest
import tensorflow as tf

from tests.conftest import brute_force_log_det
from tfgen._keras import keras
from tfgen import data
from tfgen.bijectors import InverseAutoregressive, MaskedAutoregressive
from tfgen.flows import IAF, MAF, autoregressive_flow
from tfgen.flows.base import condition_kwargs
from tfgen.training import default_optimizer


def perturb_masked(module, scale=0.5, seed=1):
  """Random weights that keep MADE's masks (TFP applies them as kernel constraints)."""
  rng = np.random.default_rng(seed)
  for v in module.trainable_variables:
    v.assign(rng.normal(size=v.shape, scale=scale).astype(np.float32))
  for layer in module.submodules:
    constraint = getattr(layer, "kernel_constraint", None)
    if constraint is not None and getattr(layer, "kernel", None) is not None:
      layer.kernel.assign(constraint(layer.kernel))


@pytest.mark.parametrize("inverse", [False, True], ids=["maf", "iaf"])
@pytest.mark.parametrize("condition_size", [None, 2])
def test_log_dets_match_brute_force_jacobians_both_ways(inverse, condition_size):
  flow = autoregressive_flow(4, num_bijectors=3, hidden_units=[16], actnorm=False,
                             inverse=inverse, condition_size=condition_size)
  perturb_masked(flow, 0.2)   # moderate scales: float32 round-off stays below the tolerances
  u = np.random.default_rng(2).normal(size=(5, 4)).astype(np.float32)
  c = np.random.default_rng(3).normal(size=(5, 2)).astype(np.float32)
  kw = {} if condition_size is None else condition_kwargs(flow, tf.constant(c))
  brute = brute_force_log_det(lambda t: flow.forward(t, **kw), u)
  np.testing.assert_allclose(flow.forward_log_det_jacobian(tf.constant(u), event_ndims=1, **kw),
                             brute, atol=1e-4)
  x = flow.forward(tf.constant(u), **kw).numpy()
  x_fresh = tf.constant(x.copy())      # no cached inverse: the inverse really runs
  np.testing.assert_allclose(flow.inverse(x_fresh, **kw), u, atol=1e-5)
  np.testing.assert_allclose(flow.inverse_log_det_jacobian(x_fresh, event_ndims=1, **kw),
                             -brute, atol=1e-4)
  np.testing.assert_allclose(brute_force_log_det(lambda t: flow.inverse(t, **kw), x), -brute,
                             atol=1e-4)


def _passes(bijector, direction, u):
  """How many times ``direction`` calls the MADE network on ``u``."""
  made = bijector.made if isinstance(bijector, InverseAutoregressive) else bijector
  calls = []
  original = made.network.call
  made.network.call = lambda *a, **k: calls.append(1) or original(*a, **k)
  try:
    tf.function(lambda t: getattr(bijector, direction)(t))(tf.constant(u))
  finally:
    del made.network.call
  return len(calls)


def test_maf_density_and_iaf_sampling_are_one_pass():
  u = np.zeros((2, 6), np.float32)
  maf, iaf = MaskedAutoregressive(6, [8]), InverseAutoregressive(6, [8])
  assert _passes(maf, "inverse", u) == 1     # MAF: x → u (density) is one pass
  assert _passes(iaf, "forward", u) == 1     # IAF: u → x (sampling) is one pass
  # The D-pass directions are one while_loop: its body is traced once, plus one call
  # TFP makes to build the network before the loop.
  assert _passes(maf, "forward", u) <= 2 and _passes(iaf, "inverse", u) <= 2


@pytest.mark.parametrize("cls", [MAF, IAF])
@pytest.mark.parametrize("classes", [None, 3])
def test_models_invert_exactly_and_sample_consistently(cls, classes):
  m = cls((2, 3, 1), num_bijectors=2, hidden_units=[16], num_classes=classes)
  x = np.random.default_rng(0).integers(0, 256, size=(4, 2, 3, 1)).astype(np.uint8)
  c = None if classes is None else [0, 1, 2, 0]
  m.log_prob(x, c)                            # ActNorm initialises from this batch
  perturb_masked(m, 0.1)
  np.testing.assert_array_equal(m.decode(m.encode(x, c), c), x)
  s = m.sample(4, seed=3, condition=c)
  assert s.dtype == tf.uint8 and s.shape == (4, 2, 3, 1)
  lp = m.log_prob(s, c, seed=[1, 2])
  assert np.all(np.isfinite(lp)) and lp.shape == (4,)
  if classes:
    assert np.any(np.abs(m.log_prob(x, [0] * 4, seed=[1, 1]) - m.log_prob(x, [2] * 4, seed=[1, 1]))
                  > 1e-4)


def test_continuous_2d_density_is_normalised():
  import tensorflow_probability as tfp
  flow = autoregressive_flow(2, num_bijectors=3, hidden_units=[16], actnorm=False)
  perturb_masked(flow, 0.3)
  dist = tfp.distributions.TransformedDistribution(
      tfp.distributions.Sample(tfp.distributions.Normal(0., 1.), [2]), flow)
  grid = np.stack(np.meshgrid(np.linspace(-8, 8, 321), np.linspace(-8, 8, 321)), -1)
  p = np.exp(dist.log_prob(tf.constant(grid.reshape(-1, 2), tf.float32)).numpy())
  assert p.sum() * (16 / 320) ** 2 == pytest.approx(1.0, abs=0.02)


@pytest.mark.parametrize("kw, match", [
    (dict(permutation="sideways"), "permutation"),
    (dict(permutation=[[0, 0, 1, 2, 3, 4]]), "permutation of range"),
    (dict(permutation=[[0, 1, 2, 3, 4, 5]] * 3), "between"),
    (dict(num_bijectors=0), "num_bijectors"),
    (dict(hidden_units=[0]), "hidden_units"),
])
def test_bad_arguments(kw, match):
  with pytest.raises(ValueError, match=match):
    MAF((2, 3, 1), **{"num_bijectors": 2, "hidden_units": [4], **kw})


def test_wrong_event_size_is_refused():
  with pytest.raises(ValueError, match="shape"):
    MAF((2, 3, 1), num_bijectors=1, hidden_units=[4]).log_prob(np.zeros((1, 3, 2, 1), np.uint8))


def test_mixed_precision_keeps_the_density_in_float32(policy):
  """Under a bfloat16 policy the TFP networks run in float32 (their shift and
  log-scale feed the log-det), so the density is float32's up to the few
  layers around them that compute in bfloat16 (2e-4 relative seen)."""
  x = np.random.default_rng(0).integers(0, 256, (3, 2, 2, 1)).astype(np.uint8)
  keras.utils.set_random_seed(0)
  want = IAF((2, 2, 1), num_bijectors=1, hidden_units=[4]).log_prob(x, seed=[0, 0])
  policy("mixed_bfloat16")
  keras.utils.set_random_seed(0)
  got = IAF((2, 2, 1), num_bijectors=1, hidden_units=[4]).log_prob(x, seed=[0, 0])
  assert got.dtype == tf.float32
  np.testing.assert_allclose(got.numpy(), want.numpy(), rtol=1e-3)


@pytest.mark.slow  # real-data learning: CI runs it (pytest -m slow)
def test_maf_bits_per_dim_fall_on_fashion_mnist(fmnist_available):
  keras.utils.set_random_seed(0)
  m = MAF((28, 28, 1), num_bijectors=2, hidden_units=[256])
  m.compile(default_optimizer(1e-3))
  test = data.load("fashion_mnist", "test", 250, take=500)
  train = data.load("fashion_mnist", "train", 64, repeat=True, take=6000, seed=0)
  m.fit(train, steps_per_epoch=1, epochs=1, verbose=0)        # ActNorm init
  before = m.evaluate(test, verbose=0, return_dict=True)["bits_per_dim"]
  m.fit(train, steps_per_epoch=150, epochs=1, verbose=0)
  after = m.evaluate(test, verbose=0, return_dict=True)["bits_per_dim"]
  assert after < before - 0.5 and after < 6.5   # 8 bits/dim is a uniform model

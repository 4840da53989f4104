"""ReversibleChain and memory-efficient Glow: the same log_prob and samples, and gradients
equal to the default path for every parameter (eager and compiled)."""

import numpy as np
import pytest
import tensorflow as tf

from tests.conftest import perturb
from tfgen.bijectors import ReversibleChain
from tfgen.flows import Glow

X = np.random.default_rng(0).integers(0, 256, size=(6, 4, 4, 1)).astype(np.uint8)


def _pair(classes):
  kw = dict(levels=2, steps_per_level=3, hidden_channels=8, num_classes=classes)
  plain, efficient = Glow((4, 4, 1), **kw), Glow((4, 4, 1), memory_efficient=True, **kw)
  c = None if classes is None else [0, 1, 2, 0, 1, 2]
  plain.log_prob(X, c)
  efficient.log_prob(X, c)            # ActNorm initialises; then the same weights
  perturb(plain, 0.2)
  efficient.set_weights(plain.get_weights())
  return plain, efficient, c


def _grads(model, c, compiled):
  def fn():
    with tf.GradientTape() as tape:
      loss = -tf.reduce_mean(model.log_prob(X, c, seed=[1, 2]))
    return tape.gradient(loss, model.trainable_variables)
  return tf.function(fn)() if compiled else fn()


@pytest.mark.parametrize("classes", [None, 3])
@pytest.mark.parametrize("compiled", [False, True])
def test_memory_efficient_glow_matches_the_default_path(classes, compiled):
  plain, efficient, c = _pair(classes)
  np.testing.assert_allclose(efficient.log_prob(X, c, seed=[1, 2]),
                             plain.log_prob(X, c, seed=[1, 2]), rtol=1e-6)
  a, b = _grads(plain, c, compiled), _grads(efficient, c, compiled)
  assert len(a) == len(b) > 30 and all(g is not None for g in b)
  for ga, gb in zip(a, b):
    scale = float(tf.reduce_max(tf.abs(ga)))
    assert float(tf.reduce_max(tf.abs(ga - gb))) <= 1e-5 * scale + 1e-8
  cond = None if classes is None else [0, 1]
  np.testing.assert_array_equal(plain.sample(2, seed=3, condition=cond),
                                efficient.sample(2, seed=3, condition=cond))
  assert efficient.get_config()["memory_efficient"] is True


def test_chain_log_dets_match_tfp_chain():
  import tensorflow_probability as tfp
  from tfgen.bijectors import ActNorm, InvertibleConv1x1
  steps = [ActNorm(4, name="a"), InvertibleConv1x1(4, name="c")]
  chain = ReversibleChain(steps)
  reference = tfp.bijectors.Chain(steps)
  y = tf.constant(np.random.default_rng(1).normal(size=(3, 2, 2, 4)), tf.float32)
  reference.inverse(y)               # ActNorm initialises once
  perturb(chain, 0.3)
  for a, b in ((chain.inverse(y), reference.inverse(y)),
               (chain.inverse_log_det_jacobian(y, event_ndims=3),
                reference.inverse_log_det_jacobian(y, event_ndims=3)),
               (chain.forward_log_det_jacobian(y, event_ndims=3),
                reference.forward_log_det_jacobian(y, event_ndims=3))):
    np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-5)
  with pytest.raises(ValueError, match="non-empty"):
    ReversibleChain([])


@pytest.mark.parametrize("family", ["realnvp", "nice"])
def test_memory_efficient_realnvp_and_nice_match_the_default_path(family):
  from tfgen.flows import NICE, RealNVP
  build = {"realnvp": lambda **kw: RealNVP((4, 4, 1), levels=2, hidden_channels=8, **kw),
           "nice": lambda **kw: NICE((4, 4, 1), num_couplings=3, hidden_units=8,
                                     num_hidden_layers=1, **kw)}[family]
  plain, efficient = build(), build(memory_efficient=True)
  perturb(plain, 0.2)
  efficient.set_weights(plain.get_weights())
  np.testing.assert_allclose(efficient.log_prob(X, seed=[1, 2]), plain.log_prob(X, seed=[1, 2]),
                             rtol=1e-6)
  for compiled in (False, True):
    a, b = _grads(plain, None, compiled), _grads(efficient, None, compiled)
    assert len(a) == len(b) and all(g is not None for g in b)
    for ga, gb in zip(a, b):
      scale = float(tf.reduce_max(tf.abs(ga)))
      assert float(tf.reduce_max(tf.abs(ga - gb))) <= 1e-5 * scale + 1e-8
  np.testing.assert_array_equal(plain.sample(2, seed=3), efficient.sample(2, seed=3))
  assert type(efficient).from_config(efficient.get_config()).memory_efficient


def test_autoregressive_flows_refuse_memory_efficient():
  from tfgen.flows import IAF, MAF
  for cls in (MAF, IAF):
    with pytest.raises(ValueError, match="memory_efficient"):
      cls((2, 2, 1), num_bijectors=1, hidden_units=[4], memory_efficient=True)

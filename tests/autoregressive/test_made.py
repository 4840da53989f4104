import numpy as np
import pytest
import tensorflow as tf

from tfgen.autoregressive import MADE
from tfgen.training import default_optimizer


def perturb_biases(model, scale=0.5):
  """Random biases. (Kernels start random and masked; TFP keeps the masks via
  the kernel initializer and constraint, so assigning raw kernels would break them.)"""
  rng = np.random.default_rng(0)
  for v in model.trainable_variables:
    if "bias" in v.name:
      v.assign(rng.normal(scale=scale, size=v.shape).astype("float32"))


@pytest.mark.parametrize("order", ["left-to-right", "right-to-left", "random", [3, 0, 5, 1, 4, 2]])
@pytest.mark.parametrize("levels", [2, 5])
def test_masks_give_the_autoregressive_property(order, levels):
  model = MADE(6, hidden_units=[32, 32], num_levels=levels, input_order=order, seed=3)
  perturb_biases(model)
  position = np.empty(6, int)
  position[model.order] = np.arange(6)
  x = tf.constant(np.random.default_rng(0).normal(size=(16, 6)), tf.float32)
  for d in range(6):
    with tf.GradientTape() as tape:
      tape.watch(x)
      y = tf.reduce_sum(model.network(x)[:, d])
    grad = tape.gradient(y, x, unconnected_gradients=tf.UnconnectedGradients.ZERO)
    g = np.abs(grad.numpy()).sum(0)  # over 16 inputs, so no ReLU-dead path hides a link
    assert np.all(g[position >= position[d]] == 0.)
    assert np.all(g[position < position[d]] > 0.)  # and sees every earlier dimension


def test_log_prob_matches_the_chain_rule_and_distribution_types():
  model = MADE(4, hidden_units=[16], num_levels=3)
  perturb_biases(model)
  x = np.array([[0, 2, 1, 1], [2, 2, 0, 1]], np.int32)
  total = np.zeros(2)
  for d in range(4):
    known = np.where(np.arange(4) < d, x, 0)
    logits = model._params(tf.constant(known), None)[:, d]
    total += tf.nn.log_softmax(logits).numpy()[np.arange(2), x[:, d]]
  np.testing.assert_allclose(model.log_prob(x), total, rtol=1e-5)
  assert "Bernoulli" in type(MADE(4, hidden_units=[8]).conditionals(np.zeros((1, 4), np.int32))
                              .distribution).__name__


@pytest.mark.parametrize("order", ["left-to-right", [2, 0, 1]])
def test_samples_follow_the_exact_distribution(order):
  model = MADE(3, hidden_units=[16], num_levels=2, input_order=order)
  perturb_biases(model, scale=1.0)
  configs = np.array([[a, b, c] for a in (0, 1) for b in (0, 1) for c in (0, 1)], np.int32)
  probs = np.exp(model.log_prob(configs).numpy())
  np.testing.assert_allclose(probs.sum(), 1., rtol=1e-5)
  s = model.sample(4000, seed=[1, 2]).numpy()
  np.testing.assert_array_equal(s, model.sample(4000, seed=[1, 2]))
  freq = np.array([(s == c).all(axis=1).mean() for c in configs])
  # 4000 draws: standard error <= 0.008 per cell.
  np.testing.assert_allclose(freq, probs, atol=0.03)


def test_conditional_made_and_bad_input():
  model = MADE(4, hidden_units=[16], num_levels=2, conditional_size=2)
  perturb_biases(model)
  x = np.zeros((2, 4), np.int32)
  a = model.log_prob(x, condition=np.eye(2, dtype=np.float32))
  assert abs(float(a[0] - a[1])) > 1e-4
  with pytest.raises(ValueError, match="conditional"):
    model.log_prob(x)
  with pytest.raises(ValueError, match=r"\[0, 1\]"):
    model.log_prob(np.full((2, 4), 2), condition=np.eye(2))
  with pytest.raises(ValueError, match="input_order"):
    MADE(4, input_order=[0, 1, 1, 2])
  with pytest.raises(ValueError, match="input_order"):
    MADE(4, input_order="zigzag")


# -- order- and connectivity-agnostic MADE (Germain et al. §3.4) ---------------------------------

def _agnostic(**kw):
  from tests.conftest import perturb
  m = MADE(4, hidden_units=[12], num_masks=4, seed=3, **kw)
  perturb(m, 0.6)
  return m


def test_ensemble_likelihood_is_the_mixture_of_its_members():
  import itertools
  m = _agnostic()
  every = np.array(list(itertools.product([0, 1], repeat=4)))
  members = np.stack([m.log_prob(every, mask=k).numpy() for k in range(4)])
  np.testing.assert_allclose(m.log_prob(every),
                             np.log(np.exp(members).mean(axis=0)), rtol=1e-5)
  for k in range(4):                     # each member is a normalised autoregressive model
    assert np.exp(members[k]).sum() == pytest.approx(1.0, abs=1e-5)
  assert np.ptp(members, axis=0).max() > 0.05   # the members differ


def test_samples_follow_the_ensemble_distribution():
  import itertools
  m = _agnostic(num_levels=2)
  every = np.array(list(itertools.product([0, 1], repeat=4)))
  p = np.exp(m.log_prob(every).numpy())
  s = m.sample(20000, seed=7).numpy()
  freq = np.bincount(s @ np.array([8, 4, 2, 1]), minlength=16) / 20000
  assert np.abs(freq - p).max() < 0.015, (freq, p)


def test_agnostic_made_trains_and_round_trips():
  m = _agnostic(num_levels=3)
  x = np.random.default_rng(0).integers(0, 3, size=(64, 4))
  m.compile(default_optimizer(1e-2))
  before = m.evaluate(x, verbose=0, return_dict=True)["loss"]
  m.fit(x, epochs=20, batch_size=16, verbose=0)
  assert m.evaluate(x, verbose=0, return_dict=True)["loss"] < before
  clone = MADE.from_config(m.get_config())
  clone.set_weights(m.get_weights())
  np.testing.assert_allclose(clone.log_prob(x[:4]), m.log_prob(x[:4]), rtol=1e-5)

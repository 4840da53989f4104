"""Every registered likelihood family as a TFP distribution (tfgen.distributions),
with TFP's shape semantics, checked at each family's tiny size."""

import numpy as np
import pytest
import tensorflow as tf
import tensorflow_probability as tfp

from tfgen import base, distributions, models

tfd = tfp.distributions

LENGTH = 5   # sequence families: samples of 5 steps


def _likelihood(family):
  return issubclass(family.model, base.LikelihoodModel)


FAMILIES = sorted(n for n, f in models.FAMILIES.items() if _likelihood(f))


def _build(name, **kw):
  return models.FAMILIES[name].build_tiny(models.FAMILIES, **kw)


def _condition(model, batch):
  """A condition of batch shape ``batch`` for a family that needs one (captions)."""
  if model.condition_spec is None:
    return None
  ids = np.arange(int(np.prod(batch))).reshape(batch) % 3
  return tf.reshape(model.captions_of(ids.reshape(-1)), list(batch) + [-1])


def _distribution(model, batch=()):
  length = LENGTH if model.is_sequence else None
  return model.distribution_given(_condition(model, batch), length=length)


def _data(model, n, seed=0):
  rng = np.random.default_rng(seed)
  shape = [d or LENGTH for d in model.event_shape]
  return rng.integers(0, model.num_levels, size=[n] + shape).astype(model.data_dtype.name)


def test_every_likelihood_family_is_covered():
  assert len(FAMILIES) >= 18 and "glow" in FAMILIES and "wavenet" in FAMILIES


@pytest.mark.parametrize("name", FAMILIES)
def test_shapes_seeds_and_batch_independence(name):
  model = _build(name)
  dist = _distribution(model)
  event = [d or LENGTH for d in model.event_shape]
  assert isinstance(dist, tfd.Distribution) and dist.dtype == model.data_dtype
  assert dist.batch_shape == [] and dist.event_shape == event
  assert list(dist.event_shape_tensor().numpy()) == event
  assert dist.reparameterization_type == tfd.NOT_REPARAMETERIZED
  assert dist.trainable_variables and dist.parameters["model"] is model

  # sample_shape + batch_shape + event_shape, for the three sample shapes.
  assert dist.sample(seed=1).shape == event
  assert dist.sample(2, seed=1).shape == [2] + event
  six = dist.sample([2, 3], seed=2)
  assert six.shape == [2, 3] + event and six.dtype == model.data_dtype

  # Every seed form TFP takes; the same seed gives the same sample.
  for seed in (7, tf.constant([3, 4]), tfp.random.sanitize_seed(11)):
    np.testing.assert_array_equal(dist.sample(2, seed=seed), dist.sample(2, seed=seed))
  assert not np.array_equal(dist.sample(4, seed=1), dist.sample(4, seed=2))

  x = _data(model, 3)
  lp = dist.log_prob(x).numpy()
  assert lp.shape == (3,) and np.all(np.isfinite(lp))
  np.testing.assert_allclose(dist.log_prob(x[1]), lp[1], rtol=1e-5, atol=1e-4)   # unbatched
  doubled = dist.log_prob(np.stack([x, x[::-1]])).numpy()                        # [2, 3]
  np.testing.assert_allclose(doubled, [lp, lp[::-1]], rtol=1e-5, atol=1e-4)
  # Example 0's log-prob does not depend on the other rows.
  other = np.concatenate([x[:1], _data(model, 4, seed=9)])
  np.testing.assert_allclose(dist.log_prob(other)[0], lp[0], rtol=1e-5, atol=1e-4)
  # ... and it is the model's (flows: at the served, fixed dequantization).
  cond = None if dist.condition is None else np.broadcast_to(
      dist.condition, [3] + dist.condition.shape.as_list())
  want = model._fixed_log_prob(model._check_data(x), model._encode_condition(cond, 3))
  np.testing.assert_allclose(lp, want, rtol=1e-5, atol=1e-4)
  assert np.all(np.isfinite(dist.log_prob(six).numpy()))


@pytest.mark.parametrize("name", FAMILIES)
def test_inside_tf_function_and_through_tf_nest(name):
  model = _build(name)
  dist = _distribution(model)
  x = _data(model, 2)

  @tf.function
  def score_and_draw(d, x, seed):
    return d.log_prob(x), d.sample(2, seed=seed)

  lp, samples = score_and_draw(dist, tf.constant(x), tf.constant([5, 6]))
  np.testing.assert_allclose(lp, dist.log_prob(x), rtol=1e-5, atol=1e-4)
  np.testing.assert_array_equal(samples, dist.sample(2, seed=tf.constant([5, 6])))
  # A CompositeTensor: its tensors are the condition's; the model is static.
  parts = tf.nest.flatten(dist, expand_composites=True)
  assert len(parts) == (0 if model.condition_spec is None else 1)
  rebuilt = tf.nest.pack_sequence_as(dist, parts, expand_composites=True)
  assert rebuilt.model is model
  clone = dist.copy(name="clone")
  assert clone.name == "clone" and clone.model is model


CLASS_CONDITIONAL = ["glow", "gated_pixelcnn", "made", "wavenet"]


@pytest.mark.parametrize("name", CLASS_CONDITIONAL)
def test_batch_shape_comes_from_the_condition(name):
  model = _build(name, num_classes=3)
  labels = np.array([[0, 1, 2], [2, 2, 0]])
  dist = model.distribution_given(labels, length=LENGTH if model.is_sequence else None)
  event = [d or LENGTH for d in model.event_shape]
  assert dist.batch_shape == [2, 3]
  assert dist.sample(seed=1).shape == [2, 3] + event
  assert dist.sample(4, seed=1).shape == [4, 2, 3] + event
  x = _data(model, 3)
  lp = dist.log_prob(x).numpy()       # [3] + E broadcasts against [2, 3]
  assert lp.shape == (2, 3)
  for i in range(2):
    for j in range(3):
      want = model.log_prob(x[j:j + 1], condition=labels[i, j:j + 1], seed=[0, 0]) \
          if model.num_levels == 256 and hasattr(model, "dequantize") else \
          model.log_prob(x[j:j + 1], condition=labels[i, j:j + 1])
      np.testing.assert_allclose(lp[i, j], want[0], rtol=1e-5, atol=1e-4)
  assert dist[1].batch_shape == [3]   # slicing a batch, as in TFP
  np.testing.assert_allclose(dist[1].log_prob(x), lp[1], rtol=1e-5, atol=1e-4)


def test_a_conditional_model_has_no_unconditional_distribution():
  model = _build("pixelcnn", num_classes=3)
  with pytest.raises(ValueError, match="distribution_given"):
    model.distribution
  with pytest.raises(ValueError, match="class ids|integer"):
    model.distribution_given([0.5, 1.5])
  with pytest.raises(ValueError, match="unconditional"):
    _build("pixelcnn").distribution_given([0, 1])
  with pytest.raises(ValueError, match="in \\[0, 2\\]|values must lie"):
    model.distribution_given([0, 7], validate_args=True)


def test_sequences_need_a_length_to_sample_and_refuse_a_bad_one():
  model = _build("char_rnn")
  dist = model.distribution
  assert dist.event_shape.as_list() == [None]
  with pytest.raises(ValueError, match="length="):
    dist.sample(2, seed=1)
  with pytest.raises(ValueError, match="length="):
    dist.event_shape_tensor()
  assert dist.log_prob(_data(model, 2)).shape == [2]     # any length scores
  for bad in (0, -1, 2.5, model.max_length + 1):
    with pytest.raises(ValueError, match="length"):
      model.distribution_given(length=bad)
  with pytest.raises(ValueError, match="sequence models"):
    _build("pixelcnn").distribution_given(length=4)


def test_kl_divergence_has_no_closed_form_and_monte_carlo_estimates_it():
  # Two MADEs over 2 pixels of 4 levels: 16 images, so the KL is exact by
  # enumeration.
  p, q = (_build("made", event_size=(2, 1, 1)).distribution for _ in range(2))
  with pytest.raises(NotImplementedError, match="monte_carlo_kl"):
    tfd.kl_divergence(p, q)
  with pytest.raises(NotImplementedError, match="closed-form"):
    tfd.kl_divergence(tfd.Independent(tfd.Categorical(logits=tf.zeros([2, 1, 1, 4])), 3), p)
  grid = np.stack(np.meshgrid(range(4), range(4), indexing="ij"), -1).reshape(16, 2, 1, 1)
  log_p, log_q = p.log_prob(grid).numpy(), q.log_prob(grid).numpy()
  assert np.exp(log_p).sum() == pytest.approx(1., abs=1e-5)   # a normalised distribution
  exact = float(np.sum(np.exp(log_p) * (log_p - log_q)))
  terms = (log_p - log_q)[np.ravel_multi_index(
      p.sample(4000, seed=3).numpy().reshape(4000, 2).T, (4, 4))]
  estimate = float(distributions.monte_carlo_kl(p, q, 4000, seed=3))
  assert estimate == pytest.approx(terms.mean(), rel=1e-4)       # the same samples
  assert abs(estimate - exact) < 4 * terms.std() / np.sqrt(4000) + 1e-6
  assert float(distributions.monte_carlo_kl(p, p, 16, seed=1)) == 0.


def test_not_a_model():
  with pytest.raises(ValueError, match="LikelihoodModel"):
    distributions.ModelDistribution(object())


def test_a_new_family_gets_a_working_distribution_with_no_code_of_its_own():
  from tests.test_models import PLUGIN
  namespace = {}
  exec(compile(PLUGIN, "tfgen_plugin.py", "exec"), namespace)   # the toy Histogram family
  family = namespace["FAMILY"]
  models.register(family)
  try:
    model = models.FAMILIES[family.name].build_tiny(models.FAMILIES)
    model.w.assign(tf.random.stateless_normal(model.w.shape, seed=[1, 2]))
    dist = model.distribution
    assert not hasattr(type(model), "distribution_given") or \
        type(model).distribution_given is base.LikelihoodModel.distribution_given
    assert dist.event_shape == [2, 2, 1] and dist.dtype == tf.uint8
    assert dist.sample([2, 3], seed=1).shape == [2, 3, 2, 2, 1]
    x = _data(model, 3)
    np.testing.assert_allclose(dist.log_prob(x), model.log_prob(x), rtol=1e-6)
    # A product of per-pixel categoricals: p sums to one over all 4^4 images.
    grid = np.stack(np.meshgrid(*[range(4)] * 4, indexing="ij"), -1).reshape(-1, 2, 2, 1)
    assert float(tf.reduce_sum(tf.exp(dist.log_prob(grid)))) == pytest.approx(1., abs=1e-4)
  finally:
    models.unregister(family.name)

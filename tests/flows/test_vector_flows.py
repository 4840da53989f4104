"""Flows over real vectors: MAF, IAF, NICE and RealNVP with event_shape=(D,)."""

import numpy as np
import pytest
import tensorflow as tf
import tensorflow_probability as tfp

from tests.conftest import brute_force_log_det, fresh, perturb
from tfgen import export
from tfgen.flows import IAF, MAF, NICE, RealNVP
from tfgen.training import default_optimizer

tfd = tfp.distributions

D = 4
SMALL = {
    "maf": lambda **kw: MAF(event_shape=(D,), num_bijectors=2, hidden_units=[16], **kw),
    "iaf": lambda **kw: IAF(event_shape=(D,), num_bijectors=2, hidden_units=[16], **kw),
    "nice": lambda **kw: NICE(event_shape=(D,), num_couplings=2, hidden_units=16,
                              num_hidden_layers=1, **kw),
    "realnvp": lambda **kw: RealNVP(event_shape=(D,), num_couplings=2, hidden_channels=16, **kw),
}


def _table(n=64, seed=0):
  """Correlated columns on very different scales (as in a real table)."""
  rng = np.random.default_rng(seed)
  z = rng.normal(size=(n, D))
  x = z @ np.array([[1., .5, 0, 0], [0, 1, .3, 0], [0, 0, 1, .2], [0, 0, 0, 1]])
  return (x * [1., 10., 100., .01] + [0., 5., -300., 2.]).astype(np.float32)


def _condition(model, n):
  if model.num_classes:
    return np.arange(n) % model.num_classes
  if model.condition_shape:
    return np.random.default_rng(1).normal(size=(n,) + model.condition_shape)
  return None


def _initialised(name, **kw):
  model = SMALL[name](**kw)
  x = _table()
  model.log_prob(x, _condition(model, len(x)))   # ActNorm initialises from this batch
  perturb(model.bijector.bijectors[1], scale=0.1)   # the flow; not the data's ActNorm
  return model, x


@pytest.mark.parametrize("name", sorted(SMALL))
def test_log_prob_is_the_exact_change_of_variables(name):
  model, x = _initialised(name)
  x = x[:3]
  z = model.bijector.inverse(fresh(x)).numpy().astype(np.float64)
  log_det = brute_force_log_det(model.bijector.inverse, x)
  want = -0.5 * np.sum(z ** 2, -1) - 0.5 * D * np.log(2 * np.pi) + log_det
  np.testing.assert_allclose(model.log_prob(x), want, rtol=1e-4, atol=1e-3)
  np.testing.assert_allclose(model.distribution.log_prob(x), want, rtol=1e-4, atol=1e-3)
  np.testing.assert_allclose(model.decode(model.encode(x)), x, rtol=1e-4, atol=1e-3)
  assert model.data_dtype == tf.float32 and model.sample(5, seed=1).dtype == tf.float32


@pytest.mark.parametrize("name", sorted(SMALL))
def test_the_data_side_actnorm_standardises_the_first_batch(name):
  model = SMALL[name]()
  x = _table()
  model.log_prob(x)
  norm = model.bijector.bijectors[0]
  assert norm.name == "data_actnorm"
  u = norm.inverse(fresh(x)).numpy()
  np.testing.assert_allclose(u.mean(0), 0., atol=1e-4)
  np.testing.assert_allclose(u.std(0), 1., rtol=1e-3)


@pytest.mark.parametrize("name", ["maf", "iaf"])
def test_sample_is_reparameterised_and_sample_and_log_prob_is_one_pass(name):
  model, _ = _initialised(name, condition_shape=(3,))
  context = tf.Variable(tf.random.stateless_normal([2, 3], seed=[1, 2]))
  q = model.distribution_given(context)
  assert q.reparameterization_type == tfd.FULLY_REPARAMETERIZED
  assert q.batch_shape == [2] and q.event_shape == [D]
  with tf.GradientTape() as tape:
    z, log_q = q.experimental_sample_and_log_prob(5, seed=3)
    loss = tf.reduce_sum(z) + tf.reduce_sum(log_q)
  grads = tape.gradient(loss, [context] + list(model.trainable_variables))
  assert z.shape == [5, 2, D] and log_q.shape == [5, 2]
  assert grads[0] is not None and float(tf.reduce_max(tf.abs(grads[0]))) > 0
  assert sum(g is not None for g in grads[1:]) >= len(grads[1:]) // 2
  np.testing.assert_allclose(log_q, q.log_prob(z), rtol=1e-4, atol=1e-3)
  np.testing.assert_allclose(z, q.sample(5, seed=3), rtol=1e-5, atol=1e-5)


def test_fit_lowers_the_nll_of_held_out_rows_of_a_real_table():
  from sklearn.datasets import load_breast_cancer
  x = load_breast_cancer().data.astype(np.float32)   # 569 rows, 30 columns, raw scales
  x = x[np.random.default_rng(0).permutation(len(x))]
  train, test = x[:455], x[455:]
  model = MAF(event_shape=(30,), num_bijectors=3, hidden_units=[64])
  model.compile(default_optimizer(1e-3))
  model.fit(train, batch_size=455, epochs=1, verbose=0)    # ActNorm init + one step
  nats = lambda: -float(tf.reduce_mean(model.log_prob(test))) / 30
  before = nats()
  history = model.fit(train, batch_size=64, epochs=12, verbose=0)
  after = nats()
  assert np.all(np.isfinite(history.history["loss"]))
  assert after < before - 0.5, (before, after)             # nats per column, held out
  line = model.describe(model.evaluate(test, batch_size=57, verbose=0, return_dict=True))
  assert "nats/" in line


def test_export_serves_float_vectors(tmp_path):
  model, x = _initialised("realnvp", num_classes=2)
  path = export.save(model, str(tmp_path / "vec"))
  served = tf.saved_model.load(path).signatures
  labels = np.array([0, 1, 1], np.int32)
  out = served["serving_default"](x=tf.constant(x[:3]), condition=tf.constant(labels))
  np.testing.assert_allclose(out["log_prob"], model.log_prob(x[:3], condition=labels),
                             rtol=1e-4, atol=1e-3)
  samples = served["sample"](num_samples=tf.constant(4), seed=tf.constant([1, 2]),
                             temperature=tf.constant(1.), condition=tf.constant([0, 1, 0, 1]))
  assert samples["samples"].dtype == tf.float32 and samples["samples"].shape == [4, D]
  with pytest.raises(tf.errors.InvalidArgumentError, match="finite"):
    served["serving_default"](x=tf.constant(np.full([1, D], np.nan, np.float32)),
                              condition=tf.constant([0]))


def test_bad_arguments_are_named():
  with pytest.raises(ValueError, match="exactly one of `image_shape`"):
    MAF()
  with pytest.raises(ValueError, match="exactly one of `image_shape`"):
    MAF((2, 2, 1), event_shape=(4,))
  for bad in [(0,), (2, 2), "4", (True,), 2.5]:
    with pytest.raises(ValueError, match="event_shape"):
      MAF(event_shape=bad)
  with pytest.raises(ValueError, match="n_bits"):
    NICE(event_shape=(4,), n_bits=5)
  with pytest.raises(ValueError, match="at least 2 entries"):
    RealNVP(event_shape=(1,))
  model = SMALL["maf"]()
  with pytest.raises(ValueError, match="finite"):
    model.log_prob(np.full([2, D], np.inf, np.float32))
  with pytest.raises(ValueError, match="shape"):
    model.log_prob(np.zeros([2, D + 1], np.float32))
  with pytest.raises(ValueError, match="column with one value"):
    model.log_prob(np.ones([4, D], np.float32))
  with pytest.raises(ValueError, match="no|seed"):
    model.log_prob(_table(), seed=1)


@pytest.mark.parametrize("name", sorted(SMALL))
def test_config_round_trip(name):
  model = SMALL[name](name=f"vec_{name}")
  clone = type(model).from_config(model.get_config())
  assert clone.get_config() == model.get_config() and clone.event_shape == (D,)

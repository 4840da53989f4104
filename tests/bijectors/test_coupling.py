import numpy as np
import pytest
import tensorflow as tf
import tensorflow_probability as tfp

from tests.conftest import brute_force_log_det, fresh, perturb
from tfgen._keras import keras
from tfgen.bijectors import AdditiveCoupling, AffineCoupling

tfb, tfd = tfp.bijectors, tfp.distributions

CASES = [(cls, shape, mask, parity)
         for cls in (AffineCoupling, AdditiveCoupling)
         for shape in ([4, 4, 2], [6])
         for mask in ("checkerboard", "channel")
         for parity in (0, 1)]


def _ids(case):
  cls, shape, mask, parity = case
  return f"{cls.__name__}-{len(shape)}d-{mask}-{parity}"


@pytest.mark.parametrize("case", CASES, ids=_ids)
def test_round_trip_and_brute_force_log_det(case):
  cls, shape, mask, parity = case
  b = cls(shape, mask=mask, parity=parity, hidden_channels=8)
  perturb(b, scale=0.3)
  x = tf.random.normal([3] + shape)
  y = b.forward(x)
  assert float(tf.reduce_max(tf.abs(y - x))) > 1e-3  # it really transforms
  np.testing.assert_allclose(b.inverse(fresh(y)), x, atol=1e-4)
  expected = brute_force_log_det(b.forward, x)
  fldj = b.forward_log_det_jacobian(fresh(x), event_ndims=len(shape))
  np.testing.assert_allclose(fldj, expected, atol=1e-4)
  np.testing.assert_allclose(b.inverse_log_det_jacobian(fresh(y), event_ndims=len(shape)),
                             -expected, atol=1e-4)
  if cls is AdditiveCoupling:
    np.testing.assert_array_equal(fldj, np.zeros(3))


@pytest.mark.parametrize("mask", ["checkerboard", "channel"])
def test_kept_half_is_unchanged_and_each_half_gets_transformed(mask):
  shape = [4, 4, 2]
  x = tf.random.normal([2] + shape)
  changed = []
  for parity in (0, 1):
    b = AffineCoupling(shape, mask=mask, parity=parity, hidden_channels=8)
    perturb(b)
    changed.append(np.abs(b.forward(x).numpy() - x.numpy()) > 1e-7)
  assert 0.4 < changed[0].mean() < 0.6
  assert not np.any(changed[0] & changed[1])      # parities keep complementary halves
  assert np.all(changed[0] | changed[1])


def test_fresh_coupling_is_identity():
  x = tf.random.normal([2, 4, 4, 4])
  for cls in (AffineCoupling, AdditiveCoupling):
    b = cls([4, 4, 4], mask="channel")
    np.testing.assert_array_equal(b.forward(x), x)
    np.testing.assert_array_equal(b.forward_log_det_jacobian(x, event_ndims=3), np.zeros(2))


def test_log_scale_is_bounded():
  b = AffineCoupling([6], mask="channel", log_scale_bound=1.5, hidden_channels=8)
  perturb(b, scale=50.)
  x = tf.random.normal([4, 6]) * 10.
  # 3 transformed entries, each |s| < 1.5
  assert float(tf.reduce_max(tf.abs(b.forward_log_det_jacobian(x, event_ndims=1)))) <= 4.5


def test_sigmoid_scale_round_trips_and_only_contracts_in_the_density_direction():
  b = AffineCoupling([6], mask="channel", scale="sigmoid", hidden_channels=8)
  x = tf.random.normal([3, 6])
  np.testing.assert_allclose(b.forward(x), x, atol=1e-6)          # fresh: identity
  perturb(b, scale=1.)
  y = tf.random.normal([4, 6]) * 3.
  np.testing.assert_allclose(b.forward(fresh(b.inverse(y))), y, rtol=1e-4, atol=1e-4)
  ildj = b.inverse_log_det_jacobian(fresh(y), event_ndims=1).numpy()
  np.testing.assert_allclose(ildj, brute_force_log_det(b.inverse, fresh(y)), rtol=1e-3, atol=1e-3)
  perturb(b, scale=50.)
  ildj = b.inverse_log_det_jacobian(fresh(y * 10.), event_ndims=1).numpy()
  assert np.isfinite(ildj).all()
  # 3 transformed entries, each expanded by at most 1/σ(2) in the density direction
  assert ildj.max() <= 3 * -np.log(1 / (1 + np.exp(-2.))) + 1e-5
  with pytest.raises(ValueError, match="'exp'"):
    AffineCoupling([6], scale="exp")


def test_conditioning_changes_output_and_is_required():
  b = AffineCoupling([4, 4, 2], condition_size=3, hidden_channels=8)
  perturb(b)
  x = tf.random.normal([2, 4, 4, 2])
  c1, c2 = tf.one_hot([0, 0], 3), tf.one_hot([2, 2], 3)
  y1, y2 = b.forward(x, condition=c1), b.forward(x, condition=c2)
  assert float(tf.reduce_max(tf.abs(y1 - y2))) > 1e-3
  np.testing.assert_allclose(b.inverse(fresh(y2), condition=c2), x, atol=1e-4)
  with pytest.raises(ValueError, match="condition"):
    b.forward(x)


def test_custom_conditioner_layer_and_factory():
  net = keras.Sequential([keras.layers.Conv2D(4, 3, padding="same")])
  b = AffineCoupling([4, 4, 4], mask="channel", conditioner=lambda out: net)
  assert net.built and len(b.trainable_variables) == 2
  with pytest.raises(ValueError, match="must map shape"):
    AffineCoupling([4, 4, 4], mask="channel",
                   conditioner=keras.layers.Conv2D(3, 1))


def test_bad_arguments_name_the_value():
  with pytest.raises(ValueError, match="mask"):
    AffineCoupling([4, 4, 2], mask="diagonal")
  with pytest.raises(ValueError, match="parity"):
    AffineCoupling([4, 4, 2], parity=2)
  with pytest.raises(ValueError, match="at least 2 channels"):
    AffineCoupling([4, 4, 1], mask="channel")
  with pytest.raises(ValueError, match="event_shape"):
    AffineCoupling([4, 4])
  with pytest.raises(ValueError, match="log_scale_bound"):
    AffineCoupling([4], log_scale_bound=0.)


def test_composes_with_tfp_bijectors_in_a_transformed_distribution():
  coupling = AffineCoupling([4], mask="checkerboard", hidden_channels=8)
  perturb(coupling)
  flow = tfb.Chain([tfb.Shift(1.5), tfb.Scale(2.), coupling])
  base = tfd.Sample(tfd.Normal(0., 1.), [4])
  dist = tfd.TransformedDistribution(base, flow)
  y = tf.random.normal([5, 4])
  # Manual change of variables: x = (y - 1.5) / 2, then the coupling inverse.
  u = (y - 1.5) / 2.
  x = coupling.inverse(u)
  expected = (base.log_prob(x) - 4 * np.log(2.)
              + coupling.inverse_log_det_jacobian(u, event_ndims=1))
  np.testing.assert_allclose(dist.log_prob(y), expected, atol=1e-4)
  samples = dist.sample(3, seed=[1, 2])
  np.testing.assert_allclose(dist.sample(3, seed=[1, 2]), samples)
  assert len(dist.trainable_variables) == len(coupling.trainable_variables)


def test_keras_model_holding_a_coupling_trains_it():
  class Holder(keras.Model):
    def __init__(self):
      super().__init__()
      self.flow = AffineCoupling([6], mask="channel", hidden_channels=8)

    def call(self, x):
      return self.flow.forward(x)

  m = Holder()
  assert len(m.trainable_variables) == len(m.flow.trainable_variables) > 0
  m.compile(keras.optimizers.Adam(1e-2), loss="mse")
  x = np.random.normal(size=(64, 6)).astype("float32")
  before = [v.numpy().copy() for v in m.trainable_variables]
  m.fit(x, x * 2., epochs=2, verbose=0)
  assert any(np.any(b != v.numpy()) for b, v in zip(before, m.trainable_variables))

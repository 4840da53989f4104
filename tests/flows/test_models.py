import numpy as np
import pytest
import tensorflow as tf

from tests.conftest import brute_force_log_det, fresh, perturb
from tfgen._keras import keras
from tfgen.training import default_optimizer
from tfgen.flows import NICE, Glow, RealNVP

SMALL = {
    "glow": lambda **kw: Glow((4, 4, 1), levels=2, steps_per_level=2, hidden_channels=8, **kw),
    "glow_additive_dense_learntop": lambda **kw: Glow(
        (4, 4, 2), levels=1, steps_per_level=2, hidden_channels=8, coupling="additive", lu=False,
        learn_top=True, split_prior="standard", **kw),
    "realnvp": lambda **kw: RealNVP((4, 4, 1), levels=2, hidden_channels=8, **kw),
    "nice": lambda **kw: NICE((4, 4, 1), num_couplings=4, hidden_units=16, num_hidden_layers=2,
                              **kw),
}


def _images(model, n=3, seed=0):
  return np.random.default_rng(seed).integers(0, 256, size=(n,) + model.image_shape,
                                              dtype=np.uint8)


def _perturbed(name, **kw):
  model = SMALL[name](**kw)
  perturb(model, scale=0.1)
  for v in model.variables:     # perturbed ActNorm stays as set: mark it initialised
    if "initialized" in v.name:
      v.assign(True)
  return model


@pytest.mark.parametrize("name", sorted(SMALL))
def test_whole_flow_round_trip(name):
  model = _perturbed(name)
  y = tf.random.uniform((3,) + model.image_shape, 0., 256.)
  z = model.bijector.inverse(y)
  assert z.shape == [3, model.num_dims]
  err = float(tf.reduce_max(tf.abs(model.bijector.forward(fresh(z)) - y)))
  assert err < 1e-4 * 256  # float32 at data scale [0, 256): 1e-4 relative
  np.testing.assert_allclose(model.bijector.forward(fresh(z)) / 256., y / 256., atol=1e-4)


@pytest.mark.parametrize("name", sorted(SMALL))
def test_log_prob_matches_brute_force_change_of_variables(name):
  model = _perturbed(name)
  y = tf.random.uniform((2,) + model.image_shape, 1., 255.)
  z = model.bijector.inverse(fresh(y))
  log_det = brute_force_log_det(model.bijector.inverse, y)
  base = -0.5 * np.sum(np.square(z.numpy().astype(np.float64)), -1) \
      - 0.5 * model.num_dims * np.log(2 * np.pi)
  np.testing.assert_allclose(model.flow_distribution.log_prob(fresh(y)), base + log_det, rtol=1e-4)


@pytest.mark.parametrize("name", sorted(SMALL))
def test_encode_decode_is_exact_and_sampling_is_reproducible(name):
  model = _perturbed(name)
  x = _images(model)
  np.testing.assert_array_equal(model.decode(model.encode(x)), x)
  a = model.sample(4, seed=[3, 4])
  assert a.dtype == tf.uint8 and a.shape == (4,) + model.image_shape
  np.testing.assert_array_equal(a, model.sample(4, seed=[3, 4]))
  assert np.any(a.numpy() != model.sample(4, seed=[5, 6]).numpy())


def test_bits_per_dim_of_fresh_model_and_temperature():
  model = Glow((4, 4, 1), levels=1, steps_per_level=1, hidden_channels=4)
  x = _images(model, n=64)
  # ActNorm initialises on x; the flow is then a per-channel Gaussian fit: below uniform 8 bits.
  bpd = model.bits_per_dim(x, seed=[1, 1]).numpy()
  assert bpd.shape == (64,) and 7. < bpd.mean() < 8.3
  hot, cold = model.sample(200, seed=[1, 2]), model.sample(200, temperature=0.3, seed=[1, 2])
  assert np.std(cold.numpy().astype(float)) < np.std(hot.numpy().astype(float))


def test_class_conditional_glow():
  model = _perturbed("glow", num_classes=3)
  x = _images(model, n=2)
  lp0 = model.log_prob(x, condition=[0, 0], seed=[1, 2])
  lp2 = model.log_prob(x, condition=[2, 2], seed=[1, 2])
  assert float(tf.reduce_max(tf.abs(lp0 - lp2))) > 1e-3
  np.testing.assert_array_equal(model.decode(model.encode(x, condition=[1, 2]), condition=[1, 2]), x)
  s0 = model.sample(8, seed=[1, 2], condition=[0] * 8)
  assert np.any(s0.numpy() != model.sample(8, seed=[1, 2], condition=[2] * 8).numpy())
  with pytest.raises(ValueError, match="condition"):
    model.log_prob(x)
  with pytest.raises(ValueError, match="condition"):
    model.log_prob(x, condition=[0, 3])
  with pytest.raises(ValueError, match="condition"):
    _perturbed("glow").log_prob(x, condition=[0, 1])


@pytest.mark.parametrize("bad, match", [
    (np.zeros((2, 4, 4), np.uint8), "shape"),
    (np.zeros((2, 4, 5, 1), np.uint8), "shape"),
    (np.zeros((2, 4, 4, 1), bool), "dtype"),
    (np.full((2, 4, 4, 1), 0.5, np.float32), "whole numbers"),
    (np.full((2, 4, 4, 1), np.nan, np.float32), "finite"),
    (np.full((2, 4, 4, 1), 256, np.int32), r"\[0, 255\]"),
    (np.full((2, 4, 4, 1), -1, np.int32), r"\[0, 255\]"),
])
def test_bad_input_raises_a_clear_value_error(bad, match):
  model = SMALL["glow"]()
  with pytest.raises(ValueError, match=match):
    model.log_prob(bad)


def test_float_whole_numbers_are_accepted():
  model = SMALL["glow"]()
  x = _images(model)
  np.testing.assert_allclose(model.log_prob(x.astype(np.float32), seed=[1, 2]),
                             model.log_prob(x, seed=[1, 2]), rtol=1e-6)


def test_bad_constructor_arguments():
  with pytest.raises(ValueError, match="divisible by 8"):
    Glow((28, 28, 1), levels=3, steps_per_level=1, hidden_channels=4)
  with pytest.raises(ValueError, match="image_shape"):
    Glow((28, 28), levels=1)
  with pytest.raises(ValueError, match="coupling"):
    Glow((4, 4, 1), levels=1, coupling="spline")
  with pytest.raises(ValueError, match="n_bits"):
    Glow((4, 4, 1), levels=1, steps_per_level=1, hidden_channels=4, n_bits=0)
  with pytest.raises(ValueError, match="temperature"):
    SMALL["glow"]().sample(2, temperature=0.)
  with pytest.raises(ValueError, match="seed"):
    SMALL["glow"]().sample(2, seed=[1, 2, 3])


def test_non_finite_loss_stops_fit_and_keeps_last_good_weights(caplog):
  model = SMALL["realnvp"]()
  model.compile(keras.optimizers.SGD(1e12))
  x = np.random.default_rng(0).integers(0, 256, size=(64, 4, 4, 1)).astype(np.uint8)
  seen = [[v.numpy().copy() for v in model.trainable_variables]]

  class Snapshot(keras.callbacks.Callback):
    def on_train_batch_end(self, batch, logs=None):
      if int(self.model.nonfinite_steps.numpy()) == 0:
        seen.append([v.numpy().copy() for v in self.model.trainable_variables])

  history = model.fit(x, batch_size=8, epochs=5, verbose=0, callbacks=[Snapshot()])
  assert int(model.nonfinite_steps.numpy()) >= 1
  assert len(history.history["loss"]) < 5  # stopped early
  assert any("non-finite loss" in r.getMessage() and r.name == "tfgen" for r in caplog.records)
  # The last update before the bad step was never seen with a finite loss:
  # the model is back at the weights before it (seen[-2]), whose loss was finite.
  for kept, now in zip(seen[-2], model.trainable_variables):
    np.testing.assert_array_equal(kept, now.numpy())
  assert np.all(np.isfinite(model.log_prob(x).numpy()))
  assert model.sample(2, seed=1).shape == (2, 4, 4, 1)


class _Snapshots(keras.callbacks.Callback):
  """The trainable weights after every step that counted no non-finite one."""

  def on_train_begin(self, logs=None):  # after ActNorm's data-dependent init
    self.seen = []
    self.on_train_batch_end(None)

  def on_train_batch_end(self, batch, logs=None):
    if int(self.model.nonfinite_steps.numpy()) == 0:
      self.seen.append([v.numpy().copy() for v in self.model.trainable_variables])


def test_a_huge_learning_rate_leaves_a_working_glow():
  # The reproduction: Adam at 1e3 used to stop with weights that gave NaN.
  # tfgen's Adam skips the bad step in its kernels and undoes the update before it.
  model = SMALL["glow"]()
  model.compile(default_optimizer(1e3))
  assert model._guarded_optimizer()
  x = np.random.default_rng(0).integers(0, 256, size=(64, 4, 4, 1)).astype(np.uint8)
  snapshots = _Snapshots()
  model.fit(x, batch_size=8, epochs=5, verbose=0, callbacks=[snapshots])
  assert int(model.nonfinite_steps.numpy()) >= 1
  assert len(snapshots.seen) >= 2  # an update was undone, not just a first step skipped
  # Undone to one float32 rounding of the updated weights, which a step of
  # lr = 1e3 took to |w| ~ 1e3: ulp ~ 6e-5.
  for kept, now in zip(snapshots.seen[-2], model.trainable_variables):
    np.testing.assert_allclose(now.numpy(), kept, rtol=1e-6, atol=2e-4)
  assert np.all(np.isfinite(model.log_prob(x[:16]).numpy()))
  assert model.sample(2, seed=[1, 2]).shape == (2, 4, 4, 1)


def test_fit_and_evaluate_report_bits_per_dim():
  model = SMALL["glow"]()
  model.compile(keras.optimizers.Adam(1e-3))
  x = np.random.default_rng(0).integers(0, 256, size=(32, 4, 4, 1)).astype(np.uint8)
  history = model.fit(x, batch_size=16, epochs=2, verbose=0)
  assert set(history.history) == {"loss", "bits_per_dim"}
  result = model.evaluate(x, batch_size=16, verbose=0, return_dict=True)
  np.testing.assert_allclose(result["bits_per_dim"], result["loss"] / (16 * np.log(2)),
                             rtol=1e-5)
  assert model.count_params() == sum(int(np.prod(v.shape)) for v in model.weights) > 3000
  # The optimizer's slots exist before fit traces its step, so the step is
  # traced once, not twice (the second trace is what slot creation costs).
  assert model.train_function.experimental_get_tracing_count() == 1


@pytest.mark.parametrize("name", sorted(SMALL))
def test_latent_round_trip_below_1e4(name):
  model = _perturbed(name)
  z = tf.random.normal([3, model.num_dims])
  x = model.bijector.forward(z)
  err = float(tf.reduce_max(tf.abs(model.bijector.inverse(fresh(x)) - z)))
  assert err < 1e-4, err


def test_checkpoint_round_trip_and_from_config(tmp_path):
  model = _perturbed("glow")
  x = _images(model, n=4)
  expected = model.log_prob(x, seed=[1, 2])
  model.save_weights(str(tmp_path / "ckpt"))
  clone = Glow.from_config(model.get_config())
  assert not bool(clone._actnorms()[0].initialized)
  clone.load_weights(str(tmp_path / "ckpt"))
  assert all(bool(a.initialized) for a in clone._actnorms())  # the init flag is restored too
  np.testing.assert_allclose(clone.log_prob(x, seed=[1, 2]), expected, rtol=1e-6)
  np.testing.assert_array_equal(clone.sample(2, seed=[3, 3]), model.sample(2, seed=[3, 3]))


def test_train_on_batch_after_compiling_another_optimizer_keeps_its_guard():
  # tfgen's Adam guards in its kernels; a stock optimizer compiled next needs
  # the cond and its weight copy, built for it before its train function.
  model = SMALL["realnvp"]()
  x = np.random.default_rng(0).integers(0, 256, size=(8, 4, 4, 1)).astype(np.uint8)
  model.compile()
  model.train_on_batch(x)
  model.compile(keras.optimizers.SGD(1e12))
  assert not model._guarded_optimizer()
  for _ in range(4):
    model.train_on_batch(x)
  assert int(model.nonfinite_steps.numpy()) >= 1
  assert np.all(np.isfinite(model.log_prob(x).numpy()))


@pytest.mark.parametrize("name", sorted(SMALL))
def test_the_continuous_flow_distribution_has_tfp_shape_semantics(name):
  model = _perturbed(name)
  d = model.flow_distribution            # the density of dequantized y
  event = list(model.image_shape)
  assert d.sample(seed=1).shape == event and d.sample([2, 3], seed=1).shape == [2, 3] + event
  y = tf.random.stateless_uniform([2, 3] + event, seed=[1, 2], minval=1., maxval=255.)
  lp = d.log_prob(y).numpy()
  assert lp.shape == (2, 3)
  np.testing.assert_allclose(d.log_prob(fresh(y[1, 2])), lp[1, 2], rtol=1e-5)
  np.testing.assert_allclose(d.log_prob(fresh(tf.reshape(y, [6] + event))), lp.reshape(6),
                             rtol=1e-5)

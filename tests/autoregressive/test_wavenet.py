import numpy as np
import pytest
import tensorflow as tf

from tests.conftest import perturb
from tfgen.autoregressive import WaveNet


def _model(scale=0.4, **kw):
  config = dict(num_layers_per_stack=3, num_stacks=2, residual_channels=8, dilation_channels=8,
                skip_channels=8, num_levels=16)
  config.update(kw)
  model = WaveNet(**config)
  perturb(model, scale=scale)  # so the network, not the noise, decides what is generated
  return model


def test_receptive_field_formula():
  assert WaveNet(num_layers_per_stack=10, num_stacks=2, residual_channels=4, dilation_channels=4,
                 skip_channels=4).receptive_field == 2 * 1023 + 1
  assert _model(kernel_size=3).receptive_field == 2 * 2 * 7 + 1


@pytest.mark.parametrize("kernel_size", [2, 3])
def test_causality_and_receptive_field_by_gradients(kernel_size):
  model = _model(kernel_size=kernel_size)
  r = model.receptive_field
  e = tf.constant(np.random.default_rng(0).normal(size=(4, 80, 8)), tf.float32)
  t = 60
  with tf.GradientTape() as tape:
    tape.watch(e)
    y = tf.reduce_sum(model._logits_from_embedded(e, None, None)[:, t])
  g = np.abs(tape.gradient(y, e, unconnected_gradients=tf.UnconnectedGradients.ZERO).numpy())
  per_time = g.sum(axis=(0, 2))
  # e[τ] embeds x_τ; the logits for x_t may use exactly x_{t-r} … x_{t-1}.
  assert np.all(per_time[t:] == 0.)              # nothing from x_t or the future
  assert np.all(per_time[:t - r] == 0.)          # nothing beyond the receptive field
  assert per_time[t - 1] > 0. and per_time[t - r] > 0.  # both ends of the field are used


@pytest.mark.parametrize("config, condition", [
    (dict(), None),
    (dict(kernel_size=3), None),
    (dict(global_condition_classes=3), np.array([1, 2])),
    (dict(local_condition_channels=2, local_upsample=4),
     np.random.default_rng(0).normal(size=(2, 20, 2)).astype("float32")),
])
def test_cached_generation_equals_naive(config, condition):
  model = _model(**config)
  n = 3 * model.receptive_field + 5  # past the receptive field, so naive's window slides
  cached = model.generate(n, batch=2, seed=[3, 4], condition=condition, temperature=0.9)
  naive = model.generate(n, batch=2, seed=[3, 4], condition=condition, temperature=0.9,
                         method="naive")
  np.testing.assert_array_equal(cached, naive)
  other = model.generate(n, batch=2, seed=[5, 6], condition=condition)
  assert np.any(other.numpy() != cached.numpy())


def test_global_and_local_conditioning_change_the_distribution():
  x = np.random.default_rng(1).integers(0, 16, size=(2, 40))
  g = _model(global_condition_classes=3)
  assert np.all(np.abs(g.log_prob(x, condition=[0, 0]).numpy()
                       - g.log_prob(x, condition=[2, 2]).numpy()) > 1e-3)
  l = _model(local_condition_channels=2, local_upsample=10)
  feats = np.zeros((2, 4, 2), np.float32)
  assert np.all(np.abs(l.log_prob(x, condition=feats).numpy()
                       - l.log_prob(x, condition=feats + 1.).numpy()) > 1e-3)
  with pytest.raises(ValueError, match="fewer than 40"):
    l.log_prob(x, condition=feats[:, :3])
  with pytest.raises(ValueError, match="conditional"):
    g.log_prob(x)


def test_log_prob_and_loss_start():
  model = _model()
  x = np.random.default_rng(2).integers(0, 16, size=(3, 30))
  dist = model.conditionals(x)
  assert dist.event_shape == [30] and dist.batch_shape == [3]
  np.testing.assert_allclose(model.log_prob(x), dist.log_prob(x), rtol=1e-6)
  np.testing.assert_allclose(model(x), dist.log_prob(x), rtol=1e-6)   # model(x) is log_prob
  skipped = _model(loss_start=10)
  per_step = skipped.conditionals(x).distribution.log_prob(x).numpy()
  np.testing.assert_allclose(skipped.log_prob(x), per_step[:, 10:].sum(1), rtol=1e-5)


def test_bad_input():
  model = _model()
  with pytest.raises(ValueError, match=r"\[0, 15\]"):
    model.log_prob(np.full((1, 10), 16))
  with pytest.raises(ValueError, match="whole numbers"):
    model.log_prob(np.full((1, 10), 0.5, np.float32))
  with pytest.raises(ValueError, match="shape"):
    model.log_prob(np.zeros((1, 10, 1), np.int32))
  with pytest.raises(ValueError, match="local_upsample"):
    WaveNet(local_condition_channels=4)
  with pytest.raises(ValueError, match="method"):
    model.generate(10, method="fast")

import numpy as np
import pytest
import tensorflow as tf

from tests.conftest import perturb
from tfgen.autoregressive import PixelCNN
from tfgen.autoregressive.sampling import gumbel_noise


def _model(shape=(5, 5, 3), gated=True, scale=0.3, **kw):
  model = PixelCNN(shape, num_levels=kw.pop("num_levels", 4), filters=kw.pop("filters", 6),
                   num_layers=kw.pop("num_layers", 3), gated=gated, **kw)
  perturb(model, scale=scale)  # so the logits, not just the noise, decide the samples
  return model


def _influence(model, shape, i, j, c):
  """|∂ logits(i, j, c) / ∂ input| per input sub-pixel, for a float input."""
  x = tf.constant(np.random.default_rng(0).normal(size=(1,) + shape), tf.float32)
  with tf.GradientTape() as tape:
    tape.watch(x)
    y = tf.reduce_sum(model._head(model.stack(x, None))[0, i, j, c])
  grad = tape.gradient(y, x, unconnected_gradients=tf.UnconnectedGradients.ZERO)
  return np.abs(grad.numpy()[0])


@pytest.mark.parametrize("gated", [False, True])
def test_autoregressive_property_by_gradients(gated):
  shape = (7, 7, 3)
  model = _model(shape, gated=gated, num_layers=4, filters=24)
  order = np.arange(7 * 7 * 3).reshape(shape)
  for (i, j) in [(0, 0), (2, 5), (3, 3), (6, 6)]:
    for c in range(3):
      g = _influence(model, shape, i, j, c)
      later = order >= order[i, j, c]
      assert np.all(g[later] == 0.), f"logits of {(i, j, c)} see a later sub-pixel"
      if c > 0:
        assert g[i, j, c - 1] > 0.   # G sees R, B sees G
      elif j > 0:
        assert g[i, j - 1].sum() > 0.


def _has_hole(g, i):
  """A blind spot: some pixel above row i is unseen while one further up in
  the same column is seen."""
  seen = g.sum(-1) > 0
  for col in range(seen.shape[1]):
    rows = np.nonzero(seen[:i, col])[0]
    if len(rows) and not np.all(seen[rows[0]:i, col]):
      return True
  return False


def test_plain_pixelcnn_has_the_blind_spot_and_gated_does_not():
  shape = (12, 12, 1)
  i, j = 10, 4
  plain = _model(shape, gated=False, num_layers=6)
  gated = _model(shape, gated=True, num_layers=6)
  g_plain = _influence(plain, shape, i, j, 0)
  g_gated = _influence(gated, shape, i, j, 0)
  assert _has_hole(g_plain, i)
  assert not _has_hole(g_gated, i)
  # The gated model sees every earlier pixel of the block above-left and above-right.
  assert np.all(g_gated[i - 4:i, j - 4:j + 5] > 0.)
  assert np.all(g_gated[i, :j] > 0.)


@pytest.mark.parametrize("kw", [dict(gated=False), dict(gated=True),
                                dict(gated=True, downsample=2, num_layers=1)],
                         ids=["plain", "gated", "gated_unet"])
def test_log_prob_is_the_sum_of_conditionals_computed_one_at_a_time(kw):
  shape = (4, 4, 3)
  model = _model(shape, **kw)
  x = np.random.default_rng(1).integers(0, 4, size=(2,) + shape).astype(np.int32)
  total = np.zeros(2)
  flat = x.reshape(2, -1)
  for t in range(flat.shape[1]):
    known = np.where(np.arange(flat.shape[1]) < t, flat, 0).reshape(x.shape)  # only x_{<t}
    i, j, c = np.unravel_index(t, shape)
    logits = model._logits(tf.constant(known), None)[:, i, j, c]
    total += tf.nn.log_softmax(logits).numpy()[np.arange(2), x[:, i, j, c]]
  np.testing.assert_allclose(model.log_prob(x), total, rtol=1e-5)
  dist = model.conditionals(x)
  assert dist.event_shape == shape and dist.batch_shape == [2]
  np.testing.assert_allclose(model(x), dist.log_prob(x), rtol=1e-6)   # model(x) is log_prob


@pytest.mark.parametrize("gated", [False, True])
@pytest.mark.parametrize("channels", [1, 3])
def test_cached_and_naive_samples_are_identical(gated, channels):
  model = _model((6, 5, channels), gated=gated, scale=0.5)
  cached = model.sample(4, seed=[7, 8], method="cached", temperature=0.8)
  naive = model.sample(4, seed=[7, 8], method="naive", temperature=0.8)
  np.testing.assert_array_equal(cached, naive)
  # The network mattered: not what the Gumbel noise alone would pick.
  noise_only = tf.argmax(gumbel_noise([4, 6, 5, channels, 4], tf.constant([7, 8])), -1)
  assert np.any(cached.numpy() != noise_only.numpy())
  assert np.any(cached.numpy() != model.sample(4, seed=[9, 9]).numpy())


def test_prefix_completion_and_conditioning():
  model = _model((6, 5, 1), gated=True, num_classes=3, scale=0.5)
  prefix = np.full((2, 2, 5, 1), 3, np.int32)
  out = {m: model.sample(2, seed=[1, 2], condition=[0, 2], method=m, prefix=prefix)
         for m in ("cached", "naive")}
  np.testing.assert_array_equal(out["cached"], out["naive"])
  np.testing.assert_array_equal(out["cached"][:, :2], prefix)
  other = model.sample(2, seed=[1, 2], condition=[1, 1], prefix=prefix)
  assert np.any(other.numpy() != out["cached"].numpy())
  x = out["cached"].numpy()
  assert np.any(model.log_prob(x, condition=[0, 0]).numpy() != model.log_prob(x, condition=[2, 2]).numpy())


def test_vector_conditioning():
  model = _model((4, 4, 1), gated=False, conditional_shape=(3,), scale=0.5)
  x = np.zeros((2, 4, 4, 1), np.int32)
  a = model.log_prob(x, condition=np.zeros((2, 3), np.float32))
  b = model.log_prob(x, condition=np.ones((2, 3), np.float32))
  assert np.all(np.abs(a.numpy() - b.numpy()) > 1e-4)


@pytest.mark.parametrize("bad, match", [
    (np.full((2, 5, 5, 3), 4), r"\[0, 3\]"),
    (np.full((2, 5, 5, 3), -1), r"\[0, 3\]"),
    (np.full((2, 5, 5, 3), 1.5), "whole numbers"),
    (np.zeros((2, 5, 5, 1), np.int32), "shape"),
    (np.zeros((5, 5, 3), np.int32), "shape"),
    (np.zeros((2, 5, 5, 3), bool), "dtype"),
])
def test_bad_input_is_rejected(bad, match):
  with pytest.raises(ValueError, match=match):
    _model().log_prob(bad)


def test_bad_arguments():
  with pytest.raises(ValueError, match="multiple of the channel count"):
    PixelCNN((4, 4, 3), filters=8)
  with pytest.raises(ValueError, match="1 or 3 channels"):
    PixelCNN((4, 4, 2))
  model = _model()
  with pytest.raises(ValueError, match="method"):
    model.sample(1, method="fast")
  with pytest.raises(ValueError, match="prefix"):
    model.sample(2, prefix=np.zeros((3, 1, 5, 3), np.int32))
  with pytest.raises(ValueError, match="conditional"):
    _model(num_classes=2).log_prob(np.zeros((1, 5, 5, 3), np.int32))


def test_checkpoint_round_trip_and_from_config(tmp_path):
  model = _model((4, 4, 3), gated=True, num_classes=2)
  x = np.random.default_rng(0).integers(0, 4, size=(2, 4, 4, 3))
  model.save_weights(str(tmp_path / "ckpt"))
  clone = PixelCNN.from_config(model.get_config())
  clone.load_weights(str(tmp_path / "ckpt"))
  np.testing.assert_allclose(clone.log_prob(x, condition=[0, 1]), model.log_prob(x, condition=[0, 1]),
                             rtol=1e-6)
  np.testing.assert_array_equal(clone.sample(2, seed=[1, 1], condition=[1, 1]),
                                model.sample(2, seed=[1, 1], condition=[1, 1]))

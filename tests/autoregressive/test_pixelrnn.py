"""PixelRNN: the autoregressive property by gradients (Diagonal BiLSTM sees the
whole past, Row LSTM a triangle), the chain rule, reproducible naive sampling."""

import numpy as np
import pytest
import tensorflow as tf

from tests.conftest import perturb
from tfgen import export
from tfgen.autoregressive import PixelRNN
from tfgen.layers import DiagonalBiLSTM, RowLSTM


def _model(shape=(5, 5, 3), layer="diagonal", **kw):
  model = PixelRNN(shape, num_levels=kw.pop("num_levels", 4), units=kw.pop("units", 24),
                   num_layers=kw.pop("num_layers", 2), layer=layer, **kw)
  perturb(model, scale=0.3)
  return model


def _influence(model, shape, i, j, c):
  x = tf.constant(np.random.default_rng(0).normal(size=(1,) + shape), tf.float32)
  with tf.GradientTape() as tape:
    tape.watch(x)
    y = tf.reduce_sum(model.logits_from_float(x)[0, i, j, c])
  grad = tape.gradient(y, x, unconnected_gradients=tf.UnconnectedGradients.ZERO)
  return np.abs(grad.numpy()[0])


@pytest.mark.parametrize("layer", ["row", "diagonal"])
def test_nothing_depends_on_the_current_or_a_later_sub_pixel(layer):
  shape = (6, 6, 3)
  model = _model(shape, layer)
  order = np.arange(np.prod(shape)).reshape(shape)
  for (i, j) in [(0, 0), (2, 4), (5, 5), (3, 0)]:
    for c in range(3):
      g = _influence(model, shape, i, j, c)
      assert np.all(g[order >= order[i, j, c]] == 0.), (layer, i, j, c)
      if c > 0:
        assert g[i, j, c - 1] > 0.                       # G sees R, B sees G


def test_diagonal_bilstm_sees_every_earlier_pixel():
  shape = (7, 7, 1)
  model = _model(shape, "diagonal", num_layers=1)
  for (i, j) in [(6, 3), (4, 0), (3, 6), (6, 6)]:
    g = _influence(model, shape, i, j, 0)[..., 0]
    earlier = np.arange(49).reshape(7, 7) < i * 7 + j
    assert np.all(g[earlier] > 0.), ((i, j), np.argwhere(earlier & (g == 0)))   # no blind spot
    assert np.all(g[~earlier] == 0.)


def test_row_lstm_sees_a_triangle_above():
  shape = (7, 31, 1)
  model = _model(shape, "row", num_layers=1)
  g = _influence(model, shape, 6, 15, 0)[..., 0] > 0
  assert g[5, 14:17].all() and g[6, 12:15].all()
  assert not g[0, 0] and not g[0, 30]   # the far corners of the top row lie outside it


@pytest.mark.parametrize("layer", ["row", "diagonal"])
def test_log_prob_is_the_sum_of_conditionals(layer):
  shape = (3, 3, 3)
  model = _model(shape, layer, num_classes=2)
  x = np.random.default_rng(1).integers(0, 4, size=(2,) + shape)
  flat = x.reshape(2, -1)
  total = np.zeros(2)
  cond = model._encode_condition([0, 1], 2)
  for t in range(flat.shape[1]):
    known = np.where(np.arange(flat.shape[1]) < t, flat, 0).reshape(x.shape)
    i, j, c = np.unravel_index(t, shape)
    logits = model._logits(tf.constant(known), cond)[:, i, j, c]
    total += tf.nn.log_softmax(logits).numpy()[np.arange(2), x[:, i, j, c]]
  np.testing.assert_allclose(model.log_prob(x, [0, 1]), total, rtol=1e-5)
  np.testing.assert_allclose(model.conditionals(x, [0, 1]).log_prob(x), total, rtol=1e-5)


def test_sampling_is_reproducible_and_keeps_the_prefix():
  model = _model((4, 4, 3), "diagonal")
  prefix = np.random.default_rng(2).integers(0, 4, size=(2, 1, 4, 3))
  a = model.sample(2, seed=3, prefix=prefix)
  assert a.dtype == tf.uint8 and a.shape == (2, 4, 4, 3)
  np.testing.assert_array_equal(a, model.sample(2, seed=3, prefix=prefix))
  np.testing.assert_array_equal(a[:, :1], prefix)
  assert np.any(a.numpy() != model.sample(2, seed=4, prefix=prefix).numpy())


def test_bad_arguments():
  with pytest.raises(ValueError, match="layer"):
    PixelRNN((4, 4, 1), layer="column")
  with pytest.raises(ValueError, match="multiple"):
    PixelRNN((4, 4, 3), units=4)
  with pytest.raises(ValueError, match="1 or 3"):
    PixelRNN((4, 4, 2))
  with pytest.raises(ValueError, match="prefix"):
    _model((4, 4, 1)).sample(1, seed=1, prefix=np.zeros((1, 4, 4, 1), np.int32))


def test_layers_round_trip_config_and_export(tmp_path):
  for layer in (RowLSTM(6, 3, name="r"), DiagonalBiLSTM(6, 3, name="d")):
    assert type(layer).from_config(layer.get_config()).get_config() == layer.get_config()
  model = _model((3, 3, 1), "row", num_layers=1)
  loaded = tf.saved_model.load(export.save(model, tmp_path / "m"))
  s = loaded.signatures["sample"](num_samples=tf.constant(2), seed=tf.constant([1, 2]),
                                  temperature=tf.constant(1.))["samples"]
  np.testing.assert_array_equal(s, model.sample(2, seed=[1, 2]))

"""PixelCNN(gated=True, downsample=k): the contract of the single-resolution model
(its chain-rule check is in test_pixelcnn.py, its causality in tests/layers)."""

import numpy as np
import pytest
import tensorflow as tf

from tests.conftest import perturb
from tfgen.autoregressive import PixelCNN


def _model(shape=(6, 5, 3), **kw):
  model = PixelCNN(shape, num_levels=kw.pop("num_levels", 4), filters=kw.pop("filters", 6),
                   num_layers=kw.pop("num_layers", 1), gated=True,
                   downsample=kw.pop("downsample", 2), **kw)
  perturb(model, scale=0.4)
  return model


@pytest.mark.parametrize("shape, downsample, kw", [
    ((5, 4, 1), 2, {}),
    ((7, 6, 3), 1, {"num_classes": 3}),
    pytest.param((9, 5, 1), 3, {"num_layers": 2}, marks=pytest.mark.slow),  # 3 scales: 20 s
])
def test_cached_sampling_equals_naive(shape, downsample, kw):
  model = _model(shape, downsample=downsample, num_levels=8, **kw)
  assert model.sampling_methods == ("cached", "naive")
  condition = [0, 2] if "num_classes" in kw else None
  a = model.sample(2, seed=[1, 2], temperature=0.9, condition=condition)  # cached: the default
  b = model.sample(2, seed=[1, 2], temperature=0.9, condition=condition, method="naive")
  np.testing.assert_array_equal(a, b)
  assert a.dtype == tf.uint8 or a.dtype == tf.int32
  assert np.any(a.numpy() != model.sample(2, seed=[3, 3], condition=condition).numpy())


def test_cached_and_naive_keep_a_prefix_alike():
  model = _model((6, 5, 1), num_levels=8)
  prefix = np.random.default_rng(1).integers(0, 8, size=(2, 3, 5, 1)).astype(np.int32)
  a = model.sample(2, seed=[1, 1], prefix=prefix)
  np.testing.assert_array_equal(a[:, :3], prefix)
  np.testing.assert_array_equal(a, model.sample(2, seed=[1, 1], prefix=prefix, method="naive"))
  with pytest.raises(ValueError, match="method"):
    model.sample(1, method="fast")


def test_class_conditioning_changes_the_likelihood():
  model = _model((4, 4, 1), num_classes=3)
  x = np.zeros((2, 4, 4, 1), np.int32)
  a = model.log_prob(x, condition=[0, 0]).numpy()
  b = model.log_prob(x, condition=[2, 2]).numpy()
  assert np.all(np.abs(a - b) > 1e-4)


def test_bad_arguments():
  with pytest.raises(ValueError, match="gated=True"):
    PixelCNN((8, 8, 1), gated=False, downsample=1)
  for bad in (-1, 1.5, True, "2"):
    with pytest.raises(ValueError, match="downsample"):
      PixelCNN((8, 8, 1), gated=True, downsample=bad)
  with pytest.raises(ValueError, match="feature map"):
    PixelCNN((8, 8, 1), gated=True, downsample=1, condition_shape=(8, 8, 2))


def test_checkpoint_round_trip_and_from_config(tmp_path):
  model = _model((4, 4, 3), num_classes=2, downsample=1)
  x = np.random.default_rng(0).integers(0, 4, size=(2, 4, 4, 3))
  model.save_weights(str(tmp_path / "ckpt"))
  clone = PixelCNN.from_config(model.get_config())
  assert clone.downsample == 1
  clone.load_weights(str(tmp_path / "ckpt"))
  np.testing.assert_allclose(clone.log_prob(x, condition=[0, 1]),
                             model.log_prob(x, condition=[0, 1]), rtol=1e-6)
  np.testing.assert_array_equal(clone.sample(2, seed=[1, 1], condition=[1, 1]),
                                model.sample(2, seed=[1, 1], condition=[1, 1]))


def test_trains_cheaper_per_parameter_than_one_resolution():
  """The point of the option: at about the same size, a step does fewer FLOPs."""
  def flops(model):
    fn = tf.function(model.log_prob).get_concrete_function(
        tf.TensorSpec([1, 28, 28, 1], tf.uint8))
    opts = tf.compat.v1.profiler.ProfileOptionBuilder.float_operation()
    opts["output"] = "none"
    return tf.compat.v1.profiler.profile(fn.graph, options=opts).total_float_ops
  # The benchmark pair (bench/peers.py): 1.42M parameters each.
  unet = PixelCNN((28, 28, 1), filters=64, num_layers=2, gated=True, downsample=2)
  flat = PixelCNN((28, 28, 1), filters=96, num_layers=6, gated=True)
  params = [sum(int(np.prod(v.shape)) for v in m.trainable_variables) for m in (unet, flat)]
  assert abs(params[0] / params[1] - 1) < 0.01
  assert flops(unet) < 0.65 * flops(flat)

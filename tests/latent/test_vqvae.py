"""VQVAE: code maps, the straight-through path, VQ-VAE-2's conditioned bottom encoder,
bad input, and training on Fashion-MNIST."""

import numpy as np
import pytest
import tensorflow as tf

from tfgen._keras import keras
from tfgen import data
from tfgen.latent import VQVAE
from tfgen.training import default_optimizer


def _tiny(levels=1, **kw):
  kw = {"num_codes": 16, "code_dim": 4, "hidden_channels": 8, "num_residual_blocks": 1, **kw}
  return VQVAE((28, 28, 1), levels=levels, **kw)


def _images(n=4, seed=0):
  return np.random.default_rng(seed).integers(0, 256, size=(n, 28, 28, 1)).astype(np.uint8)


@pytest.mark.parametrize("levels, shapes", [(1, [(7, 7)]), (2, [(7, 7), (14, 14)])])
def test_encode_decode_shapes_and_round_trip(levels, shapes):
  vq = _tiny(levels)
  x = _images()
  codes = vq.encode(x)
  assert [tuple(k.shape[1:]) for k in codes] == shapes and all(k.dtype == tf.int32 for k in codes)
  assert all(np.all((k.numpy() >= 0) & (k.numpy() < 16)) for k in codes)
  images = vq.decode(codes)
  assert images.dtype == tf.uint8 and images.shape == x.shape
  np.testing.assert_array_equal(images, vq.reconstruct(x))
  np.testing.assert_array_equal(codes[0], vq.encode(x)[0])   # deterministic outside training
  if levels == 1:
    np.testing.assert_array_equal(vq.decode(codes[0]), images)  # one map need not be a tuple


def test_codes_are_the_nearest_codebook_entries():
  vq = _tiny()
  x = _images()
  h = vq._scale(x)
  for layer in vq.enc_b:
    h = layer(h) if type(layer).__name__ == "ResidualStack" else tf.nn.relu(layer(h))
  f = vq.pre_q_b(h).numpy().reshape(-1, 4)
  book = vq.quantizers[0].codebook.numpy()
  brute = np.argmin(((f[:, None, :] - book[None]) ** 2).sum(-1), axis=1)
  np.testing.assert_array_equal(vq.encode(x)[0].numpy().reshape(-1), brute)


def test_encoder_trains_through_the_quantizer():
  vq = _tiny()
  x = _images()
  with tf.GradientTape() as tape:
    objective, _ = vq._objective(tf.constant(x), None, training=False)
    loss = tf.reduce_mean(objective)
  grads = tape.gradient(loss, vq.enc_b[0].trainable_variables)
  assert all(g is not None and float(tf.reduce_max(tf.abs(g))) > 0 for g in grads)


def test_vqvae2_bottom_codes_read_the_top_codes():
  """The bottom quantizer's input reads the decoded top codes: the loss (whose
  commitment term holds that input) has a gradient in the top decoder, which
  is used nowhere else. A gradient, not a count of changed codes: codes are
  discrete and may not move, which made an earlier form of this test depend
  on the order tests ran in."""
  from tests.conftest import perturb
  vq = _tiny(levels=2)
  perturb(vq, 0.3, seed=0)
  with tf.GradientTape() as tape:
    objective, _ = vq._objective(tf.constant(_images(8)), None, training=False)
    loss = tf.reduce_mean(objective)
  grads = tape.gradient(loss, [v for layer in vq.dec_t for v in layer.trainable_variables])
  assert grads and all(g is not None and float(tf.reduce_max(tf.abs(g))) > 0 for g in grads)


def test_sampling_points_at_a_prior_and_config_round_trips():
  vq = _tiny(levels=2, name="mine")
  with pytest.raises(ValueError, match="vqvae_prior"):
    vq.sample(2, seed=0)
  clone = VQVAE.from_config(vq.get_config())
  assert clone.get_config() == vq.get_config() and clone.name == "mine"
  assert set(vq.serving_functions()) == {"serving_default", "encode", "decode", "reconstruct"}


@pytest.mark.parametrize("codes, match", [
    ([np.full([1, 7, 7], 16)], r"\[0, 15\]"),
    ([np.full([1, 7, 7], -1)], r"\[0, 15\]"),
    ([np.zeros([1, 14, 14], np.int32)], "codes"),
    ([np.zeros([1, 7, 7]), np.zeros([1, 14, 14])], "1 code map"),
    ([np.zeros([1, 7, 7], np.float32) + 0.5], "codes"),
])
def test_decode_refuses_bad_codes(codes, match):
  with pytest.raises(ValueError, match=match):
    _tiny().decode(codes)


def test_decode_refuses_mismatched_levels_and_rows():
  vq = _tiny(levels=2)
  with pytest.raises(ValueError, match="2 code map"):
    vq.decode(np.zeros([1, 7, 7], np.int32))
  with pytest.raises(ValueError, match="one row per example"):
    vq.decode((np.zeros([2, 7, 7], np.int32), np.zeros([1, 14, 14], np.int32)))


@pytest.mark.parametrize("kw, match", [
    (dict(num_codes=0), "num_codes"), (dict(code_dim=0), "code_dim"), (dict(levels=3), "levels"),
    (dict(hidden_channels=-1), "hidden_channels"), (dict(num_residual_blocks=-1),
                                                    "num_residual_blocks"),
    (dict(data_variance=0.0), "data_variance"), (dict(decay=1.0), "decay"),
])
def test_bad_constructor_arguments(kw, match):
  with pytest.raises(ValueError, match=match):
    _tiny(**kw)


def test_image_size_must_divide_by_four():
  with pytest.raises(ValueError, match="multiples of 4"):
    VQVAE((30, 28, 1))


@pytest.mark.slow  # real data or a fresh process: CI runs it (pytest -m slow)
def test_reconstruction_improves_on_fashion_mnist_and_codes_stay_in_use(fmnist_available):
  keras.utils.set_random_seed(0)
  vq = VQVAE((28, 28, 1), num_codes=64, code_dim=16, hidden_channels=32, num_residual_blocks=1)
  vq.compile(default_optimizer(2e-3))
  test = data.load("fashion_mnist", "test", 500, take=1000)
  before = vq.evaluate(test, verbose=0, return_dict=True)
  vq.fit(data.load("fashion_mnist", "train", 64, repeat=True, take=6000, seed=0),
         steps_per_epoch=120, epochs=1, verbose=0)
  after = vq.evaluate(test, verbose=0, return_dict=True)
  assert after["mse"] < 0.5 * before["mse"] and after["mse"] < 0.04
  assert after["usage"] >= 0.25 and after["perplexity"] > 8   # no collapse onto a few codes
  assert "reconstruction MSE" in vq.describe(after)

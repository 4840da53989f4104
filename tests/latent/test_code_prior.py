"""CodePrior: the likelihood of codes by brute force, cached = naive sampling, the
conditional bottom prior, mismatched VQ-VAEs, and bits per code falling on real data."""

import numpy as np
import pytest
import tensorflow as tf

from tests.conftest import perturb
from tfgen._keras import keras
from tfgen import _validation, data
from tfgen.autoregressive import PixelCNN, Transformer
from tfgen.latent import VQVAE, CodePrior
from tfgen.training import default_optimizer


def _vq(levels=1, num_codes=8, shape=(28, 28, 1)):
  return VQVAE(shape, levels=levels, num_codes=num_codes, code_dim=4, hidden_channels=8,
               num_residual_blocks=1)


def _prior(levels=1, kind="pixelcnn", **kw):
  prior = CodePrior(_vq(levels), prior=kind, filters=8, num_layers=2, d_model=16, num_heads=2,
                    **kw)
  perturb(prior.top, 0.3)
  if prior.bottom is not None:
    perturb(prior.bottom, 0.3)
  return prior


def _images(n=3, seed=0):
  return np.random.default_rng(seed).integers(0, 256, size=(n, 28, 28, 1)).astype(np.uint8)


@pytest.mark.parametrize("levels", [1, 2])
def test_log_prob_is_the_sum_of_the_level_priors(levels):
  prior = _prior(levels)
  x = _images()
  maps = prior.vqvae.encode(x)
  expected = prior.top.log_prob(maps[0][..., None])
  if levels == 2:
    (ht, wt), (hb, wb) = prior.vqvae.code_shapes
    up = np.repeat(np.repeat(prior.vqvae.embed(maps[0], 0).numpy(), hb // ht, 1), wb // wt, 2)
    expected += prior.bottom.log_prob(maps[1][..., None], condition=up)
  np.testing.assert_allclose(prior.log_prob(x), expected, rtol=1e-5)
  # Images or their cached flat codes: the same likelihood.
  np.testing.assert_allclose(prior.log_prob(prior.codes_of(x)), expected, rtol=1e-5)
  dims = sum(h * w for h, w in prior.vqvae.code_shapes)
  np.testing.assert_allclose(prior.bits_per_dim(x), -expected / (dims * np.log(2)), rtol=1e-5)


def test_bottom_prior_depends_on_the_top_codes():
  prior = _prior(2)
  flat = prior.codes_of(_images()).numpy()
  changed = flat.copy()
  changed[:, :49] = (changed[:, :49] + 1) % prior.num_codes
  bottom = lambda f: prior.log_prob(f) - prior.top.log_prob(f[:, :49].reshape(-1, 7, 7, 1))
  assert np.all(np.abs(bottom(flat) - bottom(changed)) > 1e-4)


def test_transformer_prior_is_one_sequence_over_all_levels():
  prior = _prior(2, "transformer")
  x = _images()
  flat = prior.codes_of(x)
  np.testing.assert_allclose(prior.log_prob(x), prior.top.log_prob(flat), rtol=1e-5)
  assert prior.top.context_length == 49 + 196


@pytest.mark.parametrize("levels, kind, classes", [
    (1, "pixelcnn", None), (2, "pixelcnn", None), (2, "pixelcnn", 3), (1, "transformer", 3)])
def test_cached_sampling_equals_naive_and_decodes_the_sampled_codes(levels, kind, classes):
  prior = _prior(levels, kind, num_classes=classes)
  cond = None if classes is None else [2, 0]
  a = prior.sample(2, seed=5, condition=cond)
  b = prior.sample(2, seed=5, condition=cond, method="naive")
  np.testing.assert_array_equal(a, b)
  assert a.dtype == tf.uint8 and a.shape == (2, 28, 28, 1)
  encoded = None if classes is None else tf.one_hot(cond, classes)
  codes = prior.sample_codes(2, _validation.seed(5), tf.constant(1.0), encoded)
  np.testing.assert_array_equal(a, prior.vqvae.decode(prior.maps_of(codes)))
  assert np.any(a.numpy() != prior.sample(2, seed=6, condition=cond).numpy())


def test_class_condition_changes_the_likelihood():
  prior = _prior(1, num_classes=3)
  x = _images(2)
  assert np.all(np.abs(prior.log_prob(x, [0, 0]) - prior.log_prob(x, [2, 2])) > 1e-4)


def test_priors_of_another_vqvae_are_refused():
  prior = _prior(1)
  with pytest.raises(ValueError, match="num_codes=16"):
    CodePrior(_vq(num_codes=16), prior=prior.top)
  with pytest.raises(ValueError, match="another VQ-VAE"):
    CodePrior(_vq(shape=(32, 32, 1)), prior=prior.top)
  with pytest.raises(ValueError, match="bottom_prior"):
    CodePrior(_vq(levels=2), prior=prior.top)
  with pytest.raises(ValueError, match="sequences of 49"):
    CodePrior(_vq(), prior=Transformer(num_levels=8, context_length=20, num_layers=1,
                                       d_model=8, num_heads=2))
  with pytest.raises(ValueError, match="prior"):
    CodePrior(_vq(), prior="pixelsnail")
  # The same prior on a compatible VQ-VAE is accepted.
  assert CodePrior(_vq(), prior=prior.top).top is prior.top


def test_bad_codes_and_images_are_refused():
  prior = _prior(1)
  with pytest.raises(ValueError, match=r"\[0, 7\]"):
    prior.log_prob(np.full([1, 49], 8))
  with pytest.raises(ValueError, match="codes"):
    prior.log_prob(np.zeros([1, 50], np.int32))
  with pytest.raises(ValueError, match="x"):
    prior.log_prob(np.zeros([1, 14, 14, 1], np.uint8))


def test_config_round_trip_rebuilds_both_stages():
  prior = _prior(2, num_classes=3, name="p")
  clone = CodePrior.from_config(prior.get_config())
  assert clone.get_config() == prior.get_config()
  clone.set_weights(prior.get_weights())
  x = _images(2)
  np.testing.assert_allclose(clone.log_prob(x, [1, 2]), prior.log_prob(x, [1, 2]), rtol=1e-5)


@pytest.mark.slow  # real-data learning: CI runs it (pytest -m slow)
def test_bits_per_code_fall_on_cached_fashion_mnist_codes_and_the_vqvae_stays_frozen(
    fmnist_available):
  keras.utils.set_random_seed(0)
  vq = VQVAE((28, 28, 1), num_codes=32, code_dim=8, hidden_channels=16, num_residual_blocks=1)
  vq.compile(default_optimizer(2e-3))
  vq.fit(data.load("fashion_mnist", "train", 64, repeat=True, take=3000, seed=0),
         steps_per_epoch=60, epochs=1, verbose=0)
  frozen = [v.numpy().copy() for v in vq.variables]
  prior = CodePrior(vq, filters=16, num_layers=3)
  prior.compile(default_optimizer(3e-3))
  train = data.load("fashion_mnist", "train", 64, take=3000, repeat=True, seed=0,
                    encode=prior.data_encoder)
  assert train.element_spec.shape.as_list() == [64, 49]      # codes, computed once
  test = data.load("fashion_mnist", "test", 500, take=1000, encode=prior.data_encoder)
  before = prior.evaluate(test, verbose=0, return_dict=True)["bits_per_dim"]
  prior.fit(train, steps_per_epoch=80, epochs=1, verbose=0)
  after = prior.evaluate(test, verbose=0, return_dict=True)
  assert after["bits_per_dim"] < before - 0.5 and after["bits_per_dim"] < 4.0  # of log2(32) = 5
  assert "bits/code" in prior.describe(after)
  for a, b in zip(frozen, vq.variables):
    np.testing.assert_array_equal(a, b.numpy())

"""TextToImage: the autoregressive property by perturbation, the weighted loss,
cached = naive sampling, captions at every boundary, and (slow) prompts that draw
their class."""

import math

import numpy as np
import pytest
import tensorflow as tf

from tests.conftest import perturb
from tfgen import _validation, data
from tfgen.latent import VQVAE, TextToImage, encode_captions
from tfgen.training import default_optimizer


def _vq(levels=1):
  return VQVAE((28, 28, 1), levels=levels, num_codes=8, code_dim=4, hidden_channels=8,
               num_residual_blocks=1)


def _model(**kw):
  m = TextToImage(_vq(), text_length=24, num_layers=2, d_model=16, num_heads=2, **kw)
  perturb(m, 0.2)
  return m


def _codes(n=2, seed=0):
  return np.random.default_rng(seed).integers(0, 8, size=(n, 49)).astype(np.int32)


def test_image_logits_read_only_the_caption_and_earlier_codes():
  m = _model()
  captions = encode_captions(["sneaker", "bag"], 24)
  codes = _codes()
  text0, image0 = m._logits(tf.constant(codes), tf.constant(captions))
  j = 20
  changed = codes.copy()
  changed[:, j] = (changed[:, j] + 1) % 8
  text1, image1 = m._logits(tf.constant(changed), tf.constant(captions))
  np.testing.assert_allclose(text0, text1, atol=1e-6)                 # text never sees the image
  np.testing.assert_allclose(image0[:, :j + 1], image1[:, :j + 1], atol=1e-6)  # code j predicted
  assert np.max(np.abs(image0[:, j + 1:] - image1[:, j + 1:])) > 1e-4  # from codes < j only
  _, image2 = m._logits(tf.constant(codes), tf.constant(encode_captions(["coat", "bag"], 24)))
  assert np.max(np.abs(image2[0, 0] - image0[0, 0])) > 1e-4           # the caption matters


def test_log_prob_and_weighted_objective_by_hand():
  m = _model(text_loss_weight=0.25)
  captions = encode_captions(["dress", "one sandal"], 24)
  codes = _codes()
  text_logits, image_logits = m._logits(tf.constant(codes), tf.constant(captions))
  log_softmax = tf.nn.log_softmax(image_logits).numpy()
  by_hand = np.array([sum(log_softmax[b, i, codes[b, i]] for i in range(49)) for b in range(2)])
  np.testing.assert_allclose(m.log_prob(codes, captions), by_hand, rtol=1e-5)
  tokens = np.where(captions > 0, captions, 256)[:, 1:]
  text_ls = tf.nn.log_softmax(text_logits).numpy()
  text_nll = -np.array([sum(text_ls[b, t, tokens[b, t]] for t in range(23)) for b in range(2)])
  objective, values = m._objective(tf.constant(codes), captions, training=False)
  expected = 0.25 * text_nll / (23 * math.log(2)) + 0.75 * -by_hand / (49 * math.log(2))
  np.testing.assert_allclose(objective, expected, rtol=1e-4)
  np.testing.assert_allclose(values["text_bits_per_byte"], text_nll / (23 * math.log(2)),
                             rtol=1e-4)


def test_cached_sampling_equals_naive_and_prompts_matter():
  m = _model()
  a = m.sample(3, prompt="ankle boot", seed=4, temperature=0.05)
  np.testing.assert_array_equal(a, m.sample(3, prompt="ankle boot", seed=4, temperature=0.05,
                                            method="naive"))
  assert a.dtype == tf.uint8 and a.shape == (3, 28, 28, 1)
  seed, t = _validation.seed(4), tf.constant(0.05)   # cold: the logits, not the noise, decide
  boots = m.sample_codes(3, seed, t, tf.constant(encode_captions(["ankle boot"] * 3, 24)))
  np.testing.assert_array_equal(a, m.vqvae.decode(tf.reshape(boots, [3, 7, 7])))
  trousers = m.sample_codes(3, seed, t, tf.constant(encode_captions(["trouser"] * 3, 24)))
  assert np.any(boots.numpy() != trousers.numpy())
  per_row = m.sample(2, condition=["ankle boot", "trouser"], seed=4)
  assert per_row.shape == (2, 28, 28, 1)
  assert m.sample(4, seed=1).shape == (4, 28, 28, 1)   # no prompt: each class in turn


@pytest.mark.parametrize("call, match", [
    (lambda m: m.sample(2, prompt="", seed=0), "empty"),
    (lambda m: m.sample(2, prompt="x" * 25, seed=0), "text_length=24"),
    (lambda m: m.sample(2, prompt=[65, 66], seed=0), "prompt"),
    (lambda m: m.sample(2, prompt="a\0b", seed=0), "NUL"),
    (lambda m: m.sample(2, prompt="bag", condition=["bag", "bag"], seed=0), "not both"),
    (lambda m: m.log_prob(_codes(), None), "captions"),
    (lambda m: m.log_prob(_codes(), np.zeros([2, 24], np.int32)), "empty"),
    (lambda m: m.log_prob(_codes(), np.full([2, 24], 300)), r"\[0, 255\]"),
    (lambda m: m.log_prob(_codes(), ["bag"]), "one row per example"),
    (lambda m: m.log_prob(np.full([2, 49], 8), ["bag", "bag"]), r"\[0, 7\]"),
])
def test_bad_captions_and_codes(call, match):
  with pytest.raises(ValueError, match=match):
    call(_model())


def test_construction_is_checked():
  with pytest.raises(ValueError, match="levels=1"):
    TextToImage(_vq(levels=2))
  with pytest.raises(ValueError, match="text_length"):
    TextToImage(_vq(), text_length=4)            # "picture of ankle boot" does not fit
  with pytest.raises(ValueError, match="template"):
    TextToImage(_vq(), templates=("no slot",))
  m = _model(name="t2i")
  clone = TextToImage.from_config(m.get_config())
  assert clone.get_config() == m.get_config()


@pytest.mark.slow
def test_prompts_draw_their_class(fmnist_available):
  """DALL-E at Fashion-MNIST scale: a classifier trained on real images must
  recognise the class a prompt names far above chance (10%)."""
  from tfgen._keras import keras
  keras.utils.set_random_seed(0)
  vq = VQVAE((28, 28, 1), num_codes=64, code_dim=16, hidden_channels=32, num_residual_blocks=1)
  vq.compile(default_optimizer(2e-3))
  vq.fit(data.load("fashion_mnist", "train", 64, repeat=True, seed=0),
         steps_per_epoch=300, epochs=1, verbose=0)
  model = TextToImage(vq, text_length=24, num_layers=2, d_model=64, num_heads=4)
  model.compile(default_optimizer(1e-3))
  model.fit(data.load("fashion_mnist", "train", 64, labels=True, repeat=True, seed=0,
                      encode=model.data_encoder), steps_per_epoch=600, epochs=1, verbose=0)
  images, labels = next(iter(data.load("fashion_mnist", "train", 20000, labels=True, seed=1)))
  classifier = keras.Sequential([
      keras.layers.Rescaling(1 / 255.), keras.layers.Conv2D(16, 3, 2, activation="relu"),
      keras.layers.Conv2D(32, 3, 2, activation="relu"), keras.layers.Flatten(),
      keras.layers.Dense(10)])
  classifier.compile("adam", keras.losses.SparseCategoricalCrossentropy(from_logits=True))
  classifier.fit(images, labels, epochs=2, batch_size=128, verbose=0)
  names = model.class_names
  agree = []
  for c in range(10):
    drawn = model.sample(10, prompt=names[c], seed=c, temperature=0.8)
    agree.append(np.mean(np.argmax(classifier.predict(drawn, verbose=0), 1) == c))
  assert np.mean(agree) > 0.5, dict(zip(names, agree))

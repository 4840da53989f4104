"""The model contract (tfgen.base.GenerativeModel / LikelihoodModel), checked on every
registered family."""

import inspect
import warnings

import numpy as np
import pytest
import tensorflow as tf

from tfgen import base, models
from tfgen._keras import keras
from tfgen.autoregressive import (MADE, NADE, CharRNN, ImageTransformer, MultiscalePixelCNN,
                                  ParallelWaveNet, PixelCNN, PixelRNN, Transformer,
                                  VideoPixelNetwork, WaveNet)
from tfgen.flows import IAF, MAF, NICE, Glow, RealNVP
from tfgen.classifiers import RevNet
from tfgen.latent import VQVAE, CodePrior, TextToImage
from tfgen.training import default_optimizer

def _tiny(name):
  return lambda **kw: models.FAMILIES[name].build_tiny(models.FAMILIES, **kw)


def _class_conditional(family):
  """Likelihood families whose condition can be a class id (the rest: captions,
  or no likelihood, get the shared part of the contract checked here and
  the rest in their own tests)."""
  return (issubclass(family.model, base.LikelihoodModel)
          and "num_classes" in inspect.signature(family.model.__init__).parameters)


# Built from each family's own declaration (ModelFamily.tiny): a new family
# needs no entry here.
TINY = {n: _tiny(n) for n, f in models.FAMILIES.items() if _class_conditional(f)}
OTHERS = {n: _tiny(n) for n, f in models.FAMILIES.items() if not _class_conditional(f)}


def _data(model, n=3, seed=0):
  rng = np.random.default_rng(seed)
  shape = [d or 12 for d in model.event_shape]
  return rng.integers(0, model.num_levels, size=[n] + shape).astype(model.data_dtype.name)


def _options(model):
  return {"length": 12} if model.is_sequence else {}


def test_every_registered_family_is_covered():
  assert set(models.FAMILIES) <= set(TINY) | set(OTHERS)


@pytest.mark.parametrize("name", sorted(OTHERS))
def test_shared_contract_of_other_families(name):
  model = OTHERS[name](name=f"my_{name}")
  assert models.family(name).model is type(model)
  clone = type(model).from_config(model.get_config())
  assert clone.name == f"my_{name}" and clone.get_config() == model.get_config()
  assert "serving_default" in model.serving_functions()
  x = _data(model)
  y = {"text_to_image": lambda: model.captions_of([0, 1, 2]),
       "revnet": lambda: np.array([0, 1, 2])}.get(name, lambda: None)()
  model.compile(default_optimizer(1e-3))
  result = model.evaluate(x, y, batch_size=3, verbose=0, return_dict=True)
  assert all(np.isfinite(v) for v in result.values())
  assert isinstance(model.describe(result), str)
  preview = model.preview(x)
  assert preview is None or (preview.shape == (3, 8, 16, 1) and preview.dtype == tf.uint8)
  if model.can_sample:
    assert model.sample(2, seed=1, **_options(model)).dtype == model.data_dtype
  else:
    with pytest.raises(ValueError, match="does not sample"):
      model.sample(2, seed=1)


@pytest.mark.parametrize("name", sorted(TINY))
def test_contract(name):
  model = TINY[name](name=f"my_{name}")
  x = _data(model)
  lp = model.log_prob(x)
  assert isinstance(model, base.LikelihoodModel)
  assert lp.shape == (3,) and np.all(np.isfinite(lp))
  flow = name in ("glow", "realnvp", "nice", "maf", "iaf")   # flows draw fresh dequantization noise
  np.testing.assert_allclose(model(x), model.log_prob(x), rtol=1e-2 if flow else 1e-5)
  dims = model.num_dims or x[0].size   # D: pixels, or codes for a code prior
  if not flow:
    np.testing.assert_allclose(model.bits_per_dim(x), -lp / (dims * np.log(2)), rtol=1e-5)
  # Samples: in the data dtype, reproducible for an int seed, different for another.
  a = model.sample(2, seed=7, **_options(model))
  assert a.dtype == model.data_dtype and a.dtype == (tf.int32 if model.is_sequence else tf.uint8)
  np.testing.assert_array_equal(a, model.sample(2, seed=7, **_options(model)))
  assert a.shape == (2,) + tuple(d or 12 for d in model.event_shape)
  assert np.any(a.numpy() != model.sample(2, seed=8, **_options(model)).numpy())
  # Config round trip, name included.
  clone = type(model).from_config(model.get_config())
  assert clone.name == f"my_{name}" and clone.get_config() == model.get_config()
  assert models.family(name).model is type(model)


@pytest.mark.parametrize("name", sorted(TINY))
def test_condition_has_one_name(name):
  model = TINY[name](num_classes=3)
  x = _data(model, n=2)
  assert model.condition_spec.shape.as_list() == [None]
  a = model.log_prob(x, condition=[0, 0])
  b = model.log_prob(x, [2, 2], seed=1) if name in ("glow", "realnvp", "nice", "maf", "iaf") else (
      model.log_prob(x, [2, 2]))
  assert a.shape == (2,) and b.shape == (2,)
  s = model.sample(2, seed=1, condition=[1, 2], **_options(model))
  assert s.shape[0] == 2
  with pytest.raises(ValueError, match="one row per example"):
    model.log_prob(x, condition=[1])                          # no silent broadcasting
  with pytest.raises(ValueError, match="condition"):
    model.log_prob(x)
  with pytest.raises(ValueError, match=r"\[0, 2\]"):
    model.log_prob(x, condition=[0, 3])
  with warnings.catch_warnings(record=True) as caught:
    warnings.simplefilter("always")
    old = model.sample(2, seed=1, labels=[1, 2], **_options(model))
  assert any(issubclass(w.category, DeprecationWarning) and "labels" in str(w.message)
             for w in caught)
  np.testing.assert_array_equal(old, s)
  with pytest.raises(ValueError, match="not both|only"):
    model.sample(2, seed=1, condition=[1, 2], labels=[1, 2], **_options(model))


@pytest.mark.parametrize("kind, old, new", [
    ("pixelcnn", dict(conditional_shape=(3,)), dict(condition_shape=(3,))),
    ("made", dict(conditional_size=3), dict(condition_shape=(3,))),
    ("wavenet", dict(global_condition_classes=2), dict(num_classes=2)),
    ("wavenet", dict(local_condition_channels=2, local_upsample=4),
     dict(condition_shape=(None, 2), local_upsample=4)),
])
def test_old_constructor_keywords_warn_and_mean_the_new_ones(kind, old, new):
  builders = {"pixelcnn": lambda **kw: PixelCNN((4, 4, 1), filters=4, num_layers=1, **kw),
              "multiscale_pixelcnn": lambda **kw: MultiscalePixelCNN(
        (4, 4, 1), num_levels=4, upscalings=1, filters=4, num_layers=1, base_filters=4,
        base_layers=1, **kw),
    "made": lambda **kw: MADE(4, hidden_units=[4], **kw),
              "wavenet": lambda **kw: WaveNet(2, 1, 4, 4, 4, **kw)}
  with pytest.warns(DeprecationWarning):
    a = builders[kind](**old)
  b = builders[kind](**new)
  assert a.get_config() == b.get_config()


@pytest.mark.parametrize("seed, ok", [
    (0, True), (2**40 + 3, True), (-5, True), (np.int64(9), True), ([1, 2], True),
    (np.array([1, 2], np.uint8), True), (tf.constant([1, 2], tf.int64), True),
    ("midpoint", False), ([2**70, 1], False), ([1.5, 2], False), ([1, 2, 3], False),
    (True, False), (2**64, False),
])
def test_seeds(seed, ok):
  model = TINY["made"]()
  if ok:
    np.testing.assert_array_equal(model.sample(2, seed=seed), model.sample(2, seed=seed))
  else:
    with pytest.raises(ValueError, match="seed"):
      model.sample(2, seed=seed)


def test_int_seeds_map_to_distinct_pairs():
  model = TINY["made"]()
  assert np.any(model.sample(4, seed=1).numpy() != model.sample(4, seed=2 ** 32).numpy())


@pytest.mark.parametrize("bad, match", [
    (dict(n=0), "`n`"), (dict(n=10 ** 9), "at most"), (dict(n=2, temperature=float("nan")),
                                                      "temperature"),
    (dict(n=2, temperature=float("inf")), "temperature"), (dict(n=2, temperature=0), "temperature"),
    (dict(n=2, temperature=1e-45), "temperature"), (dict(n=2, method="fast"), "method")])
def test_sample_arguments_are_checked_before_any_work(bad, match):
  model = TINY["gated_pixelcnn"]()
  n = bad.pop("n")
  with pytest.raises(ValueError, match=match):
    model.sample(n, seed=1, **bad)


def test_sample_weight_is_honoured_and_y_is_the_condition():
  model = TINY["gated_pixelcnn"](num_classes=2)
  x = _data(model, n=4)
  y = np.array([0, 1, 0, 1])
  per_example = -model.log_prob(x, y).numpy()
  model.compile(default_optimizer(1e-3))
  weights = np.array([1., 0., 0., 0.], np.float32)
  out = model.evaluate(x, y, sample_weight=weights, batch_size=4, verbose=0, return_dict=True)
  np.testing.assert_allclose(out["loss"], per_example[0], rtol=1e-5)
  before = [v.numpy().copy() for v in model.trainable_variables]
  model.fit(x, y, sample_weight=np.zeros(4, np.float32), batch_size=4, epochs=1, verbose=0)
  # Zero weights: zero loss, zero gradient (Adam's first step moves only where the gradient is not 0).
  for b, v in zip(before, model.trainable_variables):
    np.testing.assert_allclose(b, v.numpy(), atol=1e-7)


def test_keras_predict_returns_log_prob():
  model = TINY["made"]()
  x = _data(model, n=5)
  np.testing.assert_allclose(model.predict(x, verbose=0), model.log_prob(x), rtol=1e-5)


def test_layers_round_trip_their_config():
  from tfgen.layers import CausalConv1D, GatedPixelCNNStack, MaskedConv2D, PixelCNNStack
  for layer in (PixelCNNStack(1, 4, 2, condition_size=3, name="s"),
                GatedPixelCNNStack(3, 6, 2, kernel_size=5, name="g"),
                MaskedConv2D(4, 3, "A", 1), CausalConv1D(4, 2, 4)):
    config = layer.get_config()
    assert type(layer).from_config(config).get_config() == config
  assert keras.layers.Layer  # tf_keras layers


def test_compile_without_an_optimizer_uses_tfgens_default():
  model = TINY["glow"]()
  model.compile()
  assert isinstance(model.optimizer, keras.optimizers.Adam)
  assert model.optimizer.global_clipnorm == 50.
  model.compile("sgd")                                 # an explicit choice is kept
  assert isinstance(model.optimizer, keras.optimizers.SGD)
  x = _data(model)
  model.compile()
  assert np.isfinite(model.fit(x, epochs=1, verbose=0).history["loss"][0])


@pytest.mark.parametrize("name", sorted(models.FAMILIES))
def test_every_family_takes_its_default_window_and_declares_its_sample_options(name):
  model = models.FAMILIES[name].build_tiny(models.FAMILIES)
  window = model.default_window
  assert model.check_window(window) == window          # the CLI's default is always trainable
  assert set(model.sample_options()) >= set(model.SAMPLE_OPTIONS)
  if model.is_sequence:
    assert "length" in model.SAMPLE_OPTIONS
    with pytest.raises(ValueError):
      model.check_window(0)

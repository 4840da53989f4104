"""tfgen distributions composed with TFP: mixtures, joint distributions,
meta-distributions, Keras layers and XLA."""

import numpy as np
import pytest
import tensorflow as tf
import tensorflow_probability as tfp
from scipy.special import logsumexp

from tfgen import base, models
from tfgen._keras import keras
from tfgen.autoregressive import MADE, PixelCNN
from tfgen.flows import MAF, Glow
from tfgen.training import default_optimizer

tfd, tfb = tfp.distributions, tfp.bijectors


def _images(n, seed=0, levels=4):
  return np.random.default_rng(seed).integers(0, levels, (n, 4, 4, 1)).astype(np.uint8)


def test_a_mixture_of_two_families_over_the_same_event():
  made = MADE((4, 4, 1), hidden_units=[16], num_levels=4)
  pixelcnn = PixelCNN((4, 4, 1), num_levels=4, filters=8, num_layers=2)
  mix = tfd.Mixture(cat=tfd.Categorical(probs=[0.3, 0.7]),
                    components=[made.distribution, pixelcnn.distribution])
  x = _images(5)
  want = logsumexp([np.log(0.3) + made.log_prob(x), np.log(0.7) + pixelcnn.log_prob(x)], axis=0)
  np.testing.assert_allclose(mix.log_prob(x), want, rtol=1e-5)
  seed = tf.constant([1, 2])   # TFP's Mixture treats an int seed as stateful
  samples = mix.sample(6, seed=seed)
  assert samples.shape == [6, 4, 4, 1] and samples.dtype == tf.uint8
  np.testing.assert_array_equal(samples, mix.sample(6, seed=seed))
  assert np.all(np.isfinite(mix.log_prob(samples)))


def test_mixture_same_family_over_a_batch_of_conditions():
  model = PixelCNN((4, 4, 1), num_levels=4, filters=8, num_layers=2, num_classes=3)
  mix = tfd.MixtureSameFamily(tfd.Categorical(logits=[0., 1., 2.]),
                              model.distribution_given([0, 1, 2]))
  x = _images(4)
  per_class = np.stack([model.log_prob(x, condition=[k] * 4) for k in range(3)], -1)
  weights = np.log(np.exp([0., 1., 2.]) / np.exp([0., 1., 2.]).sum())
  np.testing.assert_allclose(mix.log_prob(x), logsumexp(per_class + weights, -1), rtol=1e-5)
  assert mix.batch_shape == [] and mix.sample(3, seed=2).shape == [3, 4, 4, 1]


@pytest.mark.parametrize("kind", ["named", "sequential", "coroutine"])
def test_a_joint_distribution_of_a_label_and_an_image_given_it(kind):
  model = Glow((4, 4, 1), levels=1, steps_per_level=1, hidden_channels=4, num_classes=3)
  model.log_prob(_images(8, levels=256), condition=np.arange(8) % 3)   # ActNorm init
  label = tfd.Categorical(probs=[0.2, 0.3, 0.5])
  if kind == "named":
    joint = tfd.JointDistributionNamed(dict(
        label=label, image=lambda label: model.distribution_given(label)))
  elif kind == "sequential":
    joint = tfd.JointDistributionSequential([label, lambda l: model.distribution_given(l)])
  else:
    def program():
      l = yield tfd.JointDistributionCoroutine.Root(label)
      yield model.distribution_given(l)
    joint = tfd.JointDistributionCoroutine(program)
  draw = joint.sample(5, seed=tf.constant([3, 4]))
  labels, images = (draw["label"], draw["image"]) if kind == "named" else draw
  assert labels.shape == [5] and images.shape == [5, 4, 4, 1] and images.dtype == tf.uint8
  want = (np.log([0.2, 0.3, 0.5])[labels.numpy()]
          + model.log_prob(images, condition=labels, seed=[0, 0]).numpy())
  np.testing.assert_allclose(joint.log_prob(draw), want, rtol=1e-5)
  np.testing.assert_array_equal(tf.nest.flatten(joint.sample(5, seed=tf.constant([3, 4])))[0],
                                tf.nest.flatten(draw)[0])


def _vector_maf(**kw):
  model = MAF(event_shape=(3,), num_bijectors=2, hidden_units=[8], **kw)
  x = np.random.default_rng(0).normal(size=(16, 3)).astype(np.float32)
  condition = None if not kw else np.random.default_rng(1).normal(size=(16, 2))
  model.log_prob(x, condition)
  return model, x


def test_independent_sample_and_transformed_on_a_continuous_flow():
  model, x = _vector_maf()
  lp = model.log_prob(x[:4]).numpy()
  np.testing.assert_allclose(tfd.Sample(model.distribution, 4).log_prob(x[:4]), lp.sum(),
                             rtol=1e-5)
  positive = tfd.TransformedDistribution(model.distribution, tfb.Exp())
  np.testing.assert_allclose(positive.log_prob(np.exp(x[:4])), lp - x[:4].sum(-1), rtol=1e-4)
  assert np.all(positive.sample(7, seed=1).numpy() > 0)

  conditional, _ = _vector_maf(condition_shape=(2,))
  context = np.random.default_rng(2).normal(size=(4, 2)).astype(np.float32)
  joint = tfd.Independent(conditional.distribution_given(context), 1)
  assert joint.batch_shape == [] and joint.event_shape == [4, 3]
  np.testing.assert_allclose(joint.log_prob(x[:4]),
                             conditional.log_prob(x[:4], condition=context).numpy().sum(),
                             rtol=1e-5)


def test_distribution_lambda_in_a_keras_model_trains_the_tfgen_model():
  made = MADE((4, 4, 1), hidden_units=[16], num_levels=4, num_classes=2)

  class LabelToImage(keras.Model):
    def __init__(self):
      super().__init__()
      self.made = made    # tracked: its weights are this model's
      self.head = tfp.layers.DistributionLambda(
          lambda labels: self.made.distribution_given(tf.cast(labels[:, 0], tf.int32)),
          convert_to_tensor_fn=lambda d: d.sample(seed=[1, 2]))

    def call(self, labels):
      return self.head(labels)

  net = LabelToImage()
  labels = np.array([[0], [1]] * 8, np.int32)
  images = np.where(labels[:, :, None, None] == 0, 0, 3) * np.ones((16, 4, 4, 1), np.uint8)
  net.compile(optimizer=default_optimizer(1e-2), loss=lambda x, d: -d.log_prob(x))
  before = float(-tf.reduce_mean(made.log_prob(images, condition=labels[:, 0])))
  net.fit(labels, images, batch_size=16, epochs=20, verbose=0)
  after = float(-tf.reduce_mean(made.log_prob(images, condition=labels[:, 0])))
  assert set(map(id, made.trainable_variables)) <= set(map(id, net.trainable_variables))
  assert after < before / 2, (before, after)
  assert net(labels[:2]).shape == [2, 4, 4, 1]


XLA = ["glow", "gated_pixelcnn", "wavenet"]


def _xla_check(name):
  model = models.FAMILIES[name].build_tiny(models.FAMILIES)
  dist = model.distribution_given(length=5 if model.is_sequence else None)
  shape = [d or 5 for d in model.event_shape]
  x = np.random.default_rng(0).integers(0, model.num_levels, [3] + shape).astype(
      model.data_dtype.name)
  model.log_prob(x)    # a trained model's state (flows: ActNorm initialised)
  score = tf.function(lambda x: dist.log_prob(x), jit_compile=True)
  draw = tf.function(lambda seed: dist.sample(2, seed=seed), jit_compile=True)
  got = score(x).numpy()
  # XLA's stateless generators differ from TF's kernels, so a flow's fixed
  # dequantization draw (and a sample) differs from the non-XLA one; the
  # autoregressive families have no noise in log_prob and must match.
  if model.num_levels == 256 and hasattr(model, "dequantize"):
    assert np.all(np.isfinite(got)) and np.allclose(got, dist.log_prob(x), rtol=0.01)
  else:
    np.testing.assert_allclose(got, dist.log_prob(x), rtol=1e-5, atol=1e-4)
  s = draw(tf.constant([4, 2])).numpy()
  np.testing.assert_array_equal(s, draw(tf.constant([4, 2])).numpy())
  assert s.shape == tuple([2] + shape) and np.all(np.isfinite(score(s).numpy()))


@pytest.mark.parametrize("name", XLA)
def test_log_prob_and_sample_compile_with_xla(name):
  _xla_check(name)


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(
    n for n, f in models.FAMILIES.items()
    if issubclass(f.model, base.LikelihoodModel) and n not in XLA and n != "text_to_image"))
def test_every_other_family_compiles_with_xla(name):
  _xla_check(name)

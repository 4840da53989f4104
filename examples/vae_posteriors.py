"""A VAE on binarized Fashion-MNIST with tfgen flows as its posterior and prior.

The canonical use of IAF (Kingma et al. 2016, arXiv:1606.04934) is a
flexible posterior ``q(z | x)``. This example composes tfgen's vector flows
with TFP, at one training budget, for three models:

- ``gaussian``: ``q(z | x) = N(μ(x), diag σ(x)²)``, prior ``N(0, I)``;
- ``iaf``: ``z = μ(x) + σ(x) ⊙ f(ε; h(x))`` with ``f`` a tfgen ``IAF``
  conditioned on the encoder's context ``h(x)`` (``condition=``):
  ``tfd.TransformedDistribution(iaf.distribution_given(h), Shift(μ)∘Scale(σ))``;
- ``iaf_maf``: the same posterior, and a tfgen ``MAF`` as the prior
  (``maf.distribution``).

Each reports the test ELBO, ``E_q[log p(x|z) + log p(z) − log q(z|x)]``,
and the importance-weighted bound of Burda et al. (2016, arXiv:1509.00519),
``log (1/k) Σ_i p(x, z_i) / q(z_i|x)``, both in nats per image (higher is
better; the IWAE bound is the tighter). ``q``'s samples and their
log-densities come from ``experimental_sample_and_log_prob``, one pass of the
IAF.

Run: .venv/bin/python examples/vae_posteriors.py [--steps 3000]
"""

import argparse
import math
import os
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402
import tensorflow_probability as tfp  # noqa: E402

from tfgen._keras import keras  # noqa: E402
from tfgen.flows import IAF, MAF  # noqa: E402

tfd, tfb = tfp.distributions, tfp.bijectors

KINDS = ("gaussian", "iaf", "iaf_maf")


class VAE(tf.Module):
  """A Bernoulli-decoder VAE over flattened binary images ``[B, D]``.

  Args:
    kind: one of ``KINDS``.
    data_dims: ``D`` (784 for 28×28).
    latent: size of ``z``.
    hidden: width of the encoder, decoder and flow networks.
    context: size of the IAF's context ``h(x)``.
  """

  def __init__(self, kind, data_dims=784, latent=16, hidden=256, context=16):
    super().__init__(name=kind)
    if kind not in KINDS:
      raise ValueError(f"`kind` must be one of {KINDS}, got {kind!r}.")
    self.kind, self.latent, self.context = kind, latent, context
    dense = lambda units, act=None: keras.layers.Dense(units, activation=act)
    self.encoder = keras.Sequential([keras.Input([data_dims]), dense(hidden, "relu"),
                                     dense(hidden, "relu"), dense(2 * latent + context)])
    self.decoder = keras.Sequential([keras.Input([latent]), dense(hidden, "relu"),
                                     dense(hidden, "relu"), dense(data_dims)])
    # actnorm=False: a posterior or prior never sees data to initialise from.
    self.flow = None if kind == "gaussian" else IAF(
        event_shape=(latent,), condition_shape=(context,), num_bijectors=2,
        hidden_units=[hidden], actnorm=False, name="posterior_iaf")
    self.prior_flow = MAF(event_shape=(latent,), num_bijectors=2, hidden_units=[hidden],
                          actnorm=False, name="prior_maf") if kind == "iaf_maf" else None

  def posterior(self, x):
    """``q(z | x)``: batch shape ``[B]``, event ``[latent]``."""
    out = self.encoder(x)
    mu, log_sigma = out[:, :self.latent], out[:, self.latent:2 * self.latent]
    sigma = tf.exp(tf.clip_by_value(log_sigma, -7., 5.))
    if self.flow is None:
      return tfd.MultivariateNormalDiag(mu, sigma)
    h = out[:, 2 * self.latent:]
    return tfd.TransformedDistribution(self.flow.distribution_given(h),
                                       tfb.Chain([tfb.Shift(mu), tfb.Scale(sigma)]))

  def prior(self):
    if self.prior_flow is not None:
      return self.prior_flow.distribution
    return tfd.MultivariateNormalDiag(tf.zeros([self.latent]))

  def log_weights(self, x, k, seed):
    """``log p(x, z_i) − log q(z_i | x)`` for ``k`` draws ``z_i ~ q``: ``[k, B]``."""
    z, log_q = self.posterior(x).experimental_sample_and_log_prob(k, seed=seed)
    log_px = tfd.Independent(tfd.Bernoulli(logits=self.decoder(
        tf.reshape(z, [-1, self.latent]))), 1).log_prob(tf.tile(x, [k, 1]))
    return tf.reshape(log_px, [k, -1]) + self.prior().log_prob(z) - log_q


def bounds(model, x, k, seed):
  """Per-image ELBO (mean of the ``k`` terms) and IWAE bound (their log-mean-exp).
  On the same draws the IWAE bound is never below the ELBO (Jensen)."""
  w = model.log_weights(x, k, seed)
  return tf.reduce_mean(w, 0), tf.reduce_logsumexp(w, 0) - math.log(k)


def binarized_fashion_mnist():
  """``(train, test)``: float32 ``[N, 784]`` of {0, 1}, pixels above 127 set."""
  from tfgen.data import load_fashion_mnist
  binary = lambda split: (load_fashion_mnist(split)[0].reshape(-1, 784) > 127).astype(
      np.float32)
  return binary("train"), binary("test")


def train(kind, x_train, steps, batch_size=128, lr=1e-3, seed=0, **sizes):
  """A :class:`VAE` (``sizes``: its ``latent``, ``hidden``, ``context``)
  trained for ``steps`` Adam steps on the negative ELBO."""
  tf.random.set_seed(seed)
  model = VAE(kind, data_dims=x_train.shape[1], **sizes)
  optimizer = keras.optimizers.Adam(lr)
  data = iter(tf.data.Dataset.from_tensor_slices(x_train).shuffle(len(x_train), seed=seed)
              .repeat().batch(batch_size))

  @tf.function
  def step(x, seed):
    with tf.GradientTape() as tape:
      loss = -tf.reduce_mean(model.log_weights(x, 1, seed))
    variables = model.trainable_variables
    optimizer.apply_gradients(zip(tape.gradient(loss, variables), variables))
    return loss

  for i in range(steps):
    step(next(data), tf.constant([seed, i]))
  return model


def evaluate(model, x_test, k=64, batch_size=250, seed=1):
  """Mean test ELBO and IWAE(k) bound, nats per image."""
  elbo, iwae = [], []
  for i in range(0, len(x_test), batch_size):
    e, w = bounds(model, x_test[i:i + batch_size], k, tf.constant([seed, i]))
    elbo.append(e.numpy())
    iwae.append(w.numpy())
  return float(np.concatenate(elbo).mean()), float(np.concatenate(iwae).mean())


def main():
  parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
  parser.add_argument("--steps", type=int, default=3000)
  parser.add_argument("--test-images", type=int, default=2000)
  parser.add_argument("--k", type=int, default=64)
  args = parser.parse_args()
  x_train, x_test = binarized_fashion_mnist()
  for kind in KINDS:
    start = time.perf_counter()
    model = train(kind, x_train, args.steps)
    seconds = time.perf_counter() - start
    elbo, iwae = evaluate(model, x_test[:args.test_images], args.k)
    print(f"{kind:9s} test ELBO {elbo:8.2f}  IWAE(k={args.k}) {iwae:8.2f} nats/image  "
          f"({args.steps} steps, {seconds:.0f} s)", flush=True)


if __name__ == "__main__":
  main()

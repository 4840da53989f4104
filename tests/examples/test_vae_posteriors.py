"""examples/vae_posteriors.py: tfgen flows as a VAE's posterior and prior."""

import importlib.util
import pathlib

import numpy as np
import pytest
import tensorflow as tf

PATH = pathlib.Path(__file__).parents[2] / "examples" / "vae_posteriors.py"
_spec = importlib.util.spec_from_file_location("vae_posteriors", PATH)
vae = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(vae)

SIZES = dict(latent=3, hidden=32, context=4)


def _binary(n, seed=0):
  """Rows drawn from 4 fixed binary patterns: the best ELBO is −log 4."""
  rng = np.random.default_rng(seed)
  patterns = (np.random.default_rng(7).random((4, 12)) > 0.5).astype(np.float32)
  return patterns[rng.integers(0, 4, n)]


@pytest.mark.parametrize("kind", vae.KINDS)
def test_bounds_are_ordered_and_the_posterior_scores_its_own_draws(kind):
  x = _binary(64)
  model = vae.VAE(kind, data_dims=12, **SIZES)
  elbo, iwae = vae.bounds(model, x, 8, tf.constant([1, 2]))
  assert elbo.shape == [64] and np.all(np.isfinite(elbo))
  assert np.all(iwae.numpy() >= elbo.numpy() - 1e-4)      # Jensen, on the same draws
  # The one-pass draw's log-density is q's log_prob of the draw (for the IAF
  # the latter inverts the flow, D passes).
  q = model.posterior(x[:4])
  z, log_q = q.experimental_sample_and_log_prob(2, seed=tf.constant([3, 4]))
  assert z.shape == [2, 4, 3]
  np.testing.assert_allclose(log_q, q.log_prob(z), rtol=1e-4, atol=1e-3)


@pytest.mark.slow   # training: CI runs it (pytest -m slow)
@pytest.mark.parametrize("kind", ["iaf"])
def test_training_raises_the_elbo(kind):
  x = _binary(256, seed=1)
  untrained = vae.evaluate(vae.VAE(kind, data_dims=12, **SIZES), x[:128], k=8, batch_size=64)
  model = vae.train(kind, x, 150, batch_size=64, lr=3e-3, **SIZES)
  elbo, iwae = vae.evaluate(model, x[:128], k=8, batch_size=64)
  assert iwae >= elbo > untrained[0] + 2.0, (untrained, elbo, iwae)


def test_bad_kind():
  with pytest.raises(ValueError, match="kind"):
    vae.VAE("flow")

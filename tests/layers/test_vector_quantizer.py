"""VectorQuantizer: nearest codes, the straight-through gradient, the losses,
the EMA codebook update by its formulas, restarts, and replica agreement."""

import json
import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest
import tensorflow as tf

from tfgen.layers import VectorQuantizer


def _vq(**kw):
  vq = VectorQuantizer(**dict(dict(num_codes=8, code_dim=3), **kw))
  vq.build([None, 3])
  return vq


def test_picks_the_nearest_code_and_returns_its_vector():
  vq = _vq()
  f = np.random.default_rng(0).normal(size=(2, 5, 3)).astype(np.float32)
  q, k = vq(f)
  book = vq.codebook.numpy()
  expected = np.argmin(((f[..., None, :] - book) ** 2).sum(-1), -1)
  np.testing.assert_array_equal(k, expected)
  np.testing.assert_allclose(q, book[expected], atol=1e-6)
  np.testing.assert_allclose(vq.lookup(k), q, atol=1e-6)


@pytest.mark.parametrize("ema", [True, False])
def test_straight_through_gradient_and_losses(ema):
  vq = _vq(ema=ema, commitment_cost=0.5)
  f = tf.constant(np.random.default_rng(1).normal(size=(4, 3)).astype(np.float32))
  w = tf.constant(np.random.default_rng(2).normal(size=(4, 3)).astype(np.float32))
  with tf.GradientTape(persistent=True) as tape:
    tape.watch(f)
    q, k = vq(f)
    task = tf.reduce_sum(q * w)
  np.testing.assert_allclose(tape.gradient(task, f), w, rtol=1e-6)   # ∂L/∂f := ∂L/∂z_k
  z = vq.codebook.numpy()[k.numpy()]
  commit = 0.5 * np.mean((f.numpy() - z) ** 2)
  np.testing.assert_allclose(vq.losses[0], commit, rtol=1e-5)
  if ema:
    assert len(vq.losses) == 1 and not vq.trainable_weights
  else:
    np.testing.assert_allclose(vq.losses[1], np.mean((f.numpy() - z) ** 2), rtol=1e-5)
    grad = tape.gradient(vq.losses[1], vq.codebook)
    assert np.abs(tf.convert_to_tensor(grad).numpy()).sum() > 0    # the codebook learns


def test_ema_update_follows_its_formulas_and_only_in_training():
  vq = _vq(decay=0.9, epsilon=1e-5, restart_threshold=0.)
  f = np.random.default_rng(3).normal(size=(6, 3)).astype(np.float32)
  count0, sum0 = vq.ema_count.numpy().copy(), vq.ema_sum.numpy().copy()
  vq(f, training=False)
  np.testing.assert_array_equal(vq.ema_count, count0)        # evaluation changes nothing
  _, k = vq(f, training=True)
  one_hot = np.eye(8)[k.numpy()]
  count = 0.9 * count0 + 0.1 * one_hot.sum(0)
  total = count.sum()
  smoothed = (count + 1e-5) / (total + 8e-5) * total
  ema_sum = 0.9 * sum0 + 0.1 * one_hot.T @ f
  np.testing.assert_allclose(vq.ema_count, count, rtol=1e-5)
  np.testing.assert_allclose(vq.codebook, ema_sum / smoothed[:, None], rtol=1e-4, atol=1e-6)


def test_unused_codes_restart_from_encoder_outputs():
  f = np.random.default_rng(4).normal(loc=5., size=(64, 3)).astype(np.float32)  # far away

  def near_the_data(threshold):
    vq = _vq(decay=0.5, restart_threshold=threshold)
    start = np.random.default_rng(5).normal(scale=0.1, size=(8, 3)).astype(np.float32)
    vq.codebook.assign(start)               # deterministic: codes start near 0
    vq.ema_sum.assign(start)
    for _ in range(8):
      vq(f, training=True)
    # The data sit ~8.7 from the origin: a code within 5 of their mean has moved there.
    distance = np.linalg.norm(vq.codebook.numpy() - f.mean(0), axis=1)
    return int((distance < 5.).sum()), float(vq.statistics(vq(f)[1])["usage"])

  restarted, usage = near_the_data(0.05)
  stuck, stuck_usage = near_the_data(0.)
  assert restarted == 8 and usage > 0.5, (restarted, usage)
  assert stuck < 8 and stuck_usage < usage          # without restarts, codes stay dead


def test_statistics():
  vq = _vq()
  stats = vq.statistics(tf.constant([[0, 0, 1, 1]]))
  np.testing.assert_allclose(stats["usage"], 2 / 8)
  np.testing.assert_allclose(stats["perplexity"], 2., rtol=1e-6)


@pytest.mark.parametrize("kw, match", [
    (dict(num_codes=0), "num_codes"), (dict(code_dim=0), "code_dim"),
    (dict(decay=1.0), "decay"), (dict(epsilon=0), "epsilon"),
    (dict(commitment_cost=float("nan")), "commitment_cost")])
def test_bad_arguments(kw, match):
  with pytest.raises(ValueError, match=match):
    VectorQuantizer(**kw)


def test_wrong_input_width():
  with pytest.raises(ValueError, match="last dimension is 4"):
    VectorQuantizer(num_codes=4, code_dim=3)(tf.zeros([2, 4]))


def test_config_round_trip():
  vq = VectorQuantizer(num_codes=5, code_dim=2, ema=False, name="vq")
  assert VectorQuantizer.from_config(vq.get_config()).get_config() == vq.get_config()


MIRRORED = textwrap.dedent("""
    import json, numpy as np, tensorflow as tf
    cpus = tf.config.list_physical_devices("CPU")
    tf.config.set_logical_device_configuration(cpus[0], [tf.config.LogicalDeviceConfiguration()] * 2)
    from tfgen.layers import VectorQuantizer
    strategy = tf.distribute.MirroredStrategy(["/cpu:0", "/cpu:1"])
    with strategy.scope():
      vq = VectorQuantizer(num_codes=8, code_dim=3, decay=0.5, restart_threshold=0.05)
      vq.build([None, 3])
      start = np.random.default_rng(2).normal(scale=0.5, size=(8, 3)).astype(np.float32)
      vq.codebook.assign(start)           # deterministic start
      vq.ema_sum.assign(start)
    # Replica 0 sees vectors near +3, replica 1 near -3: local statistics would differ.
    x = np.concatenate([np.random.default_rng(0).normal(3., size=(16, 3)),
                        np.random.default_rng(1).normal(-3., size=(16, 3))]).astype(np.float32)
    ds = strategy.experimental_distribute_dataset(tf.data.Dataset.from_tensor_slices(x).batch(32))
    step = tf.function(lambda b: strategy.run(lambda v: vq(v, training=True)[1], args=(b,)))
    for _ in range(5):
      for batch in ds:
        step(batch)
    books = [t.numpy() for t in strategy.experimental_local_results(vq.codebook)]
    print(json.dumps({"same": bool(np.array_equal(books[0], books[1])),
                      "spread": float(np.ptp(books[0][:, 0]))}))
""")


def test_replicas_keep_identical_codebooks():
  run = subprocess.run([sys.executable, "-c", MIRRORED], capture_output=True, text=True,
                       env=dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3"), timeout=300)
  assert run.returncode == 0, run.stderr[-3000:]
  out = json.loads(run.stdout.strip().splitlines()[-1])
  assert out["same"] and out["spread"] > 3.    # codes moved toward both replicas' data

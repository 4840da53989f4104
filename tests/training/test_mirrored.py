"""Training under MirroredStrategy (2 logical CPUs) matches one device, for every family."""

import json
import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest

SCRIPT = textwrap.dedent("""
    import json, numpy as np, tensorflow as tf
    cpus = tf.config.list_physical_devices("CPU")
    tf.config.set_logical_device_configuration(cpus[0], [tf.config.LogicalDeviceConfiguration()] * 2)
    from tfgen._keras import keras
    from tfgen.flows import Glow
    from tfgen.training import default_optimizer

    # Replica 0 gets images of 10s, replica 1 of 200s: per-replica statistics would differ.
    x = np.concatenate([np.full((8, 4, 4, 1), 10, np.uint8), np.full((8, 4, 4, 1), 200, np.uint8)])
    def run(strategy):
      keras.utils.set_random_seed(1)
      with strategy.scope():
        model = Glow((4, 4, 1), levels=1, steps_per_level=2, hidden_channels=8)
        model.compile(default_optimizer(1e-3))
      history = model.fit(tf.data.Dataset.from_tensor_slices(x).batch(16), epochs=2, verbose=0)
      norm = [v for v in model.variables if "l0_s0_actnorm/shift" in v.name][0]
      replicas = [t.numpy().tolist() for t in strategy.experimental_local_results(norm)]
      return {"bpd": history.history["bits_per_dim"], "replicas": replicas}
    from tfgen.autoregressive import PixelCNN, WaveNet
    def run_ar(strategy, build, data):
      keras.utils.set_random_seed(1)
      with strategy.scope():
        model = build()
        model.compile(default_optimizer(1e-3))
      return model.fit(tf.data.Dataset.from_tensor_slices(data).batch(16), epochs=2,
                       verbose=0).history["bits_per_dim"]
    rng = np.random.default_rng(0)
    images = rng.integers(0, 8, size=(32, 5, 5, 1))
    audio = rng.integers(0, 16, size=(32, 40))
    pix = lambda: PixelCNN((5, 5, 1), num_levels=8, filters=8, num_layers=2, gated=True)
    wav = lambda: WaveNet(num_layers_per_stack=3, num_stacks=1, residual_channels=8,
                          dilation_channels=8, skip_channels=8, num_levels=16)
    two = tf.distribute.MirroredStrategy(["/cpu:0", "/cpu:1"])
    one = tf.distribute.get_strategy()
    def run_vq(strategy):
      from tfgen.latent import VQVAE
      keras.utils.set_random_seed(1)
      with strategy.scope():
        model = VQVAE((8, 8, 1), num_codes=8, code_dim=4, hidden_channels=8,
                      num_residual_blocks=1, restart_threshold=0.0)
        model.compile(default_optimizer(1e-3))
      x = np.random.default_rng(0).integers(0, 256, size=(32, 8, 8, 1)).astype(np.uint8)
      h = model.fit(tf.data.Dataset.from_tensor_slices(x).batch(16), epochs=2, verbose=0).history
      book = model.quantizers[0].codebook
      return {"mse": h["mse"], "usage": h["usage"], "perplexity": h["perplexity"],
              "books": [t.numpy().tolist() for t in strategy.experimental_local_results(book)]}
    def run_nonfinite(strategy):
      # Adam at 1e3 meets a non-finite step; every replica undoes the same update.
      keras.utils.set_random_seed(1)
      with strategy.scope():
        model = Glow((4, 4, 1), levels=1, steps_per_level=2, hidden_channels=8)
        model.compile(default_optimizer(1e3))
      seen = []
      class Snap(keras.callbacks.Callback):
        def on_train_begin(self, logs=None):
          self.on_train_batch_end(None)
        def on_train_batch_end(self, batch, logs=None):
          if int(model.nonfinite_steps.numpy()) == 0:
            seen.append([v.numpy() for v in model.trainable_variables])
      data = np.random.default_rng(0).integers(0, 256, size=(64, 4, 4, 1)).astype(np.uint8)
      model.fit(tf.data.Dataset.from_tensor_slices(data).batch(16), epochs=5, verbose=0,
                callbacks=[Snap()])
      locals_ = [strategy.experimental_local_results(v) for v in model.trainable_variables]
      return {"nonfinite": int(model.nonfinite_steps.numpy()), "snapshots": len(seen),
              "replica_gap": max(float(np.max(np.abs(r[0].numpy() - r[-1].numpy())))
                                 for r in locals_),
              "undo_gap": max(float(np.max(np.abs(r[0].numpy() - k)))
                              for r, k in zip(locals_, seen[-2])),
              "finite": bool(np.all(np.isfinite(model.log_prob(data[:16]).numpy())))}
    import sys
    if sys.argv[1] == "nonfinite":
      print(json.dumps(run_nonfinite(two)))
    elif sys.argv[1] == "vqvae":
      print(json.dumps({"one": run_vq(one), "two": run_vq(two)}))
    elif sys.argv[1] == "glow":
      print(json.dumps({"one": run(one), "two": run(two)}))
    else:
      print(json.dumps({"pixelcnn": [run_ar(one, pix, images), run_ar(two, pix, images)],
                        "wavenet": [run_ar(one, wav, audio), run_ar(two, wav, audio)]}))
""")


def _run(which):
  env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3")
  out = subprocess.run([sys.executable, "-c", SCRIPT, which], capture_output=True, text=True,
                       env=env, timeout=300)
  assert out.returncode == 0, out.stderr[-3000:]
  return json.loads(out.stdout.strip().splitlines()[-1])


def test_actnorm_init_is_reduced_across_replicas_and_training_matches_one_device():
  result = _run("glow")
  one, two = result["one"], result["two"]
  assert len(two["replicas"]) == 2
  # Both replicas hold the same statistics, those of the whole global batch.
  assert two["replicas"][0] == two["replicas"][1]
  for a, b in zip(one["replicas"][0], two["replicas"][0]):
    assert abs(a - b) < 1e-2  # per-replica statistics would differ by ~0.7 here
  for a, b in zip(one["bpd"], two["bpd"]):
    assert abs(a - b) < 1e-3 * abs(a)


@pytest.mark.slow  # the train_step Glow checks above (tfgen/base.py); ~40 s of tracing
def test_autoregressive_training_matches_one_device():
  result = _run("ar")
  for family in ("pixelcnn", "wavenet"):
    single, double = result[family]
    for a, b in zip(single, double):
      assert abs(a - b) < 1e-4 * abs(a), (family, single, double)


@pytest.mark.slow  # real data or a fresh process: CI runs it (pytest -m slow)
def test_vqvae_codebooks_and_metrics_match_one_device():
  result = _run("vqvae")
  one, two = result["one"], result["two"]
  assert len(two["books"]) == 2 and two["books"][0] == two["books"][1]  # replicas agree
  np.testing.assert_allclose(one["books"][0], two["books"][0], atol=1e-4)
  for key in ("mse", "usage", "perplexity"):   # usage counts are summed over replicas
    np.testing.assert_allclose(one[key], two[key], rtol=1e-3, err_msg=key)


@pytest.mark.slow  # real data or a fresh process: CI runs it (pytest -m slow)
def test_a_non_finite_step_is_undone_alike_on_every_replica():
  result = _run("nonfinite")
  assert result["nonfinite"] >= 1 and result["snapshots"] >= 2
  assert result["replica_gap"] == 0.
  assert result["undo_gap"] < 2e-4  # one float32 rounding at |w| ~ 1e3 (lr = 1e3)
  assert result["finite"]

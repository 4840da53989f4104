"""CharRNN: exact chain rule, causality, cached = naive sampling, primes,
scheduled sampling (schedule values, fit, tf.distribute), real text, export."""

import json
import math
import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest
import tensorflow as tf

from tests.conftest import fortunes_bits_before_after, run_tensorflow_only
from tfgen import export
from tfgen._keras import keras
from tfgen.autoregressive import CharRNN, ScheduledSampling
from tfgen.training import default_optimizer


def _model(cell="lstm", scale=0.5, **kw):
  kw = dict(dict(num_levels=16, units=8, num_layers=2), **kw)
  model = CharRNN(cell=cell, **kw)
  rng = np.random.default_rng(0)
  for v in model.trainable_variables:
    v.assign(rng.normal(scale=scale, size=v.shape).astype(np.float32))
  return model


@pytest.mark.parametrize("cell", ["lstm", "gru"])
def test_log_prob_is_the_chain_rule_of_one_step_at_a_time(cell):
  model = _model(cell, num_classes=2)
  x = np.random.default_rng(1).integers(0, 16, size=(3, 9))
  condition = [0, 1, 1]
  states = model._initial_states(model._encode_condition(condition, 3), 3)
  token, total = tf.fill([3], model.bos), np.zeros(3)
  for t in range(9):
    logits, states = model._step(token, states)
    total += tf.nn.log_softmax(logits).numpy()[np.arange(3), x[:, t]]
    token = tf.constant(x[:, t], tf.int32)
  np.testing.assert_allclose(model.log_prob(x, condition), total, rtol=1e-5)
  np.testing.assert_allclose(model.conditionals(x, condition).log_prob(x), total, rtol=1e-5)
  np.testing.assert_allclose(model.bits_per_dim(x, condition), -total / (9 * math.log(2)),
                             rtol=1e-5)


@pytest.mark.parametrize("cell", ["lstm", "gru"])
def test_no_conditional_depends_on_the_current_or_a_later_token(cell):
  model = _model(cell)
  x = np.random.default_rng(2).integers(0, 16, size=(1, 8))
  base = model.conditionals(x).distribution.logits.numpy()
  for s in range(8):
    y = x.copy()
    y[0, s] = (y[0, s] + 5) % 16
    changed = np.abs(model.conditionals(y).distribution.logits.numpy() - base).max(-1)[0]
    assert np.all(changed[:s + 1] == 0), (s, changed)       # positions <= s see only x_<t
    if s < 7:
      assert changed[s + 1] > 1e-4                            # and the next one does see x_s


@pytest.mark.parametrize("cell", ["lstm", "gru"])
@pytest.mark.parametrize("conditional", [False, True])
def test_cached_sampling_equals_naive(cell, conditional):
  model = _model(cell, num_classes=3 if conditional else None)
  kw = dict(seed=[3, 4], temperature=0.9, length=14)
  if conditional:
    kw["condition"] = [0, 2]
  cached = model.sample(2, **kw)
  naive = model.sample(2, method="naive", **kw)
  np.testing.assert_array_equal(cached, naive)
  assert cached.dtype == tf.int32 and cached.shape == (2, 14)
  primed = model.sample(2, prime=[5, 6, 7], **kw)
  np.testing.assert_array_equal(primed[:, :3], [[5, 6, 7]] * 2)
  np.testing.assert_array_equal(primed, model.sample(2, prime=[5, 6, 7], method="naive", **kw))


def test_byte_primes_and_bad_primes():
  model = _model(num_levels=256)
  out = model.sample(1, length=6, prime="Q: ", seed=1)
  assert bytes(out.numpy()[0, :3].astype(np.uint8)) == b"Q: "
  assert bytes(model.sample(1, length=4, prime=b"ab", seed=1).numpy()[0, :2]
               .astype(np.uint8)) == b"ab"
  for prime, match in (("", "empty"), ("x" * 7, "longer"), ([300], r"\[0, 255\]"),
                       ([1.5], "whole"), (object(), "prime"), ([[1, 2]], "1-D")):
    with pytest.raises(ValueError, match=match):
      model.sample(1, length=6, prime=prime, seed=1)
  small = _model(num_levels=16)
  with pytest.raises(ValueError, match=r"\[0, 15\]"):
    small.sample(1, length=4, prime="a", seed=1)              # byte 97 is not a code here


@pytest.mark.parametrize("spec, step, expected", [
    (dict(decay="linear", k=1.0, c=0.01), 50, 0.5),
    (dict(decay="linear", k=1.0, c=0.01, minimum=0.2), 500, 0.2),
    (dict(decay="exponential", k=0.99), 100, 0.99 ** 100),
    (dict(decay="inverse_sigmoid", k=10.), 0, 10 / 11),
    (dict(decay="inverse_sigmoid", k=10.), 30, 10 / (10 + math.exp(3))),
])
def test_schedule_values(spec, step, expected):
  np.testing.assert_allclose(float(ScheduledSampling(**spec)(step)), expected, rtol=1e-5)


@pytest.mark.parametrize("bad", [dict(decay="cosine"), dict(decay="exponential", k=1.5),
                                 dict(decay="inverse_sigmoid", k=0.5),
                                 dict(decay="linear", c=-1.)])
def test_bad_schedules(bad):
  with pytest.raises(ValueError):
    ScheduledSampling(**bad)


def test_scheduled_sampling_feeds_the_truth_with_probability_epsilon():
  x = np.random.default_rng(3).integers(0, 16, size=(4, 12))
  truth = _model(scheduled_sampling=dict(decay="linear", k=1.0, c=1e-9))      # ε = 1
  np.testing.assert_allclose(truth.log_prob(x, training=True), truth.log_prob(x), rtol=1e-5)
  own = _model(scheduled_sampling=dict(decay="linear", k=1e-9, c=1e-9))       # ε = 0
  assert np.abs(own.log_prob(x, training=True).numpy() - own.log_prob(x).numpy()).max() > 1e-3
  # Gradients reach every weight through the states and logits.
  with tf.GradientTape() as tape:
    loss = -tf.reduce_mean(own.log_prob(x, training=True))
  grads = tape.gradient(loss, own.trainable_variables)
  assert all(g is not None for g in grads)
  own.compile(default_optimizer(1e-2))
  history = own.fit(x, batch_size=4, epochs=3, verbose=0)
  assert np.all(np.isfinite(history.history["loss"]))


MIRRORED = textwrap.dedent("""
    import json, numpy as np, tensorflow as tf
    cpus = tf.config.list_physical_devices("CPU")
    tf.config.set_logical_device_configuration(cpus[0], [tf.config.LogicalDeviceConfiguration()] * 2)
    from tfgen.autoregressive import CharRNN
    from tfgen.training import default_optimizer
    strategy = tf.distribute.MirroredStrategy(["/cpu:0", "/cpu:1"])
    with strategy.scope():
      model = CharRNN(num_levels=16, units=8, num_layers=1, scheduled_sampling="inverse_sigmoid")
      model.compile(default_optimizer(1e-2))
    x = np.random.default_rng(0).integers(0, 16, size=(16, 10))
    history = model.fit(tf.data.Dataset.from_tensor_slices(x).batch(8), epochs=2, verbose=0)
    head = [v for v in model.variables if "head" in v.name][0]
    replicas = [t.numpy() for t in strategy.experimental_local_results(head)]
    print(json.dumps({"loss": history.history["loss"],
                      "same": bool(np.array_equal(replicas[0], replicas[1]))}))
""")


@pytest.mark.slow  # real data or a fresh process: CI runs it (pytest -m slow)
def test_scheduled_sampling_trains_under_mirrored_strategy():
  env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3")
  run = subprocess.run([sys.executable, "-c", MIRRORED], capture_output=True, text=True,
                       env=env, timeout=300)
  assert run.returncode == 0, run.stderr[-3000:]
  out = json.loads(run.stdout.strip().splitlines()[-1])
  assert out["same"] and all(np.isfinite(out["loss"]))


@pytest.mark.slow  # real data or a fresh process: CI runs it (pytest -m slow)
def test_learns_real_text(fortunes_available):
  keras.utils.set_random_seed(0)
  before, after = fortunes_bits_before_after(CharRNN(units=128, num_layers=1), 5e-3)
  assert before > 7.9 and after < 4.0, (before, after)


def test_export_loads_with_tensorflow_only(tmp_path):
  model = _model(num_levels=256, units=8)
  path = export.save(model, tmp_path / "m")
  script = textwrap.dedent(f"""
      import tensorflow as tf
      m = tf.saved_model.load({path!r})
      x = tf.constant([[72, 105, 33, 10]], tf.int32)
      lp = m.signatures["serving_default"](x=x)["log_prob"].numpy().tolist()
      s = m.signatures["sample"](num_samples=tf.constant(2), seed=tf.constant([1, 2]),
                                 temperature=tf.constant(0.8), length=tf.constant(9),
                                 prime=tf.constant([81, 58], tf.int32))["samples"]
      none = m.signatures["sample"](num_samples=tf.constant(1), seed=tf.constant([1, 2]),
                                    temperature=tf.constant(0.8), length=tf.constant(5),
                                    prime=tf.zeros([0], tf.int32))["samples"]
      result = {{"lp": lp, "s": s.numpy().tolist(), "none": none.numpy().tolist()}}
  """)
  out = run_tensorflow_only(script)
  assert out["mods"] == []
  np.testing.assert_allclose(out["lp"], model.log_prob([[72, 105, 33, 10]]), rtol=1e-5)
  np.testing.assert_array_equal(out["s"], model.sample(2, seed=[1, 2], temperature=0.8, length=9,
                                                       prime=[81, 58]))
  np.testing.assert_array_equal(out["none"], model.sample(1, seed=[1, 2], temperature=0.8,
                                                          length=5))

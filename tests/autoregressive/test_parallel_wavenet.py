"""Parallel WaveNet: the student's causality and log-det by gradients, the
discretised distillation loss against brute force, bad teachers, and
distillation that learns on real speech."""

import numpy as np
import pytest
import tensorflow as tf

from tests.conftest import perturb
from tfgen._keras import keras
from tfgen import audio, data
from tfgen.autoregressive import ParallelWaveNet, WaveNet
from tfgen.training import default_optimizer


def _teacher(**kw):
  return WaveNet(2, 1, 4, 4, 4, num_levels=16, loss_start=2, **kw)


def _student(teacher=None, **kw):
  s = ParallelWaveNet(teacher or _teacher(), flow_layers=[2, 3], channels=4, **kw)
  perturb(s, 0.3)   # zero-initialised heads would hide dependencies
  return s


def test_student_is_causal_and_its_log_det_matches_the_jacobian():
  s = _student()
  z = tf.constant(np.random.default_rng(0).logistic(size=(1, 12)), tf.float32)
  with tf.GradientTape(persistent=True) as tape:
    tape.watch(z)
    x, shift, log_scale = s.transform(z)
  jx = tape.jacobian(x, z).numpy()[0, :, 0]            # [T, T]: d x_t / d z_s
  jm = tape.jacobian(shift, z).numpy()[0, :, 0]
  js = tape.jacobian(log_scale, z).numpy()[0, :, 0]
  upper = np.triu_indices(12, 1)
  assert np.all(jx[upper] == 0)                          # x_t uses z_≤t only
  np.testing.assert_array_equal(np.triu(jm), 0)          # M_t, S_t use z_<t only
  np.testing.assert_array_equal(np.triu(js), 0)
  assert np.any(np.tril(jm, -1) != 0) and np.any(np.tril(js, -1) != 0)
  np.testing.assert_allclose(np.diag(jx), np.exp(log_scale.numpy()[0]), rtol=1e-5)
  sign, logdet = np.linalg.slogdet(jx.astype(np.float64))
  assert sign == 1
  np.testing.assert_allclose(logdet, float(tf.reduce_sum(log_scale)), rtol=1e-4, atol=1e-4)
  # x = z · S + M
  np.testing.assert_allclose(x, z * tf.exp(log_scale) + shift, rtol=1e-5, atol=1e-6)


def test_discretised_loss_matches_brute_force():
  teacher = _teacher()
  perturb(teacher, 0.3)
  s = _student(teacher)
  z = tf.constant(np.random.default_rng(1).logistic(size=(2, 10)), tf.float32)
  kl, cross, x = s.distillation(z)
  _, shift, log_scale = s.transform(z)
  levels = 16
  # Brute force: bin k holds the waveform values that μ-law encodes to k.
  grid = np.linspace(-1, 1, 200001).astype(np.float32)
  codes = audio.mu_law_encode(grid, levels).numpy()
  edges = [grid[np.argmax(codes == k)] for k in range(1, levels)]   # first value of each bin
  cdf = lambda v, m, sc: 1. / (1. + np.exp(-(v - m) / sc))
  t_codes = audio.mu_law_encode(np.clip(x.numpy(), -1, 1), levels)
  log_q = tf.nn.log_softmax(teacher._logits(t_codes, None, None)).numpy().astype(np.float64)
  for b in range(2):
    for t in range(10):
      m, sc = float(shift[b, t]), float(np.exp(log_scale[b, t]))
      c = [0.] + [cdf(e, m, sc) for e in edges] + [1.]
      p = np.diff(np.array(c, np.float64))
      assert abs(p.sum() - 1) < 1e-9
      want_cross = -np.sum(p * log_q[b, t])
      want_kl = np.sum(np.where(p > 0, p * (np.log(np.maximum(p, 1e-300)) - log_q[b, t]), 0))
      np.testing.assert_allclose(cross[b, t], want_cross, rtol=2e-3, atol=2e-3)
      np.testing.assert_allclose(kl[b, t], want_kl, rtol=2e-3, atol=2e-3)
  assert np.all(kl.numpy() >= -1e-5)


def test_sampling_is_one_pass_reproducible_and_conditional():
  s = _student(_teacher(num_classes=3))
  a = s.sample(2, length=50, seed=3, condition=[0, 2])
  assert a.shape == (2, 50) and a.dtype == tf.int32
  assert a.numpy().min() >= 0 and a.numpy().max() < 16
  np.testing.assert_array_equal(a, s.sample(2, length=50, seed=3, condition=[0, 2]))
  assert np.any(a.numpy() != s.sample(2, length=50, seed=3, condition=[1, 1]).numpy())
  w = s.waveform(2, 50, seed=3, condition=[0, 2])
  np.testing.assert_array_equal(audio.mu_law_encode(np.clip(w, -1, 1), 16), a)
  with pytest.raises(ValueError, match="conditional"):
    s.sample(2, length=5, seed=1)


def test_bad_teachers_and_data_are_refused():
  with pytest.raises(ValueError, match="WaveNet"):
    ParallelWaveNet(object())
  with pytest.raises(ValueError, match="local features"):
    ParallelWaveNet(WaveNet(2, 1, 4, 4, 4, num_levels=16, condition_shape=(None, 3),
                            local_upsample=4))
  with pytest.raises(ValueError, match="flow_layers"):
    ParallelWaveNet(_teacher(), flow_layers=[])
  with pytest.raises(ValueError, match="power_weight"):
    ParallelWaveNet(_teacher(), power_weight=-1.)
  speech = data.info("speech")
  with pytest.raises(ValueError, match="16 μ-law levels"):
    ParallelWaveNet.from_dataset(speech, teacher=_teacher())
  wrong_rate = WaveNet(2, 1, 4, 4, 4, num_levels=256, sample_rate=16000)
  with pytest.raises(ValueError, match="16000 Hz"):
    ParallelWaveNet.from_dataset(speech, teacher=wrong_rate)
  with pytest.raises(ValueError, match="audio"):
    ParallelWaveNet.from_dataset(data.info("fortunes"),
                                 teacher=WaveNet(2, 1, 4, 4, 4, num_levels=256))
  s = ParallelWaveNet.from_dataset(speech, teacher=WaveNet(2, 1, 4, 4, 4, sample_rate=8000),
                                   flow_layers=[1], channels=4)
  assert s.sample_rate == 8000 and s.num_levels == 256


def test_config_round_trip_keeps_the_teacher():
  s = _student()
  clone = ParallelWaveNet.from_config(s.get_config())
  clone.set_weights(s.get_weights())
  np.testing.assert_array_equal(clone.sample(1, length=20, seed=1), s.sample(1, length=20, seed=1))
  assert not clone.teacher.trainable and len(clone.trainable_variables) == len(
      s.flows[0].trainable_variables) + len(s.flows[1].trainable_variables)


@pytest.mark.slow
def test_distillation_learns_on_real_speech():
  """A small teacher trained on speech; the student's KL to it falls."""
  keras.utils.set_random_seed(0)
  train = data.load("speech", "train", 8, window=512, repeat=True, seed=0)
  teacher = WaveNet(6, 1, 16, 16, 32, loss_start=63, sample_rate=8000)
  teacher.compile(default_optimizer(3e-3))
  teacher.fit(train, steps_per_epoch=150, epochs=1, verbose=0)
  student = ParallelWaveNet(teacher, flow_layers=[4, 4], channels=16)
  student.compile(default_optimizer(1e-3))
  test = data.load("speech", "test", 8, window=512, take=4)
  before = student.evaluate(test, verbose=0, return_dict=True)
  student.fit(train, steps_per_epoch=200, epochs=1, verbose=0)
  after = student.evaluate(test, verbose=0, return_dict=True)
  assert after["kl"] < 0.7 * before["kl"]
  assert after["loss"] < before["loss"]

import glob

import numpy as np
import pytest
import tensorflow as tf

from tfgen import audio

SPEECH = sorted(glob.glob("/usr/share/asterisk/sounds/en_US_f_Allison/*.wav"))


def test_mu_law_round_trip_is_within_quantisation_error():
  x = np.linspace(-1., 1., 20001).astype(np.float32)
  codes = audio.mu_law_encode(x)
  assert codes.dtype == tf.int32
  assert int(tf.reduce_min(codes)) == 0 and int(tf.reduce_max(codes)) == 255
  y = audio.mu_law_decode(codes).numpy()
  # Within half a code step (1/μ) in the companded domain, where codes are uniform.
  mu = 255.
  compand = lambda v: np.sign(v) * np.log1p(mu * np.abs(v)) / np.log1p(mu)
  assert np.max(np.abs(compand(y) - compand(x))) <= 1. / mu + 1e-5
  assert np.max(np.abs(y - x)) < 0.022   # at |x| = 1 a step is widest: ≈ 2·5.6/255 / 2
  np.testing.assert_array_equal(audio.mu_law_encode(audio.mu_law_decode(np.arange(256))),
                                np.arange(256))


def test_mu_law_matches_the_formula():
  x = np.array([-0.5, 0.0, 0.01, 0.9], np.float32)
  expected = np.sign(x) * np.log1p(255 * np.abs(x)) / np.log(256.)
  np.testing.assert_array_equal(audio.mu_law_encode(x),
                                np.floor((expected + 1) / 2 * 255 + 0.5).astype(int))


@pytest.mark.parametrize("bad", [[0.5, 1.5], [-1.01], [np.nan], [np.inf]])
def test_mu_law_rejects_values_outside_unit_range(bad):
  with pytest.raises(ValueError, match=r"\[-1, 1\]"):
    audio.mu_law_encode(np.array(bad, np.float32))


def test_wav_round_trip_downmix_and_errors(tmp_path):
  t = np.arange(800) / 8000.
  tone = (0.5 * np.sin(2 * np.pi * 440 * t)).astype(np.float32)
  audio.write_wav(tmp_path / "a.wav", tone, 8000)
  back, rate = audio.read_wav(tmp_path / "a.wav")
  assert rate == 8000
  np.testing.assert_allclose(back, tone, atol=1. / 32767)
  stereo = tf.stack([tone, -tone * 0 + 0.25], axis=1)
  tf.io.write_file(str(tmp_path / "s.wav"), tf.audio.encode_wav(stereo, 8000))
  mono, _ = audio.read_wav(tmp_path / "s.wav")
  np.testing.assert_allclose(mono, (tone + 0.25) / 2, atol=1. / 16000)
  (tmp_path / "empty.wav").write_bytes(b"")
  with pytest.raises(ValueError, match="empty"):
    audio.read_wav(tmp_path / "empty.wav")
  (tmp_path / "junk.wav").write_bytes(b"RIFF1234WAVEjunkjunkjunk")
  with pytest.raises(ValueError, match="junk.wav"):
    audio.read_wav(tmp_path / "junk.wav")


def test_resample_keeps_a_tone():
  t = np.arange(16000) / 16000.
  x = np.sin(2 * np.pi * 300 * t)
  y = audio.resample(x, 16000, 8000)
  assert len(y) == 8000
  expected = np.sin(2 * np.pi * 300 * np.arange(8000) / 8000.)
  np.testing.assert_allclose(y[100:-100], expected[100:-100], atol=1e-3)
  with pytest.raises(ValueError, match="rates"):
    audio.resample(x, 0, 8000)


@pytest.mark.skipif(not SPEECH, reason="asterisk-core-sounds-en-wav not installed")
def test_real_speech_files_read():
  x, rate = audio.read_wav(SPEECH[0])
  assert rate == 8000 and x.shape[0] > 1000 and float(tf.reduce_max(tf.abs(x))) <= 1.

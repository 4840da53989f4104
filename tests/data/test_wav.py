import numpy as np
import pytest
import tensorflow as tf

from tfgen import audio
from tfgen import data
from tfgen.data import load_wav_folder
from tfgen.data.wav import ASTERISK_DIR


def _tone(path, rate, seconds=0.5, channels=1):
  t = np.arange(int(rate * seconds)) / rate
  x = (0.3 * np.sin(2 * np.pi * 200 * t)).astype(np.float32)
  tf.io.write_file(str(path), tf.audio.encode_wav(np.stack([x] * channels, 1), rate))


def test_folder_resamples_downmixes_and_windows(tmp_path):
  _tone(tmp_path / "a.wav", 16000)
  _tone(tmp_path / "b.wav", 8000, channels=2)
  _tone(tmp_path / "short.wav", 8000, seconds=0.01)
  clips = load_wav_folder(tmp_path, sample_rate=8000, min_samples=1000)
  assert sorted(len(c) for c in clips) == [4000, 4000]   # short.wav left out
  batch = next(iter(data.load("wav", "train", 4, data_dir=tmp_path, window=1000, seed=0)))
  assert batch.shape == (4, 1000) and batch.dtype == tf.int32
  decoded = audio.mu_law_decode(batch).numpy()
  assert 0.25 < np.abs(decoded).max() < 0.35              # the 0.3-amplitude tone survives


def test_bad_files_are_all_reported_before_training(tmp_path):
  _tone(tmp_path / "good.wav", 8000)
  (tmp_path / "empty.wav").write_bytes(b"")
  (tmp_path / "corrupt.wav").write_bytes(b"RIFF\x00\x00\x00\x00WAVEnope")
  with pytest.raises(ValueError, match="2 of 3") as e:
    load_wav_folder(tmp_path)
  assert "empty.wav" in str(e.value) and "corrupt.wav" in str(e.value)
  with pytest.raises(FileNotFoundError, match="No .wav"):
    load_wav_folder(tmp_path / "nothing")


def test_real_speech_corpus_when_installed():
  try:
    batch = next(iter(data.load("speech", "train", 2, window=2048, seed=0)))
  except FileNotFoundError:
    pytest.skip("asterisk-core-sounds-en-wav not installed")
  assert batch.shape == (2, 2048)
  assert len(np.unique(batch.numpy())) > 30  # real speech, not silence

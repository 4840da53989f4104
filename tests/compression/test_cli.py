"""``tfgen compress`` / ``tfgen decompress`` end to end: text, images and WAV,
through a run and through its export, with the failure modes a user of
``xz`` would try."""

import gzip
import os

import numpy as np
import pytest
import tensorflow as tf

from tfgen import audio
from tests.data.test_catalog import _mnist_dir
from tests.data.test_wav import _tone
from tests.test_cli import _run


@pytest.fixture(autouse=True)
def _cwd(tmp_path, monkeypatch):
  monkeypatch.chdir(tmp_path)


def _train(capsys, out, *argv):
  code, _, err = _run(["train", *argv, "--epochs", 1, "--steps-per-epoch", 3, "--batch-size",
                       4, "--validation-steps", 1, "--out", out, "--verbose", 0], capsys)
  assert code == 0, err


@pytest.fixture
def text_run(tmp_path, capsys):
  (tmp_path / "train.txt").write_text("the quick brown fox jumps over the lazy dog. " * 100)
  _train(capsys, tmp_path / "run", "char_rnn", "--units", 16, "--num-layers", 1, "--data",
         "text", "--data-dir", tmp_path / "train.txt", "--window", 32)
  return tmp_path / "run"


def test_text_round_trips_through_the_run_and_its_export(text_run, tmp_path, capsys):
  a = tmp_path / "a.txt"
  a.write_bytes(b"the lazy dog jumps over the quick brown fox.\n" * 3 + b"\xff\x00 bytes")
  b = tmp_path / "b.bin"
  b.write_bytes(b"x")
  before = {p: (p.read_bytes(), p.stat().st_mtime_ns) for p in (a, b)}
  code, out, err = _run(["compress", text_run, a, b, "--out", "t.tfga"], capsys)
  assert code == 0, err
  assert "bits/byte" in out
  assert {p: (p.read_bytes(), p.stat().st_mtime_ns) for p in (a, b)} == before  # untouched
  # A model that learned the text codes its own kind of text below 8 bits a byte.
  assert os.path.getsize("t.tfga") < len(before[a][0]) + 1 + 2000
  code, _, err = _run(["export", text_run, "--to", tmp_path / "served"], capsys)
  assert code == 0, err
  code, out, err = _run(["decompress", tmp_path / "served", "t.tfga", "--to", "back"], capsys)
  assert code == 0, err
  assert (tmp_path / "back" / "a.txt").read_bytes() == before[a][0]
  assert (tmp_path / "back" / "b.bin").read_bytes() == b"x"

  # What xz users expect: no overwrite without --force, and the error is one line.
  code, _, err = _run(["compress", text_run, a, "--out", "t.tfga"], capsys)
  assert code == 2 and "--force" in err
  code, _, err = _run(["decompress", text_run, "t.tfga", "--to", "back"], capsys)
  assert code == 2 and "exists" in err
  code, _, err = _run(["compress", text_run, a, "--out", "t.tfga", "--force"], capsys)
  assert code == 0, err
  code, _, err = _run(["compress", text_run, a, "--out", a], capsys)
  assert code == 2 and "one of the inputs" in err
  code, _, err = _run(["compress", text_run, tmp_path / "missing.txt", "--out", "m.tfga"],
                      capsys)
  assert code == 2 and "no file" in err and not os.path.exists("m.tfga")
  (tmp_path / "empty.txt").write_bytes(b"")
  code, _, err = _run(["compress", text_run, tmp_path / "empty.txt", "--out", "e.tfga"], capsys)
  assert code == 2 and "empty" in err and not os.path.exists("e.tfga")

  # Damaged archives and another model: exit 2, nothing written.
  data = (tmp_path / "t.tfga").read_bytes()
  (tmp_path / "cut.tfga").write_bytes(data[:len(data) // 2])
  flipped = bytearray(data)
  flipped[len(data) // 2] ^= 1
  (tmp_path / "flip.tfga").write_bytes(bytes(flipped))
  for name, message in [("cut.tfga", "truncated or corrupted"),
                        ("flip.tfga", "truncated or corrupted"), ("missing.tfga", "cannot read")]:
    code, _, err = _run(["decompress", text_run, name, "--to", "never"], capsys)
    assert code == 2 and message in err, err
    assert len(err.strip().splitlines()) == 1
  assert not os.path.exists("never")
  _train(capsys, tmp_path / "other", "char_rnn", "--units", 8, "--num-layers", 1, "--data",
         "text", "--data-dir", tmp_path / "train.txt", "--window", 32)
  code, _, err = _run(["decompress", tmp_path / "other", "t.tfga", "--to", "never"], capsys)
  assert code == 2 and "another model" in err and not os.path.exists("never")


def test_images_from_folders_and_idx_files(tmp_path, capsys):
  (tmp_path / "mnist").mkdir()
  _mnist_dir(tmp_path / "mnist", n=40)
  _train(capsys, tmp_path / "run", "gated_pixelcnn", "--filters", 6, "--num-layers", 2,
         "--data", "fashion_mnist", "--data-dir", tmp_path / "mnist")
  images = np.random.default_rng(0).integers(0, 256, (3, 28, 28, 1)).astype(np.uint8)
  (tmp_path / "pngs" / "deep").mkdir(parents=True)
  for i, name in enumerate(["a.png", "deep/b.png", "c.bmp"]):
    encode = tf.io.encode_png if name.endswith(".png") else _bmp
    tf.io.write_file(str(tmp_path / "pngs" / name), encode(images[i]))
  idx = tmp_path / "mnist" / "t10k-images-idx3-ubyte.gz"
  code, out, err = _run(["compress", tmp_path / "run", tmp_path / "pngs", idx, "--out",
                         "i.tfga"], capsys)
  assert code == 0, err
  code, _, err = _run(["decompress", tmp_path / "run", "i.tfga", "--to", "out"], capsys)
  assert code == 0, err
  for i, name in enumerate(["a.png", "deep/b.png", "c.png"]):
    back = tf.io.decode_png(tf.io.read_file(str(tmp_path / "out" / "pngs" / name))).numpy()
    assert np.array_equal(back, images[i]), name
  with gzip.open(idx) as f:
    assert (tmp_path / "out" / "t10k-images-idx3-ubyte").read_bytes() == f.read()
  # Lossless coding converts nothing: another size or colour is refused.
  tf.io.write_file(str(tmp_path / "rgb.png"), tf.io.encode_png(np.zeros((28, 28, 3), np.uint8)))
  tf.io.write_file(str(tmp_path / "big.png"), tf.io.encode_png(np.zeros((32, 32, 1), np.uint8)))
  (tmp_path / "junk.png").write_bytes(b"not a png")
  for name, message in [("rgb.png", "[28, 28, 3]"), ("big.png", "resizes nothing"),
                        ("junk.png", "not a readable image")]:
    code, _, err = _run(["compress", tmp_path / "run", tmp_path / name, "--out", "x.tfga"],
                        capsys)
    assert code == 2 and message in err, err
  assert not os.path.exists("x.tfga")
  # A flow (the shipped Glow, rebuilt from its export) says why it cannot.
  glow = os.path.join(os.path.dirname(__file__), "..", "..", "saved_models", "fashion_mnist_glow")
  code, _, err = _run(["compress", glow, idx, "--out", "x.tfga"], capsys)
  assert code == 2 and "bits-back" in err and not os.path.exists("x.tfga")


def _bmp(image):
  """A minimal 8-bit grayscale BMP (TF decodes BMP but does not encode it)."""
  h, w = image.shape[:2]
  row = (w + 3) // 4 * 4
  pixels = b"".join(bytes(image[i, :, 0]) + b"\0" * (row - w) for i in range(h - 1, -1, -1))
  palette = b"".join(bytes([v, v, v, 0]) for v in range(256))
  offset = 14 + 40 + len(palette)
  header = b"BM" + (offset + len(pixels)).to_bytes(4, "little") + b"\0" * 4 \
      + offset.to_bytes(4, "little")
  info = (40).to_bytes(4, "little") + w.to_bytes(4, "little") + h.to_bytes(4, "little") \
      + (1).to_bytes(2, "little") + (8).to_bytes(2, "little") + b"\0" * 4 \
      + len(pixels).to_bytes(4, "little") + b"\0" * 8 + (256).to_bytes(4, "little") \
      + b"\0" * 4
  return header + info + palette + pixels


def test_wav_is_lossless_on_the_mu_law_signal(tmp_path, capsys):
  (tmp_path / "wavs").mkdir()
  for i in range(6):
    _tone(tmp_path / "wavs" / f"{i}.wav", 8000, seconds=0.3)
  _train(capsys, tmp_path / "run", "wavenet", "--layers-per-stack", 3, "--stacks", 1,
         "--channels", 8, "--skip-channels", 8, "--data", "wav", "--data-dir",
         tmp_path / "wavs", "--window", 128, "--no-export")
  _tone(tmp_path / "in.wav", 16000, seconds=0.2)     # another rate: resampled to 8 kHz
  code, out, err = _run(["compress", tmp_path / "run", tmp_path / "in.wav", "--out", "w.tfga"],
                        capsys)
  assert code == 0, err
  assert "not on the original" in out
  code, _, err = _run(["decompress", tmp_path / "run", "w.tfga", "--to", "out"], capsys)
  assert code == 0, err
  samples, rate = audio.read_wav(tmp_path / "in.wav")
  codes = audio.mu_law_encode(audio.resample(samples.numpy(), rate, 8000)).numpy()
  back, back_rate = audio.read_wav(tmp_path / "out" / "in.wav")
  assert back_rate == 8000 and len(back) == len(codes) == 1600
  assert np.array_equal(audio.mu_law_encode(back).numpy(), codes)

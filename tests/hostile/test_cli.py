"""Hostile command lines, files and folders: each row gets one line on stderr
and exit status 2 (a user's mistake), never a traceback; nothing on disk is
lost or half-written."""

import gzip
import json
import os
import shutil

import numpy as np
import pytest

from tests.data.test_catalog import _mnist_dir
from tests.data.test_fashion import _write_idx
from tests.test_cli import _run

TINY = ["glow", "--levels", "1", "--steps-per-level", "1", "--hidden-channels", "4"]


@pytest.fixture(autouse=True)
def _in_a_fresh_folder(tmp_path, monkeypatch):
  (tmp_path / "cwd").mkdir()
  monkeypatch.chdir(tmp_path / "cwd")


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
  """A finished tiny Glow run on synthetic MNIST-style files (copied per test)."""
  root = tmp_path_factory.mktemp("trained")
  (root / "mnist").mkdir()
  _mnist_dir(root / "mnist", n=24)
  run = root / "run"
  from tfgen import cli
  code = cli.main(["train", *TINY, "--data", "mnist", "--data-dir", str(root / "mnist"),
                   "--epochs", "1", "--steps-per-epoch", "2", "--batch-size", "8",
                   "--validation-steps", "1", "--out", str(run), "--verbose", "0"])
  assert code == 0
  return root


@pytest.fixture
def run(trained, tmp_path):
  shutil.copytree(trained / "run", tmp_path / "run")
  return tmp_path / "run"


def _assert_one_line_exit_2(argv, capsys, match):
  code, _, err = _run(argv, capsys)
  assert code == 2, err
  assert match in err, err
  assert "Traceback" not in err and len(err.strip().splitlines()) == 1, err


@pytest.mark.parametrize("argv, match", [
    (["train", "--batch-size", "1000000000000"], "expected at most 65536"),
    (["train", "--batch-size", "100000000"], "expected at most 65536"),
    (["train", "--window", "0"], "expected a positive integer"),
    (["train", "--window", "1000000000"], "expected at most"),
    (["train", "--resume", "--overwrite"], "exclude each other"),
    (["train", "--steps-per-epoch", "1e3"], "expected a positive integer"),
    (["train", "--lr", "-1"], "expected a positive number"),
    (["train", "--lr", "inf"], "expected a positive number"),
    (["train", "glow", "--levels", "abc"], "--levels: bad value 'abc'"),
    (["train", "made", "--hidden-units", "8,-2"], "sizes must be positive"),
    (["sample", "/nonexistent", "--n", "100000"], "expected at most 4096"),
    (["sample", "/nonexistent", "--temperature", "nan"], "expected a positive number"),
    (["sample", "/nonexistent", "--length", "10000000000"], "expected at most"),
    (["export", "/nonexistent", "--to", "x", "--version", "0"], "expected a positive integer"),
    # Windows the model cannot take: user mistakes (they were internal errors).
    (["train", "transformer", "--window", "64", "--context-length", "32"],
     "--window 64: `x`: sequences are at most context_length=32"),
    (["train", "wavenet", "--window", "4", "--layers-per-stack", "3", "--stacks", "1"],
     "--window 4: `x` must be longer than loss_start=8"),
])
def test_bad_flags(argv, match, capsys):
  _assert_one_line_exit_2(argv, capsys, match)


def test_filesystem_mistakes(run, tmp_path, capsys):
  (tmp_path / "file").write_text("x")
  _assert_one_line_exit_2(["export", run, "--to", tmp_path / "file"], capsys, "is a file")
  _assert_one_line_exit_2(["export", run, "--to", tmp_path / "file" / "sub"], capsys, "Cannot create")
  _assert_one_line_exit_2(["export", run, "--to", ""], capsys, "must name a folder")
  _assert_one_line_exit_2(["export", run, "--to", tmp_path / "s", "--version",
                    "99999999999999999999"], capsys, "below 2**63")
  _assert_one_line_exit_2(["train", *TINY, "--out", tmp_path / "file" / "run"], capsys, "which is a file")
  _assert_one_line_exit_2(["train", *TINY, "--out", tmp_path / "file"], capsys, "is a file")
  if os.getuid() != 0:  # root writes anywhere
    locked = tmp_path / "locked"
    locked.mkdir(mode=0o500)
    _assert_one_line_exit_2(["export", run, "--to", locked / "m"], capsys, "Cannot create")


def test_sample_length_beyond_the_bound(tmp_path, capsys):
  from tests.data.test_wav import _tone
  (tmp_path / "wavs").mkdir()
  for i in range(3):
    _tone(tmp_path / "wavs" / f"{i}.wav", 8000, seconds=0.2)
  run = tmp_path / "w"
  code, _, err = _run(["train", "wavenet", "--layers-per-stack", 2, "--stacks", 1, "--channels",
                       4, "--skip-channels", 4, "--data", "wav", "--data-dir", tmp_path / "wavs",
                       "--window", 64, "--epochs", 1, "--steps-per-epoch", 1, "--batch-size", 2,
                       "--validation-steps", 1, "--no-export", "--out", run, "--verbose", 0],
                      capsys)
  assert code == 0, err
  _assert_one_line_exit_2(["sample", run, "--seconds", "1e9"], capsys, "at most 1000000 steps")


def test_damaged_weights_and_backups(run, capsys):
  data = next((run / "checkpoint").glob("weights.data-*"))
  data.write_bytes(data.read_bytes()[:100])
  for command in (["sample", run], ["evaluate", run], ["export", run, "--to", run / "s"]):
    _assert_one_line_exit_2(command, capsys, "cannot be read")


@pytest.mark.parametrize("damage", ["truncate-data", "delete-index"])
def test_resume_from_a_damaged_backup_names_it(run, capsys, damage):
  backup = run / "backup"
  files = sorted(p for p in backup.rglob("*") if p.is_file())
  if damage == "truncate-data":
    target = next(p for p in files if ".data-" in p.name)
    target.write_bytes(target.read_bytes()[:50])
  else:
    next(p for p in files if p.name.endswith(".index")).unlink()
  config = json.loads((run / "config.json").read_text())
  _assert_one_line_exit_2(["train", *TINY, "--data", "mnist", "--data-dir", config["data_dir"],
                    "--epochs", "2", "--resume", "--out", run], capsys, "backup")


def test_a_run_with_different_sizes_does_not_resume(run, capsys):
  _assert_one_line_exit_2(["train", "glow", "--levels", "1", "--steps-per-level", "2", "--resume",
                    "--out", run], capsys, "steps_per_level cannot change")


@pytest.mark.parametrize("what", ["truncated gz", "not gzip", "no images", "float images",
                                  "label 200"])
def test_bad_idx_files_for_evaluate(run, tmp_path, capsys, what):
  folder = tmp_path / "idx"
  folder.mkdir()
  _mnist_dir(folder, n=8)
  images = folder / "t10k-images-idx3-ubyte.gz"
  labels = folder / "t10k-labels-idx1-ubyte.gz"
  if what == "truncated gz":
    images.write_bytes(images.read_bytes()[:-40])
  elif what == "not gzip":
    images.write_bytes(b"this is not gzip at all")
  elif what == "no images":
    _write_idx(images, np.zeros((0, 28, 28), np.uint8))
    _write_idx(labels, np.zeros((0,), np.uint8))
  elif what == "float images":
    header = bytes([0, 0, 0x0D, 3]) + b"".join(int(d).to_bytes(4, "big") for d in (8, 28, 28))
    with gzip.open(images, "wb") as f:
      f.write(header + np.zeros((8, 28, 28), ">f4").tobytes())
  else:
    _write_idx(labels, np.full((8,), 200, np.uint8))
  _assert_one_line_exit_2(["evaluate", run, "--data-dir", folder], capsys,
                   "t10k" if what != "float images" else "unsigned bytes")


def test_a_run_that_met_a_non_finite_step_ships_nothing(tmp_path, capsys):
  folder = tmp_path / "mnist"
  folder.mkdir()
  _mnist_dir(folder, n=40)
  run = tmp_path / "bad"
  code, _, err = _run(["train", "glow", "--levels", "1", "--steps-per-level", "1",
                       "--hidden-channels", "8", "--data", "mnist", "--data-dir", folder,
                       "--epochs", "2", "--steps-per-epoch", "20", "--batch-size", "8",
                       "--lr", "1000", "--validation-steps", "1", "--out", run, "--verbose", "0"],
                      capsys)
  assert code == 1 and "non-finite" in err
  config = json.loads((run / "config.json").read_text())
  assert config["status"] == "stopped on a non-finite step"
  assert not (run / "saved_model").exists()
  assert np.isfinite(config["test"]["bits_per_dim"])          # last good weights, not NaN
  _assert_one_line_exit_2(["export", run, "--to", tmp_path / "s"], capsys, "--force")
  assert not (tmp_path / "s").exists()
  code, out, err = _run(["export", run, "--to", tmp_path / "s", "--force"], capsys)
  assert code == 0 and (tmp_path / "s" / "1").exists(), err


def test_damaged_and_foreign_exports(run, capsys):
  served = run / "saved_model"                       # the export `tfgen train` wrote
  meta = served / "1" / "assets.extra" / "tfgen.json"
  assert json.loads(meta.read_text())["model"] == "glow"
  _assert_one_line_exit_2(["sample", served, "--prime", "ab"], capsys,
                          "the glow export takes no prime")
  _assert_one_line_exit_2(["export", served, "--to", run / "again"], capsys, "already an export")
  meta.write_text("{broken")
  _assert_one_line_exit_2(["sample", served], capsys, "not readable tfgen metadata")
  meta.unlink()
  _assert_one_line_exit_2(["evaluate", served / "1"], capsys, "without tfgen's metadata")
  meta.write_text(json.dumps({"model": "glow", "data": "mnist"}))
  (served / "1" / "saved_model.pb").write_bytes(b"\x00garbage")
  _assert_one_line_exit_2(["sample", served], capsys, "cannot be loaded")
  (served / "7").mkdir()                              # a version folder with no SavedModel
  _assert_one_line_exit_2(["sample", served / "7"], capsys, "neither a tfgen run")

"""Hostile user data: image folders and tables, through the API and the CLI."""

import os
import struct
import time

import numpy as np
import pytest
import tensorflow as tf

from tests.test_cli import _run
from tfgen import data
from tfgen.data import image_folder


def _png_bytes(h=4, w=4):
  return tf.io.encode_png(np.full([h, w, 1], 9, np.uint8)).numpy()


def _folder(tmp_path, n=12):
  root = tmp_path / "imgs"
  root.mkdir()
  for i in range(n):
    (root / f"{i:02d}.png").write_bytes(_png_bytes())
  return root


def test_unreadable_and_truncated_files_are_skipped_counted_and_printed(tmp_path, capsys):
  root = _folder(tmp_path)
  (root / "truncated.png").write_bytes(_png_bytes()[:30])
  (root / "text.jpg").write_bytes(b"hello, not a jpeg")
  found = image_folder.read_folder(root)
  assert len(found.images) == 12 and len(found.skipped) == 2
  assert {os.path.basename(p) for p, _ in found.skipped} == {"truncated.png", "text.jpg"}
  code, out, err = _run(["train", "made", "--data", "images", "--data-dir", root,
                         "--hidden-units", "8", "--epochs", "1", "--steps-per-epoch", "1",
                         "--batch-size", "4", "--out", tmp_path / "run", "--verbose", "0",
                         "--no-export"], capsys)
  assert code == 0, err
  assert "skipped 2 unreadable image file(s)" in err and "--strict" in err
  code, _, err = _run(["train", "made", "--data", "images", "--data-dir", root, "--strict",
                       "--out", tmp_path / "strict"], capsys)
  assert code == 2 and len(err.strip().splitlines()) == 1
  assert "text.jpg" in err or "truncated.png" in err
  assert not (tmp_path / "strict").exists()


def test_a_decompression_bomb_is_refused_before_it_is_decoded(tmp_path):
  root = _folder(tmp_path)
  bomb = bytearray(_png_bytes())
  bomb[16:24] = struct.pack(">II", 20000, 20000)     # the header claims 20000x20000
  (root / "bomb.png").write_bytes(bytes(bomb))
  start = time.perf_counter()
  found = image_folder.read_folder(root)
  assert time.perf_counter() - start < 5
  assert [r for p, r in found.skipped if p.endswith("bomb.png")] == [
      f"declares 20000x20000 pixels (at most {image_folder.MAX_PIXELS:,})"]
  with pytest.raises(ValueError, match="bomb.png: declares 20000x20000"):
    image_folder.read_folder(root, strict=True)


def test_empty_folders_and_bad_options_are_one_line(tmp_path, capsys):
  (tmp_path / "empty").mkdir()
  (tmp_path / "docs").mkdir()
  (tmp_path / "docs" / "readme.txt").write_text("no images here")
  for folder in ("empty", "docs"):
    code, _, err = _run(["train", "glow", "--data", "images", "--data-dir", tmp_path / folder,
                         "--out", tmp_path / "r"], capsys)
    assert code == 2 and "holds no images" in err and len(err.strip().splitlines()) == 1
  root = _folder(tmp_path)
  for flags, match in ((["--image-size", "0x4"], "image_size"),
                       (["--image-size", "big"], "image_size"),
                       (["--bits", "9"], "invalid choice")):
    code, _, err = _run(["train", "glow", "--data", "images", "--data-dir", root, "--out",
                         tmp_path / "r"] + flags, capsys)
    assert code == 2 and match in err, err
  code, _, err = _run(["train", "glow", "--image-size", "8x8", "--out", tmp_path / "r"], capsys)
  assert code == 2 and "apply to image folders" in err
  with pytest.raises(ValueError, match="no labels"):
    data.load("images", data_dir=root, labels=True)
  assert not (tmp_path / "r").exists()


def test_bad_tables_through_the_cli_are_one_line(tmp_path, capsys):
  cases = {"nan.csv": ("a,b\n1,2\n3,nan\n4,5\n", "line 3, column 'b'"),
           "text.csv": ("a,b\n1,2\n3,x\n4,5\n", "'x' is not a number"),
           "ragged.csv": ("a,b\n1,2\n3\n4,5\n", "ragged"),
           "constant.csv": ("a,b\n1,2\n1,3\n1,5\n", "column 'a' is constant")}
  for name, (content, match) in cases.items():
    (tmp_path / name).write_text(content)
    code, _, err = _run(["train", "maf", "--data", "table", "--data-dir", tmp_path / name,
                         "--out", tmp_path / "r"], capsys)
    assert code == 2 and match in err and len(err.strip().splitlines()) == 1, (name, err)
  code, _, err = _run(["train", "maf", "--data", "table", "--out", tmp_path / "r"], capsys)
  assert code == 2 and "needs --data-dir" in err
  code, _, err = _run(["train", "maf", "--columns", "a", "--out", tmp_path / "r"], capsys)
  assert code == 2 and "columns of a table" in err
  assert not (tmp_path / "r").exists()

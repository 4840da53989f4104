"""Tables: .csv / .npy / .npz files (tfgen.data.table) through data.load and the CLI."""

import csv

import numpy as np
import pytest
import tensorflow as tf

from tfgen import data
from tfgen.data import table


def _csv(path, header, rows):
  with open(path, "w", newline="") as f:
    w = csv.writer(f)
    w.writerow(header)
    w.writerows(rows)
  return path


def _cancer_csv(tmp_path):
  from sklearn.datasets import load_breast_cancer
  d = load_breast_cancer()
  names = [n.replace(" ", "_") for n in d.feature_names]
  return _csv(tmp_path / "cancer.csv", names, d.data.tolist()), d.data, names


def test_csv_npy_and_npz_read_the_same_table(tmp_path):
  path, values, names = _cancer_csv(tmp_path)
  got = table.read_table(path)
  np.testing.assert_allclose(got.values, values)
  assert got.columns == tuple(names) and got.num_levels is None
  np.save(tmp_path / "t.npy", values)
  np.savez(tmp_path / "t.npz", data=values, other=np.zeros(3))
  for p in ("t.npy", "t.npz"):
    other = table.read_table(tmp_path / p)
    np.testing.assert_allclose(other.values, values)
    assert other.columns[:2] == ("c0", "c1")
  chosen = table.read_table(path, columns="mean_area,mean_radius")
  np.testing.assert_allclose(chosen.values, values[:, [3, 0]])
  assert chosen.columns == ("mean_area", "mean_radius")


def test_small_integer_columns_are_discrete(tmp_path):
  from sklearn.datasets import load_digits
  path = tmp_path / "digits.npy"
  np.save(path, load_digits().data[:, 8:16].astype(np.int64))   # 17 levels, 0..16
  spec = data.info("table", path)
  assert spec.shape == (8,) and spec.num_levels == 17 and spec.kind == "table"
  batch = next(iter(data.load("table", "train", 32, data_dir=path)))
  assert batch.dtype == tf.uint8 and batch.shape == [32, 8]


def test_the_split_is_stable_when_rows_are_added():
  test_100 = set(table.split_rows(100, "test"))
  test_150 = set(table.split_rows(150, "test"))
  assert test_100 <= test_150 and set(table.split_rows(100, "train")).isdisjoint(test_100)
  assert 0.04 < len(test_150) / 150 < 0.2


def test_load_gives_float_rows_and_the_split_covers_every_row(tmp_path):
  path, values, _ = _cancer_csv(tmp_path)
  train = np.concatenate([b.numpy() for b in data.load("table", "train", 100, data_dir=path,
                                                       shuffle=False)])
  test = np.concatenate([b.numpy() for b in data.load("table", "test", 100, data_dir=path)])
  assert train.dtype == np.float32 and len(train) + len(test) == len(values)
  np.testing.assert_allclose(np.sort(np.concatenate([train, test])[:, 0]),
                             np.sort(values[:, 0]).astype(np.float32))


def test_the_cli_trains_samples_and_evaluates_a_table(tmp_path, capsys):
  from tests.test_cli import _run
  path, _, _ = _cancer_csv(tmp_path)
  out = tmp_path / "run"
  code, stdout, err = _run(["train", "maf", "--data", "table", "--data-dir", path,
                            "--columns", "mean_radius,mean_area,mean_texture", "--epochs", "1",
                            "--steps-per-epoch", "5", "--num-bijectors", "1", "--hidden-units",
                            "8", "--out", out, "--verbose", "0", "--no-export"], capsys)
  assert code == 0, err
  assert "nats per row" in stdout
  code, _, err = _run(["sample", out, "--n", "4", "--out", tmp_path / "s.csv"], capsys)
  rows = list(csv.reader(open(tmp_path / "s.csv")))
  assert code == 0 and rows[0] == ["mean_radius", "mean_area", "mean_texture"] and len(rows) == 5
  code, stdout, _ = _run(["evaluate", out], capsys)
  assert code == 0 and "nats per row" in stdout
  code, _, err = _run(["train", "glow", "--data", "table", "--data-dir", path, "--out",
                       tmp_path / "g"], capsys)
  assert code == 2 and "models image data" in err


@pytest.mark.slow   # real-data learning through the CLI: CI runs it (pytest -m slow)
def test_maf_and_realnvp_beat_a_diagonal_gaussian_on_held_out_rows(tmp_path, capsys):
  from tests.test_cli import _run
  from tfgen import runs
  path, _, _ = _cancer_csv(tmp_path)
  train = table.read_table(path).values[table.split_rows(569, "train")]
  test = table.read_table(path).values[table.split_rows(569, "test")]
  mean, std = train.mean(0), train.std(0)
  gaussian = float(np.mean(np.sum(0.5 * ((test - mean) / std) ** 2 + np.log(std)
                                  + 0.5 * np.log(2 * np.pi), 1)))
  for family, sizes in (("maf", ["--num-bijectors", "3", "--hidden-units", "64"]),
                        ("realnvp", ["--hidden-channels", "64"])):
    out = tmp_path / family
    code, stdout, err = _run(["train", family, "--data", "table", "--data-dir", path,
                              "--epochs", "3", "--steps-per-epoch", "100", "--out", out,
                              "--verbose", "0"] + sizes, capsys)
    assert code == 0, err
    nll = runs.RunFolder(out).read_config()["test"]["loss"]
    assert nll < gaussian - 5, (family, nll, gaussian)     # nats per row, held out
    assert "nats per row" in stdout
    code, stdout, err = _run(["sample", out, "--n", "7", "--out", tmp_path / "s.csv"], capsys)
    assert code == 0, err
    rows = list(csv.reader(open(tmp_path / "s.csv")))
    assert rows[0][0] == "mean_radius" and len(rows) == 8 and len(rows[1]) == 30
    assert all(np.isfinite(float(c)) for c in rows[1])


@pytest.mark.parametrize("content, match", [
    ("a,b\n1,2\n3,nan\n", "line 3, column 'b'"),
    ("a,b\n1,2\n3,inf\n", "line 3, column 'b'"),
    ("a,b\n1,2\n3,x\n", "line 3, column 'b': 'x' is not a number"),
    ("a,b\n1,2\n3\n", "line 3: 1 cells.*ragged"),
    ("a,b\n1,2\n1,3\n", "column 'a' is constant"),
    ("a,b\n", "no data rows"),
    ("a,a\n1,2\n3,4\n", "name every column once"),
])
def test_bad_csv_cells_are_named(tmp_path, content, match):
  path = tmp_path / "bad.csv"
  path.write_text(content)
  with pytest.raises(ValueError, match=match):
    table.read_table(path)


def test_bad_files_are_named(tmp_path):
  with pytest.raises(ValueError, match=".csv, .npy, .npz"):
    table.read_table(tmp_path / "x.txt")
  with pytest.raises(FileNotFoundError, match="does not exist"):
    table.read_table(tmp_path / "missing.csv")
  np.save(tmp_path / "one.npy", np.arange(5.))
  with pytest.raises(ValueError, match="2-D"):
    table.read_table(tmp_path / "one.npy")
  np.savez(tmp_path / "two.npz", a=np.ones((3, 2)), b=np.ones((3, 2)))
  with pytest.raises(ValueError, match="'data' or 'x'"):
    table.read_table(tmp_path / "two.npz")
  (tmp_path / "junk.npy").write_bytes(b"not numpy")
  with pytest.raises(ValueError, match="not a readable"):
    table.read_table(tmp_path / "junk.npy")
  np.save(tmp_path / "nan.npy", np.array([[1., 2.], [np.nan, 3.]]))
  with pytest.raises(ValueError, match="row 1, column 'c0'"):
    table.read_table(tmp_path / "nan.npy")
  _csv(tmp_path / "ok.csv", ["a", "b"], [[1, 2], [3, 4]])
  with pytest.raises(ValueError, match="No column 'z'"):
    table.read_table(tmp_path / "ok.csv", columns=["z"])
  with pytest.raises(ValueError, match="twice"):
    table.read_table(tmp_path / "ok.csv", columns="a,a")
  with pytest.raises(ValueError, match="columns of a table"):
    data.load("fashion_mnist", columns="a")

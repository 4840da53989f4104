import subprocess
import sys

import pytest

from tfgen import cli


@pytest.mark.parametrize("argv, message", [
    (["train", "--epochs", "0"], "--epochs must be >= 1"),
    (["train", "pixelsnail"], "invalid choice"),
    (["train", "--data", "imagenet"], "unknown dataset"),
])
def test_bad_usage_is_one_line_and_exit_2(argv, message, capsys):
  try:
    code = cli.main(argv)
  except SystemExit as e:
    code = e.code
  err = capsys.readouterr().err
  assert code == 2
  assert message in err and "Traceback" not in err


def test_missing_data_dir_is_a_clear_error(tmp_path, capsys):
  code = cli.main(["train", "--data-dir", str(tmp_path), "--out", str(tmp_path / "run")])
  err = capsys.readouterr().err
  assert code == 2 and "does not contain" in err and len(err.strip().splitlines()) == 1


def test_help_lists_train():
  out = subprocess.run([sys.executable, "-m", "tfgen.cli", "train", "--help"],
                       capture_output=True, text=True, timeout=120)
  assert out.returncode == 0 and "--steps-per-epoch" in out.stdout


def test_tiny_training_run_writes_samples_and_summary(tmp_path, fmnist_available, capsys):
  code = cli.main(["train", "nice", "--epochs", "1", "--steps-per-epoch", "5", "--batch-size", "8",
                   "--out", str(tmp_path), "--verbose", "0"])
  assert code == 0
  assert (tmp_path / "samples.png").stat().st_size > 1000
  assert (tmp_path / "config.json").exists()
  assert "test bits/dim" in capsys.readouterr().out

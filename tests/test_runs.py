"""A training run from Python (tfgen.runs): train_run and the RunFolder it fills,
what ``tfgen train`` calls and a notebook can call too."""

import numpy as np
import pytest

from tfgen import runs
from tfgen.errors import UserError
from tests.data.test_catalog import _mnist_dir

TINY = {"num_couplings": 2, "hidden_units": 16}


@pytest.fixture
def mnist(tmp_path):
  (tmp_path / "mnist").mkdir()
  _mnist_dir(tmp_path / "mnist", n=24)
  return str(tmp_path / "mnist")


def _train(out, mnist, **kw):
  lines = []
  settings = dict(data="mnist", data_dir=mnist, epochs=1, steps_per_epoch=2, batch_size=8,
                  validation_steps=1, sizes=TINY, verbose=0, log=lines.append)
  run = runs.train_run(out, "nice", **{**settings, **kw})
  return run, lines


def test_train_run_fills_its_folder_and_the_folder_rebuilds_the_model(tmp_path, mnist):
  run, lines = _train(tmp_path / "run", mnist)
  assert run.finished and run.config["steps_trained"] == 2
  folder = run.folder
  assert folder.exists() and run.exported.startswith(folder.saved_model)
  assert run.wrote == [folder.samples("image")] and "training nice" in lines[0]
  model, family, spec, config = folder.load_model()
  x = np.random.default_rng(0).integers(0, 256, (3, 28, 28, 1)).astype(np.uint8)
  np.testing.assert_allclose(model.log_prob(x, seed=[1, 2]), run.model.log_prob(x, seed=[1, 2]),
                             rtol=1e-5)
  assert family.name == "nice" and spec.name == "mnist" and config["status"] == "finished"


@pytest.mark.slow  # two whole runs, one compiled by XLA
def test_jit_compile_trains_the_run_under_xla_and_a_resume_takes_its_own_flag(tmp_path, mnist):
  run, _ = _train(tmp_path / "run", mnist, jit_compile=True, export=False)
  assert run.finished and run.model.jit_compile and run.config["jit_compile"] is True
  resumed, _ = _train(tmp_path / "run", mnist, epochs=2, resume=True, export=False)
  assert resumed.config["steps_trained"] == 4 and not resumed.model.jit_compile
  assert resumed.config["jit_compile"] is False


def test_mistakes_are_user_errors_before_the_folder_is_touched(tmp_path, mnist):
  out = tmp_path / "run"
  for kw, message in [(dict(sizes={"num_couplings": 0}), "num_couplings"),
                      (dict(resume=True), "no run to resume"),
                      (dict(resume=True, overwrite=True), "exclude each other"),
                      (dict(stages={"vqvae": "x"}), "--vqvae does not apply to nice"),
                      (dict(data="imagenet"), "Unknown dataset"),
                      (dict(strategy="tpu"), "strategy"),
                      (dict(steps_per_epoch=0), "steps_per_epoch"),
                      (dict(batch_size=10 ** 12), "batch_size"),
                      (dict(lr=float("nan")), "lr"),
                      (dict(mixed_precision="int8"), "mixed_precision"),
                      (dict(jit_compile="yes"), "jit_compile")]:
    with pytest.raises(UserError, match=message):
      _train(out, mnist, **kw)
    assert not out.exists()
  with pytest.raises(UserError, match="Unknown model"):
    runs.train_run(out, "pixelsnail")
  (tmp_path / "file").write_text("x")
  with pytest.raises(UserError, match="is a file"):
    _train(tmp_path / "file", mnist)
  assert (tmp_path / "file").read_text() == "x"


def test_resume_refuses_a_changed_size_and_an_existing_run_is_kept(tmp_path, mnist):
  out = tmp_path / "run"
  _train(out, mnist)
  before = (out / "config.json").read_text()
  with pytest.raises(UserError, match="already holds a run"):
    _train(out, mnist)
  with pytest.raises(UserError, match="num_couplings cannot change"):
    _train(out, mnist, resume=True, sizes={"num_couplings": 3, "hidden_units": 16})
  assert (out / "config.json").read_text() == before


def test_a_folder_that_is_not_a_run_is_named(tmp_path):
  folder = runs.RunFolder(tmp_path / "nothing")
  assert not folder.exists()
  with pytest.raises(UserError, match="No tfgen run at"):
    folder.load_model()
  (tmp_path / "bad").mkdir()
  (tmp_path / "bad" / "config.json").write_text('{"model": "nice"}')
  with pytest.raises(UserError, match="not a tfgen run config"):
    runs.RunFolder(tmp_path / "bad").read_config()

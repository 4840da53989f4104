"""The pretrained models in saved_models/ (made by bench/zoo.py): each loads in
a TensorFlow-only process, gives the bits its card states on the card's check
subset, and samples from the command line with no training."""

import json
import pathlib
import subprocess
import sys

import numpy as np
import pytest
import tensorflow as tf

from tests.test_bench import _bench_module
from tfgen import cli, data

ZOO = pathlib.Path(__file__).resolve().parent.parent / "saved_models"
SHIPPED = sorted(p.name for p in ZOO.iterdir() if (p / "card.json").is_file())

#: What the README promises a new user can sample at once.
PROMISED = {"fashion_mnist_glow", "fashion_mnist_gated_pixelcnn", "speech_wavenet"}

TF_ONLY = r"""
import json, sys
import numpy as np
import tensorflow as tf
model = tf.saved_model.load(sys.argv[1])
batches = np.load(sys.argv[2])
bits = [model.signatures["serving_default"](x=tf.constant(b, tf.int32))["bits_per_dim"].numpy()
        for b in batches]
print(json.dumps({"bits": float(np.mean(np.concatenate(bits))),
                  "forbidden": sorted({k.split(".")[0] for k in sys.modules}
                                      & {"tfgen", "tensorflow_probability", "tf_keras"})}))
"""


def _card(name):
  card = json.loads((ZOO / name / "card.json").read_text())
  newest = max(card["versions"], key=int)
  return newest, card["versions"][newest]


def test_the_promised_models_ship_with_cards():
  assert PROMISED <= set(SHIPPED)
  for name in SHIPPED:
    version, card = _card(name)
    assert (ZOO / name / version / "saved_model.pb").is_file()
    assert (ZOO / name / card["sample"]).is_file()
    text = (ZOO / name / "MODEL_CARD.md").read_text()
    assert card["command"] in text and f"{card['test_bits']:.4f}" in text


def test_the_readme_table_is_generated_from_the_cards():
  zoo = _bench_module("zoo")
  readme = (ZOO.parent / "README.md").read_text()
  assert zoo.readme_table() in readme, "run: .venv/bin/python -c 'import zoo; zoo.update_readme()'"
  for name in SHIPPED:
    assert f"saved_models/{name}" in zoo.readme_table()


def test_the_zoo_stays_small():
  size = sum(p.stat().st_size for p in ZOO.rglob("*") if p.is_file())
  assert size < 40 * 2**20, f"saved_models/ holds {size / 2**20:.1f} MB"


@pytest.mark.slow  # real data or a fresh process: CI runs it (pytest -m slow)
@pytest.mark.parametrize("name", SHIPPED)
def test_a_shipped_model_matches_its_card_in_a_tensorflow_only_process(name, tmp_path):
  version, card = _card(name)
  meta = json.loads((ZOO / name / version / "assets.extra" / "tfgen.json").read_text())
  check = card["check"]
  batches = [np.asarray(b) for b in data.load(
      meta["data"], "test", check["batch_size"], window=meta.get("window"),
      shuffle=False).take(check["steps"])]
  assert len(batches) == check["steps"]
  np.save(tmp_path / "x.npy", np.stack(batches))
  done = subprocess.run([sys.executable, "-c", TF_ONLY, str(ZOO / name / version),
                         str(tmp_path / "x.npy")], capture_output=True, text=True, check=True)
  out = json.loads(done.stdout.strip().splitlines()[-1])
  assert out["forbidden"] == []
  assert abs(out["bits"] - check["bits"]) < 0.03, (out["bits"], check["bits"])


def test_sampling_the_shipped_glow_from_the_command_line(tmp_path, monkeypatch, capsys):
  monkeypatch.chdir(tmp_path)
  assert cli.main(["sample", str(ZOO / "fashion_mnist_glow"), "--n", "16"]) == 0
  grid = tf.io.decode_png(tf.io.read_file("sample.png")).numpy()
  assert grid.shape == (4 * 29 + 1, 4 * 29 + 1, 1)
  assert grid.std() > 10                                   # a picture, not a flat field
  assert "wrote 16 samples" in capsys.readouterr().out

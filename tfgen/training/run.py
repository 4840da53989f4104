"""A run folder: what ``tfgen train`` writes and ``sample``/``evaluate``/``export`` read.

Layout of ``RUN/``::

    config.json          model family, constructor config, data, training settings, results
    checkpoint/weights*  final model weights (tf_keras ``save_weights``)
    backup/              per-epoch model + optimizer state, for ``--resume``
    logs/                TensorBoard: train/ and validation/ scalars, samples/
    samples.png|wav|txt  samples at the end of training
    saved_model/1/       the SavedModel for TF Serving
"""

import json
import os

CONFIG = "config.json"


def config_path(run_dir):
  return os.path.join(os.fspath(run_dir), CONFIG)


def weights_path(run_dir):
  return os.path.join(os.fspath(run_dir), "checkpoint", "weights")


def write_config(run_dir, config):
  """Writes ``config.json`` atomically (a crash never leaves half a file)."""
  os.makedirs(run_dir, exist_ok=True)
  tmp = config_path(run_dir) + ".tmp"
  with open(tmp, "w") as f:
    json.dump(config, f, indent=2)
  os.replace(tmp, config_path(run_dir))


def read_config(run_dir):
  """The run's ``config.json``.

  Raises:
    FileNotFoundError: ``run_dir`` is not a tfgen run.
  """
  path = config_path(run_dir)
  if not os.path.isfile(path):
    raise FileNotFoundError(f"No tfgen run at {os.fspath(run_dir)!r} (no {CONFIG}); "
                            "train one with `tfgen train MODEL --out RUN`.")
  with open(path) as f:
    return json.load(f)


def load_model(run_dir):
  """Rebuilds the trained model of a run and loads its final weights.

  Returns:
    ``(model, family, dataset_spec, config)``.

  Raises:
    FileNotFoundError: not a run, or training never finished (no final weights).
  """
  from tfgen import data, models
  config = read_config(run_dir)
  family = models.family(config["model"])
  model = family.cls().from_config(config["model_config"])
  if not os.path.exists(weights_path(run_dir) + ".index"):
    raise FileNotFoundError(
        f"Run {os.fspath(run_dir)!r} has no final weights: training did not finish. "
        f"Continue it with `tfgen train {config['model']} --out {os.fspath(run_dir)} --resume`.")
  model.load_weights(weights_path(run_dir)).expect_partial()
  return model, family, data.info(config["data"]), config

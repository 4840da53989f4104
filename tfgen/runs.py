"""A run folder: what ``tfgen train`` writes and ``sample``/``evaluate``/``export`` read.

Layout of ``RUN/``::

    config.json          model family, model config, data, training settings,
                         status and results
    checkpoint/weights*  final model weights (tf_keras ``save_weights``)
    backup/              per-epoch model + optimizer state, for ``--resume``
    logs/                TensorBoard: train/ and validation/ scalars, samples/
    samples.png|wav|txt  samples at the end of training
    saved_model/1/       the SavedModel for TF Serving

This module sits beside the CLI (it looks families up in ``tfgen.models``);
the library layers below it know nothing of run folders.
"""

import json
import os

CONFIG = "config.json"
_REQUIRED = ("model", "model_config", "data")


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
  """The run's ``config.json`` as a dict.

  Raises:
    FileNotFoundError: ``run_dir`` is not a tfgen run.
    ValueError: the file is not a tfgen run config (the message names it).
  """
  path = config_path(run_dir)
  if not os.path.isfile(path):
    raise FileNotFoundError(f"No tfgen run at {os.fspath(run_dir)!r} (no {CONFIG}); "
                            "train one with `tfgen train MODEL --out RUN`.")
  try:
    with open(path, encoding="utf-8") as f:
      config = json.load(f)
  except (OSError, UnicodeDecodeError, json.JSONDecodeError) as e:
    raise ValueError(f"{path} is not a readable tfgen run config: {e}") from None
  if not isinstance(config, dict) or any(k not in config for k in _REQUIRED):
    raise ValueError(f"{path} is not a tfgen run config: expected a JSON object with "
                     f"{', '.join(_REQUIRED)}.")
  if not isinstance(config["model_config"], dict):
    raise ValueError(f"{path}: `model_config` must be a JSON object.")
  return config


def load_model(run_dir):
  """Rebuilds the trained model of a run and loads its final weights.

  Returns:
    ``(model, family, dataset_spec, config)``.

  Raises:
    FileNotFoundError: not a run, or training never finished (no final weights).
    ValueError: a config or weights file that cannot be used (named in the message).
  """
  from tfgen import data, models
  config = read_config(run_dir)
  family = models.family(config["model"])
  try:
    model = family.from_config(config["model_config"])
  except (TypeError, ValueError) as e:
    raise ValueError(f"{config_path(run_dir)}: the model config does not build a "
                     f"{family.name}: {e}") from None
  if not os.path.exists(weights_path(run_dir) + ".index"):
    raise FileNotFoundError(
        f"Run {os.fspath(run_dir)!r} has no final weights: training did not finish. "
        f"Continue it with `tfgen train {config['model']} --out {os.fspath(run_dir)} --resume`.")
  try:
    model.load_weights(weights_path(run_dir)).expect_partial()
  except Exception as e:  # truncated or foreign checkpoints raise several TF error types
    raise ValueError(f"The weights in {os.path.dirname(weights_path(run_dir))} cannot be "
                     f"read ({type(e).__name__}): {str(e).splitlines()[0][:200]}") from None
  return model, family, data.info(config["data"]), config

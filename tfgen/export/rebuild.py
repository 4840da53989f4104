"""The Keras model of an export, rebuilt around the export's own variables.

An export's graph serves ``log_prob`` and ``sample``; coding with
:mod:`tfgen.compression` needs the model's cached step driven from Python,
so it needs the Keras model. The export's metadata give the family and
``config`` (exports made before ``config`` was recorded: the size flags of
the ``tfgen train`` command in the model card's ``card.json``), the SavedModel
holds the variables in ``model.variables`` order (``model_variables``), and
they are assigned after checking every shape.
"""

import json
import os
import shlex

import tensorflow as tf

from tfgen.export import metadata as export_metadata
from tfgen.export.loaded import version_dir


def _card_sizes(base, family, version):
  """Size arguments of the ``tfgen train`` command in ``base/card.json``."""
  path = os.path.join(base, "card.json")
  try:
    with open(path, encoding="utf-8") as f:
      command = json.load(f)["versions"][str(version)]["command"]
  except (OSError, ValueError, KeyError, TypeError):
    return None
  words, sizes = shlex.split(command), {}
  flags = {"--" + s.flag: s for s in family.sizes}
  for i, word in enumerate(words[:-1]):
    if word in flags:
      sizes[flags[word].arg] = flags[word].type(words[i + 1])
  return sizes


def keras_model(path):
  """``(model, family, metadata)``: the export at ``path`` (a version folder or
  a base path) as a tfgen Keras model with the exported weights.

  Raises:
    ValueError: not a tfgen export, or one whose model cannot be rebuilt
      (no ``config`` and no model card), or variables that do not fit.
  """
  from tfgen import data as datasets, models   # the registry imports the export package
  version = version_dir(path)
  if version is None:
    raise ValueError(f"{os.fspath(path)!r} is not an export (no saved_model.pb).")
  meta = export_metadata.read(version)
  family = models.family(meta["model"])
  if meta.get("config"):
    model = family.from_config(meta["config"])
  else:
    base = os.path.dirname(os.path.abspath(version))
    sizes = _card_sizes(base, family, os.path.basename(version))
    if sizes is None:
      raise ValueError(f"{version} does not record its model's config, and has no card.json "
                       "with its training command: export it again with `tfgen export`.")
    model = family.build(datasets.info(meta["data"]), sizes)
  loaded = tf.saved_model.load(version)
  saved = list(getattr(loaded, "model_variables", []))
  if len(saved) != len(model.variables) or any(
      a.shape != b.shape for a, b in zip(saved, model.variables)):
    raise ValueError(f"the variables of {version} do not fit a rebuilt {family.name} "
                     f"({len(saved)} saved, {len(model.variables)} built).")
  for target, value in zip(model.variables, saved):
    target.assign(value)
  return model, family, meta

"""Trained models as Keras models: :func:`load` (a run or an export) and
:func:`pretrained` (a model of the shipped zoo, ``saved_models/NAME``).

The model comes back ready for ``log_prob``, ``sample``, ``.distribution``,
:mod:`tfgen.compression` and fine-tuning with ``compile`` / ``fit``. An
export's weights are the SavedModel's own variables (no second copy is
shipped): :func:`tfgen.export.rebuild.keras_model` rebuilds the model from
the export's metadata and assigns them, checking every shape.
"""

import os

#: Where the shipped zoo lives: ``saved_models/`` beside the package.
ZOO = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "saved_models")


def load(path):
  """The Keras model of a run folder (``tfgen train --out``) or an export
  (``NAME`` or ``NAME/VERSION`` with ``saved_model.pb``).

  Raises:
    ValueError: ``path`` is neither, or its model cannot be rebuilt (the
      message says why).
  """
  from tfgen import export, runs
  from tfgen.export.rebuild import keras_model
  path = os.fspath(path)
  folder = runs.RunFolder(path)
  if folder.exists():
    return folder.load_model()[0]
  if export.version_dir(path) is None:
    raise ValueError(f"{path!r} is neither a tfgen run (RUN/config.json) nor an export "
                     "(NAME/VERSION/saved_model.pb).")
  return keras_model(path)[0]


def data_of(path):
  """The dataset name the run or export at ``path`` was trained on."""
  from tfgen import export, runs
  from tfgen.export import metadata
  folder = runs.RunFolder(os.fspath(path))
  if folder.exists():
    return folder.read_config()["data"]
  return metadata.read(export.version_dir(os.fspath(path)))["data"]


def names(root=None):
  """The zoo's model names (folders of ``root``, default :data:`ZOO`)."""
  root = root or ZOO
  if not os.path.isdir(root):
    return []
  from tfgen import export
  return sorted(n for n in os.listdir(root)
                if export.version_dir(os.path.join(root, n)) is not None)


def pretrained(name, version=None, *, root=None):
  """The shipped model ``name`` (``tfgen.zoo.names()`` lists them), at
  ``version`` (default: the newest), as a Keras model.

  >>> glow = tfgen.pretrained("fashion_mnist_glow")
  >>> glow.bits_per_dim(images)           # or .sample(16), .distribution, .fit(...)
  """
  root = root or ZOO
  available = names(root)
  if name not in available:
    raise ValueError(f"no pretrained model {name!r}; the zoo ({root}) has: "
                     f"{', '.join(available) or 'none'}.")
  path = os.path.join(root, name)
  if version is not None:
    if isinstance(version, bool) or not isinstance(version, int) or version < 1:
      raise ValueError(f"`version` must be a positive integer, got {version!r}.")
    path = os.path.join(path, str(version))
    if not os.path.isfile(os.path.join(path, "saved_model.pb")):
      raise ValueError(f"{name} has no version {version}.")
  return load(path)

"""What an export records of its model and data: ``assets.extra/tfgen.json``.

This module owns the schema; :func:`tfgen.export.save` writes it and
:class:`tfgen.export.Exported` reads it, so that ``tfgen sample`` and
``tfgen evaluate`` can use an export without its run. TF Serving ignores the
file (it reads only its warm-up requests from ``assets.extra``).

Fields (a JSON object):

- ``format``: this schema's version (1);
- ``model``: the family name (``tfgen train MODEL``);
- ``data``: the dataset name (``tfgen list``), ``window``: the training
  window of a sequence model (or null);
- ``uses_labels``: whether the data's class labels feed the model;
- ``label_encoding``: how labels become the condition (null: they are the
  condition): ``{"captions": {"class_names", "templates", "text_length"}}``
  for a text-to-image model;
- ``dimension_name``: what bits/dim divide by, in reports (``"code"``...);
- ``class_names`` (class-conditional models trained with ``--conditional``):
  the name of each class index the ``condition`` inputs take, so a REST
  client can find the index of ``"ankle boot"``;
- ``columns`` (models of tables): the column names of a row.
- ``config`` (exports since compression): ``model.get_config()``, so the
  Keras model can be rebuilt around the export's variables
  (:func:`tfgen.export.rebuild.keras_model`; ``tfgen compress``).

Unknown fields are kept: users may add their own.
"""

import json
import os

#: The metadata file, beside TF Serving's warm-up requests.
FILE = os.path.join("assets.extra", "tfgen.json")
FORMAT = 1


def of_model(model, family_name, data_name, window=None, **extra):
  """The metadata of ``model`` (a tfgen model of family ``family_name``)
  trained on dataset ``data_name``; ``extra`` fields are added as given."""
  return {"format": FORMAT, "model": family_name, "data": data_name, "window": window,
          "uses_labels": bool(getattr(model, "uses_labels", False)
                              or getattr(model, "num_classes", None)),
          "label_encoding": getattr(model, "label_encoding", None),
          "dimension_name": getattr(model, "dimension_name", None),
          "config": _jsonable(model.get_config()), **extra}


def _jsonable(config):
  """``config`` as plain JSON values (tuples → lists, numpy scalars → numbers)."""
  return json.loads(json.dumps(config, default=lambda v: v.tolist() if hasattr(v, "tolist")
                               else str(v)))


def dumps(metadata):
  """``metadata`` as JSON text; ValueError if it is not a JSON-able dict."""
  if not isinstance(metadata, dict):
    raise ValueError(f"`metadata` must be a dict, got {type(metadata).__name__}.")
  try:
    return json.dumps(metadata, indent=2)
  except (TypeError, ValueError) as e:
    raise ValueError(f"`metadata` must be JSON-serialisable: {e}") from None


def write(export_dir, text):
  """Writes metadata ``text`` (from :func:`dumps`) into ``export_dir``."""
  os.makedirs(os.path.join(export_dir, os.path.dirname(FILE)), exist_ok=True)
  with open(os.path.join(export_dir, FILE), "w", encoding="utf-8") as f:
    f.write(text)


def read(export_dir):
  """The validated metadata of the export in ``export_dir``.

  Raises:
    ValueError: no metadata (a SavedModel tfgen did not write), or a file
      that is not tfgen metadata (the message names it).
  """
  path = os.path.join(export_dir, FILE)
  try:
    with open(path, encoding="utf-8") as f:
      metadata = json.load(f)
  except FileNotFoundError:
    raise ValueError(f"{export_dir!r} is a SavedModel without tfgen's metadata ({FILE}); "
                     "export the run again with `tfgen export RUN --to FOLDER`.") from None
  except (OSError, UnicodeDecodeError, json.JSONDecodeError) as e:
    raise ValueError(f"{path} is not readable tfgen metadata: {e}") from None
  if not isinstance(metadata, dict) or not isinstance(metadata.get("data"), str):
    raise ValueError(f"{path} is not tfgen metadata: expected a JSON object with "
                     "`data` (a dataset name).")
  if metadata.get("format", 1) != FORMAT:
    raise ValueError(f"{path} has tfgen metadata format {metadata.get('format')!r}; this "
                     f"tfgen reads format {FORMAT}.")
  encoding = metadata.get("label_encoding")
  if encoding is not None:
    captions = encoding.get("captions") if isinstance(encoding, dict) else None
    if not isinstance(captions, dict) or not {"class_names", "templates",
                                              "text_length"} <= set(captions):
      raise ValueError(f"{path}: `label_encoding` must be null or {{\"captions\": "
                       "{class_names, templates, text_length}}.")
  return metadata

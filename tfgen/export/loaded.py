"""An export read back: what ``tfgen sample`` and ``tfgen evaluate`` use when
given a SavedModel folder (``saved_models/NAME`` or ``saved_models/NAME/VERSION``)
instead of a run folder.

The model is the SavedModel's own graph (its ``sample`` and
``serving_default`` signatures), not a rebuilt Keras model. What the graph does not say (the dataset, and so how to write
and name samples) comes from ``assets.extra/tfgen.json``, which
:func:`tfgen.export.save` writes when given ``metadata``.
"""

import os
import re

import tensorflow as tf

from tfgen import _validation
from tfgen.base import GenerativeModel
from tfgen.data.captions import label_captions
from tfgen.export import metadata as export_metadata
from tfgen.likelihood import describe_likelihood

_VERSION = re.compile(r"^\d+$")


def version_dir(path):
  """The version folder an export path names, or ``None`` if ``path`` is no export.

  ``path`` is either a version folder (it holds ``saved_model.pb``) or a
  model base path whose numbered subfolders are versions; the highest
  version is taken, as TF Serving does.
  """
  path = os.fspath(path)
  if os.path.isfile(os.path.join(path, "saved_model.pb")):
    return path
  if not os.path.isdir(path):
    return None
  versions = sorted((int(v) for v in os.listdir(path) if _VERSION.match(v)
                     and os.path.isfile(os.path.join(path, v, "saved_model.pb"))))
  return os.path.join(path, str(versions[-1])) if versions else None


class Exported:
  """A tfgen export, loaded with TensorFlow alone, behind the few calls the CLI
  makes of a model: ``can_sample``, ``is_sequence``, ``sample_options()``,
  ``sample(...)``, ``evaluate(dataset)`` and ``describe(result, spec)``.

  Args:
    path: a version folder or a model base path (the highest version).

  Raises:
    FileNotFoundError: no SavedModel at ``path``.
    ValueError: a SavedModel without tfgen's metadata, or one that cannot be
      loaded (the message names the file).
  """

  max_length = GenerativeModel.max_length

  def __init__(self, path):
    self.path = version_dir(path)
    if self.path is None:
      raise FileNotFoundError(f"No SavedModel at {os.fspath(path)!r} (neither saved_model.pb "
                              "nor numbered version folders holding one).")
    self.metadata = export_metadata.read(self.path)
    try:
      self.loaded = tf.saved_model.load(self.path)
    except Exception as e:  # a damaged SavedModel raises several TF error types
      raise ValueError(f"The SavedModel in {self.path!r} cannot be loaded "
                       f"({type(e).__name__}): {str(e).splitlines()[0][:200]}") from None
    self.signatures = dict(self.loaded.signatures)
    self.name = self.metadata.get("model", "model")
    self.uses_labels = bool(self.metadata.get("uses_labels"))
    self.data_encoder = None      # served signatures take data as it is stored

  # -- what the CLI asks ---------------------------------------------------------------

  def _inputs(self, signature):
    return self.signatures[signature].structured_input_signature[1]

  @property
  def can_sample(self):
    return "sample" in self.signatures

  @property
  def cannot_sample_reason(self):
    return "the export has no `sample` signature."

  @property
  def is_sequence(self):
    return self.can_sample and "length" in self._inputs("sample")

  def sample_options(self):
    inputs = self._inputs("sample") if self.can_sample else {}
    return {name for name in ("prime", "prompt") if name in inputs}

  def sample(self, n, *, seed=0, temperature=1.0, length=None, prime=None, prompt=None,
             condition=None):
    """``n`` samples from the served ``sample`` signature (int32; float32 for
    a model of real vectors)."""
    inputs = self._inputs("sample")
    request = {"num_samples": tf.constant(n, tf.int32),
               "seed": _validation.seed(seed),
               "temperature": tf.constant(temperature, tf.float32)}
    if "length" in inputs:
      request["length"] = tf.constant(length, tf.int32)
    for name, text in (("prime", prime), ("prompt", prompt)):
      if name in inputs:
        codes = [] if text is None else list(text.encode("utf-8"))
        request[name] = tf.constant(codes, tf.int32, shape=[len(codes)])
    if "condition" in inputs:
      if condition is None:
        raise ValueError(f"{self.path!r} is conditional: its `sample` signature needs a "
                         "`condition` (tfgen sample: --condition).")
      request["condition"] = tf.cast(condition, inputs["condition"].dtype)
    return self._call("sample", request)["samples"]

  def compile(self, *args, **kwargs):
    """Nothing to do: an export is not trained (Keras models are compiled before
    ``evaluate``; this keeps the same two calls)."""

  def evaluate(self, dataset, verbose=0, return_dict=True):
    """Mean ``bits_per_dim`` and ``loss`` (nats per example) of ``serving_default``
    over ``dataset`` (batches of ``x`` or ``(x, condition)``), as a dict."""
    inputs = self._inputs("serving_default")
    if "x" not in inputs:
      raise ValueError(f"{self.path!r}: its serving_default takes {sorted(inputs)}, not the "
                       "data `x`; `tfgen evaluate` reports likelihoods only.")
    total_bits = total_nats = count = 0.
    captions = (self.metadata.get("label_encoding") or {}).get("captions")
    for i, batch in enumerate(dataset):
      x, condition = (batch if isinstance(batch, (tuple, list)) else (batch, None))[:2]
      if captions is not None and condition is not None and condition.shape.rank == 1:
        # Class labels, as the run's data encoder turns them into captions.
        condition = label_captions(condition.numpy(), **captions, seed=i + 1)
      request = {"x": tf.cast(x, inputs["x"].dtype)}
      if "condition" in inputs:
        if condition is None:
          raise ValueError(f"{self.path!r} is conditional, but the data hold no condition.")
        request["condition"] = tf.cast(condition, inputs["condition"].dtype)
      out = self._call("serving_default", request)
      if "bits_per_dim" not in out:
        raise ValueError(f"{self.path!r}: its serving_default returns {sorted(out)}, not "
                         "`bits_per_dim`; `tfgen evaluate` reports likelihoods only.")
      total_bits += float(tf.reduce_sum(out["bits_per_dim"]))
      total_nats += -float(tf.reduce_sum(out["log_prob"]))
      count += int(out["bits_per_dim"].shape[0])
    if not count:
      raise ValueError("the evaluation data are empty.")
    return {"loss": total_nats / count, "bits_per_dim": total_bits / count}

  def describe(self, result, spec=None):
    return describe_likelihood(result, getattr(spec, "kind", "image"),
                               self.metadata.get("dimension_name"))

  def _call(self, signature, request):
    try:
      return self.signatures[signature](**request)
    except tf.errors.InvalidArgumentError as e:
      message = _validation.assertion_message(e)
      raise ValueError(message or str(e).splitlines()[0][:300]) from None

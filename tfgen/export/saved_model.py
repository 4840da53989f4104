"""SavedModel export in TensorFlow Serving's ``NAME/VERSION/`` layout.

The exported graph holds only TensorFlow ops and the model's variables, so
TF Serving (C++) or a Python process that imports only ``tensorflow`` can
load it: no tfgen, TensorFlow Probability or Keras objects are saved, and
sampling uses stateless random ops seeded by the request.
"""

import os
import re
import shutil
import tempfile

import numpy as np
import tensorflow as tf

from tfgen.base import GenerativeModel
from tfgen.export import metadata as export_metadata

_VERSION = re.compile(r"^\d+$")
_STAGING = re.compile(r"^\.\d+\.(\d+)\.")


def _next_version(base):
  existing = [int(v) for v in os.listdir(base) if _VERSION.match(v)] if os.path.isdir(base) else []
  return max(existing, default=0) + 1


class _Servable(tf.Module):
  """The model's serving functions; holds only the model's variables."""

  def __init__(self, model):
    super().__init__()
    object.__setattr__(self, "_m", model)  # bypasses tracking: only variables are saved
    self.model_variables = list(model.variables)
    functions = model.serving_functions()
    # Untracked; each function is also tracked as sig_<name> so it is saved.
    object.__setattr__(self, "_fns", {})
    object.__setattr__(self, "_warmups", {})
    for key, serving in functions.items():
      self._fns[key] = tf.function(_by_name(serving), input_signature=serving.inputs)
      self._warmups[key] = _warmup_inputs(serving)
      setattr(self, "sig_" + key, self._fns[key])


def _by_name(serving):
  """``serving.fn`` as a function of exactly its inputs, in order: the request's
  keys are the TensorSpec names, passed to ``fn`` as keywords."""
  names = [spec.name for spec in serving.inputs]

  def call(*tensors):
    return serving.fn(**dict(zip(names, tensors)))
  return call


def _warmup_inputs(serving):
  """One small request for a signature, as numpy arrays by input name: its
  ``warmup`` values, else zeros with every unknown size set to 1."""
  inputs = {}
  for spec in serving.inputs:
    if spec.name in serving.warmup:
      inputs[spec.name] = np.asarray(serving.warmup[spec.name], spec.dtype.as_numpy_dtype)
    else:
      shape = [1 if d is None else d for d in spec.shape.as_list()]
      if len(shape) > 1 and spec.shape[1] is None:
        shape[1] = 16  # a sequence: a short one
      inputs[spec.name] = np.zeros(shape, spec.dtype.as_numpy_dtype)
  return inputs


def _write_warmup(export_dir, model_name, requests):
  """``assets.extra/tf_serving_warmup_requests``: PredictionLogs TF Serving
  replays at load time, so the first real request is not slow."""
  from tensorflow_serving.apis import predict_pb2, prediction_log_pb2
  folder = os.path.join(export_dir, "assets.extra")
  os.makedirs(folder, exist_ok=True)
  with tf.io.TFRecordWriter(os.path.join(folder, "tf_serving_warmup_requests")) as writer:
    for signature, inputs in requests:
      request = predict_pb2.PredictRequest()
      request.model_spec.name = model_name
      request.model_spec.signature_name = signature
      for key, value in inputs.items():
        request.inputs[key].CopyFrom(tf.make_tensor_proto(value))
      log = prediction_log_pb2.PredictionLog(
          predict_log=prediction_log_pb2.PredictLog(request=request))
      writer.write(log.SerializeToString())


def _alive(pid):
  try:
    os.kill(pid, 0)
  except ProcessLookupError:
    return False
  except PermissionError:
    return True
  return True


def _clean_stale_staging(base):
  """Removes staging folders (``.VERSION.PID.xxxx``) whose exporting process
  is gone: what a killed export left behind. Live exports are left alone."""
  for name in os.listdir(base):
    match = _STAGING.match(name)
    if match and not _alive(int(match.group(1))):
      shutil.rmtree(os.path.join(base, name), ignore_errors=True)


def save(model, path, version=None, metadata=None):
  """Exports ``model`` to ``path/<version>/`` and returns that directory.

  ``version`` defaults to one more than the largest existing version; an
  existing version is never overwritten. The export is written to a hidden
  staging folder (``path/.VERSION.xxxx``) and renamed into place, so a
  half-written export never appears under ``path``; staging folders left
  by a killed export are removed by the next one.

  The signatures are the model's ``serving_functions()`` (method
  ``tensorflow/serving/predict``, tag ``serve``). For every family:

  - ``serving_default``: ``x`` (int32, batch-major) → ``log_prob``,
    ``bits_per_dim``;
  - ``sample``: ``num_samples``, ``seed`` (int32 ``[2]``), ``temperature``
    (and ``length`` for sequence models) → ``samples``;
  - conditional models also take ``condition``; flows add ``encode``
    (``x`` → ``z``) and ``decode`` (``z`` → ``x``).

  One warm-up request per signature is written to
  ``assets.extra/tf_serving_warmup_requests``. ``metadata`` (a JSON-able
  dict, normally :func:`tfgen.export.metadata.of_model`: the family, the
  dataset and how labels feed the model) goes to ``assets.extra/tfgen.json``,
  so that :class:`tfgen.export.Exported` (and
  ``tfgen sample`` / ``evaluate``) can use the export without its run.

  Raises:
    ValueError: not a tfgen model, an existing or bad version, or a model
      whose ``serving_functions`` refuses to export.
  """
  if not isinstance(model, GenerativeModel):
    raise ValueError(f"tfgen.export.save takes a tfgen model (a GenerativeModel), got "
                     f"{type(model).__name__}.")
  path = os.fspath(path)
  if not path:
    raise ValueError("`path` must name a folder, got ''.")
  if os.path.exists(path) and not os.path.isdir(path):
    raise ValueError(f"`path` {path!r} is a file, not a folder.")
  explicit = version is not None
  if not explicit:
    version = _next_version(path)
  if isinstance(version, bool) or not isinstance(version, int) or not 1 <= version < 2**63:
    raise ValueError(f"`version` must be a positive int below 2**63, got {version!r}.")
  target = os.path.join(path, str(version))
  if os.path.exists(target):
    raise ValueError(f"{target!r} already exists; exports are never overwritten.")
  if metadata is not None:
    metadata = export_metadata.dumps(
        {"dimension_name": getattr(model, "dimension_name", None), **metadata}
        if isinstance(metadata, dict) else metadata)
  servable = _Servable(model)  # the model may refuse: before anything is written
  try:
    os.makedirs(path, exist_ok=True)
  except OSError as e:
    raise ValueError(f"Cannot create the export folder {path!r}: {e.strerror}.") from None
  _clean_stale_staging(path)
  staging = tempfile.mkdtemp(prefix=f".{version}.{os.getpid()}.", dir=path)
  try:
    tf.saved_model.save(servable, staging, signatures=dict(servable._fns))
    _write_warmup(staging, os.path.basename(os.path.normpath(path)),
                  list(servable._warmups.items()))
    if metadata is not None:
      export_metadata.write(staging, metadata)
    os.chmod(staging, 0o777 & ~_umask())  # mkdtemp makes 0700; serve as other users can
    for _ in range(100):
      try:
        os.rename(staging, target)  # atomic; fails if another export took the version
        return target
      except OSError:
        if not os.path.exists(target):
          raise
        if explicit:  # another export took this version after the check above
          raise ValueError(f"{target!r} already exists; exports are never "
                           "overwritten.") from None
        version = _next_version(path)
        target = os.path.join(path, str(version))
    raise ValueError(f"Could not find a free version under {path!r}.")
  finally:
    shutil.rmtree(staging, ignore_errors=True)


def _umask():
  mask = os.umask(0)
  os.umask(mask)
  return mask

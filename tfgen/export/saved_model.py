"""SavedModel export in TensorFlow Serving's ``NAME/VERSION/`` layout.

The exported graph holds only TensorFlow ops and the model's variables, so
TF Serving (C++) or a Python process that imports only ``tensorflow`` can
load it: no tfgen, TensorFlow Probability or Keras objects are saved, and
sampling uses stateless random ops seeded by the request.
"""

import math
import os
import re
import shutil
import tempfile

import numpy as np
import tensorflow as tf

from tfgen.autoregressive import MADE, PixelCNN, WaveNet
from tfgen.flows.base import FlowModel

_VERSION = re.compile(r"^\d+$")


def _next_version(base):
  existing = [int(v) for v in os.listdir(base) if _VERSION.match(v)] if os.path.isdir(base) else []
  return max(existing, default=0) + 1


def _check_shape(t, event_shape, name):
  """A run-time shape check: serving requests bypass Python's static checks."""
  expected = "[batch, " + ", ".join("?" if d is None else str(d) for d in event_shape) + "]"
  ok = tf.equal(tf.rank(t), len(event_shape) + 1)
  shape = tf.shape(t)
  for axis, d in enumerate(event_shape, start=1):
    if d is not None:
      ok &= tf.equal(tf.gather(tf.concat([shape, [0] * 4], 0), axis), d)
  assertion = tf.debugging.Assert(ok, [f"`{name}` must have shape {expected}; got", shape])
  with tf.control_dependencies([assertion]):
    return tf.identity(t)


class _Servable(tf.Module):
  """Serving functions of one model; holds only the model's variables."""

  def __init__(self, model):
    super().__init__()
    object.__setattr__(self, "_m", model)  # bypasses tracking: only variables are saved
    self.model_variables = list(model.variables)
    object.__setattr__(self, "_fns", {})  # untracked; the functions are tracked as sig_*
    x_spec = tf.TensorSpec([None] + self._event_shape(), tf.int32, "x")
    extra = [self._label_spec()] if self._label_spec() is not None else []

    def add(key, fn, *specs):
      self._fns[key] = tf.function(fn, input_signature=list(specs) + extra)

    add("serving_default", self._log_prob, x_spec)
    add("sample", self._sample, tf.TensorSpec([], tf.int32, "num_samples"),
        tf.TensorSpec([2], tf.int32, "seed"), tf.TensorSpec([], tf.float32, "temperature"))
    if isinstance(model, FlowModel):
      add("encode", self._encode, x_spec)
      add("decode", self._decode, tf.TensorSpec([None, model.num_dims], tf.float32, "z"))
    for key, fn in self._fns.items():
      setattr(self, "sig_" + key, fn)

  def _event_shape(self):
    m = self._m
    if isinstance(m, (FlowModel, PixelCNN)):
      return list(m.image_shape)
    if isinstance(m, MADE):
      return [m.event_size]
    return [None]

  def _label_spec(self):
    m = self._m
    if isinstance(m, FlowModel) and m.num_classes:
      return tf.TensorSpec([None], tf.int32, "labels")
    if isinstance(m, PixelCNN) and m.num_classes:
      return tf.TensorSpec([None], tf.int32, "labels")
    if isinstance(m, PixelCNN) and m.conditional_shape:
      return tf.TensorSpec([None] + list(m.conditional_shape), tf.float32, "labels")
    if isinstance(m, MADE) and m.conditional_size:
      return tf.TensorSpec([None, m.conditional_size], tf.float32, "labels")
    if isinstance(m, WaveNet) and m.global_condition_classes:
      return tf.TensorSpec([None], tf.int32, "labels")
    return None

  def _log_prob(self, x, labels=None):
    m = self._m
    x = _check_shape(x, self._event_shape(), "x")
    if isinstance(m, FlowModel):
      # Dequantization noise from a fixed stateless seed: deterministic, and
      # the same as model.log_prob(x, seed=[0, 0]).
      lp = m.log_prob(x, labels=labels, seed=tf.constant([0, 0]))
    else:
      lp = m.log_prob(x, labels=labels)
    dims = tf.cast(m._event_dims(x), tf.float32)
    return {"log_prob": lp, "bits_per_dim": -lp / (dims * math.log(2.))}

  def _sample(self, num_samples, seed, temperature, labels=None):
    m = self._m
    if isinstance(m, FlowModel):
      eps = tf.random.stateless_normal(tf.stack([num_samples, m.num_dims]), seed=seed)
      out = m.decode(eps * temperature, labels=labels)
    elif isinstance(m, WaveNet):
      out = m.sample_graph(num_samples, seed, temperature, labels)
    else:
      out = m.sample_graph(num_samples, seed, temperature,
                           m.encode_condition(labels) if labels is not None else None)
    return {"samples": tf.cast(out, tf.int32)}

  def _encode(self, x, labels=None):
    x = _check_shape(x, self._event_shape(), "x")
    return {"z": self._m.encode(x, labels=labels)}

  def _decode(self, z, labels=None):
    z = _check_shape(z, [self._m.num_dims], "z")
    return {"x": tf.cast(self._m.decode(z, labels=labels), tf.int32)}


def _warmup_inputs(servable):
  """One small request per signature, as numpy arrays by input name."""
  m = servable._m
  event = [16 if d is None else d for d in servable._event_shape()]
  spec = servable._label_spec()
  labels = {} if spec is None else {"labels": np.zeros([1] + spec.shape[1:].as_list(),
                                                       spec.dtype.as_numpy_dtype)}
  requests = [("serving_default", {"x": np.zeros([1] + event, np.int32), **labels}),
              ("sample", {"num_samples": np.int32(16 if isinstance(m, WaveNet) else 1),
                          "seed": np.zeros([2], np.int32), "temperature": np.float32(1.),
                          **labels})]
  if isinstance(m, FlowModel):
    requests.append(("encode", {"x": np.zeros([1] + event, np.int32), **labels}))
    requests.append(("decode", {"z": np.zeros([1, m.num_dims], np.float32), **labels}))
  return requests


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


def save(model, path, version=None):
  """Exports ``model`` to ``path/<version>/`` and returns that directory.

  ``version`` defaults to one more than the largest existing version; an
  existing version is never overwritten. The export is written to a
  temporary folder and renamed into place, so a half-written export never
  appears under ``path``.

  Signatures (method ``tensorflow/serving/predict``, tag ``serve``):

  - ``serving_default``: ``x`` (int32, batch-major) → ``log_prob``,
    ``bits_per_dim``;
  - ``sample``: ``num_samples``, ``seed`` (int32[2]), ``temperature`` →
    ``samples`` (for WaveNet, one sequence of ``num_samples`` codes);
  - flows also: ``encode`` (``x`` → ``z``) and ``decode`` (``z`` → ``x``).

  Conditional models also take ``labels``. One warm-up request per signature
  is written to ``assets.extra/tf_serving_warmup_requests``.

  Raises:
    ValueError: an existing or bad version, or a model this cannot export
      (locally conditioned WaveNet).
  """
  if not isinstance(model, (FlowModel, PixelCNN, MADE, WaveNet)):
    raise ValueError(f"tfgen.export.save takes a tfgen model, got {type(model).__name__}.")
  if isinstance(model, WaveNet) and model.local_condition_channels:
    raise ValueError("Exporting a locally conditioned WaveNet is not supported yet.")
  path = os.fspath(path)
  if version is None:
    version = _next_version(path)
  if isinstance(version, bool) or not isinstance(version, int) or version < 1:
    raise ValueError(f"`version` must be a positive int, got {version!r}.")
  target = os.path.join(path, str(version))
  if os.path.exists(target):
    raise ValueError(f"{target!r} already exists; exports are never overwritten.")
  os.makedirs(path, exist_ok=True)
  servable = _Servable(model)
  staging = tempfile.mkdtemp(prefix=f".{version}.", dir=path)
  try:
    tf.saved_model.save(servable, staging, signatures=dict(servable._fns))
    _write_warmup(staging, os.path.basename(os.path.normpath(path)), _warmup_inputs(servable))
    os.rename(staging, target)
  except BaseException:
    shutil.rmtree(staging, ignore_errors=True)
    raise
  return target

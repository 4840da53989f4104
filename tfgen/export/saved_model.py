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

import tensorflow as tf

from tfgen.flows.base import FlowModel

_VERSION = re.compile(r"^\d+$")


def _next_version(base):
  existing = [int(v) for v in os.listdir(base) if _VERSION.match(v)] if os.path.isdir(base) else []
  return max(existing, default=0) + 1


def _check_shape(t, event_shape, name):
  """A run-time shape check: serving requests bypass Python's static checks."""
  expected = "[batch, " + ", ".join(map(str, event_shape)) + "]"
  ok = tf.reduce_all(tf.equal(tf.shape(t)[1:], event_shape)) & tf.equal(tf.rank(t),
                                                                         len(event_shape) + 1)
  assertion = tf.debugging.Assert(ok, [f"`{name}` must have shape {expected}; got", tf.shape(t)])
  with tf.control_dependencies([assertion]):
    return tf.identity(t)


class _FlowServable(tf.Module):
  """Serving functions of an image flow; holds only the model's variables."""

  def __init__(self, model):
    super().__init__()
    object.__setattr__(self, "_flow", model)  # bypasses tracking: only variables are saved
    self.model_variables = list(model.variables)
    shape = [None] + list(model.image_shape)
    conditional = model.num_classes is not None
    labels = [tf.TensorSpec([None], tf.int32, "labels")] if conditional else []

    def fix(fn, *specs):
      return tf.function(fn, input_signature=list(specs) + labels)

    self.log_prob = fix(self._log_prob, tf.TensorSpec(shape, tf.int32, "x"))
    self.sample = fix(self._sample, tf.TensorSpec([], tf.int32, "num_samples"),
                      tf.TensorSpec([2], tf.int32, "seed"),
                      tf.TensorSpec([], tf.float32, "temperature"))
    self.encode = fix(self._encode, tf.TensorSpec(shape, tf.int32, "x"))
    self.decode = fix(self._decode, tf.TensorSpec([None, model.num_dims], tf.float32, "z"))

  # Dequantization noise for serving comes from a fixed stateless seed, so
  # log_prob is deterministic (the same noise as model.log_prob(x, seed=[0, 0])).
  def _log_prob(self, x, labels=None):
    x = _check_shape(x, list(self._flow.image_shape), "x")
    lp = self._flow.log_prob(x, labels=labels, seed=tf.constant([0, 0]))
    return {"log_prob": lp, "bits_per_dim": -lp / (self._flow.num_dims * 0.6931471805599453)}

  def _sample(self, num_samples, seed, temperature, labels=None):
    eps = tf.random.stateless_normal(tf.stack([num_samples, self._flow.num_dims]), seed=seed)
    return {"samples": tf.cast(self._flow.decode(eps * temperature, labels=labels), tf.int32)}

  def _encode(self, x, labels=None):
    x = _check_shape(x, list(self._flow.image_shape), "x")
    return {"z": self._flow.encode(x, labels=labels)}

  def _decode(self, z, labels=None):
    z = _check_shape(z, [self._flow.num_dims], "z")
    return {"x": tf.cast(self._flow.decode(z, labels=labels), tf.int32)}


def save(model, path, version=None):
  """Exports ``model`` to ``path/<version>/`` and returns that directory.

  ``version`` defaults to one more than the largest existing version; an
  existing version is never overwritten. The export is written to a
  temporary folder and renamed into place, so a half-written export never
  appears under ``path``.

  Signatures (method ``tensorflow/serving/predict``, tag ``serve``):
  ``serving_default`` (``x`` → ``log_prob``, ``bits_per_dim``), ``sample``
  (``num_samples``, ``seed`` int32[2], ``temperature`` → ``samples``) and,
  for flows, ``encode`` (``x`` → ``z``) and ``decode`` (``z`` → ``x``).
  Class-conditional models also take ``labels``.

  Raises:
    ValueError: an existing version, a bad version number, or a model
      family this function cannot export yet.
  """
  if not isinstance(model, FlowModel):
    raise ValueError(f"tfgen.export.save supports flow models so far, got "
                     f"{type(model).__name__}.")
  path = os.fspath(path)
  if version is None:
    version = _next_version(path)
  if isinstance(version, bool) or not isinstance(version, int) or version < 1:
    raise ValueError(f"`version` must be a positive int, got {version!r}.")
  target = os.path.join(path, str(version))
  if os.path.exists(target):
    raise ValueError(f"{target!r} already exists; exports are never overwritten.")
  os.makedirs(path, exist_ok=True)
  servable = _FlowServable(model)
  signatures = {"serving_default": servable.log_prob, "sample": servable.sample,
                "encode": servable.encode, "decode": servable.decode}
  staging = tempfile.mkdtemp(prefix=f".{version}.", dir=path)
  try:
    tf.saved_model.save(servable, staging, signatures=signatures)
    os.rename(staging, target)
  except BaseException:
    shutil.rmtree(staging, ignore_errors=True)
    raise
  return target

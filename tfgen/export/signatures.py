"""The standard serving signatures of a tfgen model, built from its contract.

A model declares what it takes (``data_spec``, ``condition_spec``,
``sample_options``) and :meth:`tfgen.base.GenerativeModel.serving_functions`
lists its signatures; the graph functions behind the two standard ones live
here, beside the exporter:

- ``serving_default`` (likelihood models): ``x`` int32 ``[batch, *event]``
  (float32 for models of real vectors)
  (and ``condition``) → ``log_prob`` and ``bits_per_dim``;
- ``sample``: ``num_samples``, ``seed`` int32 ``[2]``, ``temperature``, and
  ``length`` (sequences), ``prime`` (if the model takes one), ``condition``
  (conditional models) → ``samples`` int32 (float32 for real vectors).

Every input is checked in the graph, since a served request bypasses
Python: shapes, ranges, finiteness, one condition row per example, and the
allocation bounds ``max_samples``, ``max_length`` and
``max_sample_elements``.
"""

import tensorflow as tf

from tfgen import _validation
from tfgen.likelihood import bits_per_dim


class ServingFunction:
  """One signature of an exported model: ``fn(**inputs) → dict of tensors``.

  ``inputs`` are ``tf.TensorSpec``s whose names are the request's keys;
  ``warmup`` maps input names to the small value a warm-up request uses
  (inputs not named get zeros with unknown sizes set to 1).
  """

  def __init__(self, fn, inputs, warmup=None):
    self.fn, self.inputs, self.warmup = fn, list(inputs), dict(warmup or {})


def served_dtype(model):
  """The dtype of served data: int32 (JSON numbers) for discrete data, float32
  for real vectors."""
  return tf.float32 if model.is_continuous else tf.int32


def _condition_inputs(model):
  return [model.condition_spec] if model.condition_spec is not None else []


def sample_signature(model):
  """The ``sample`` signature of ``model`` (a ``GenerativeModel`` that samples)."""
  inputs = [tf.TensorSpec([], tf.int32, "num_samples"), tf.TensorSpec([2], tf.int32, "seed"),
            tf.TensorSpec([], tf.float32, "temperature")]
  warm = {"num_samples": 1, "temperature": 1.0}
  if model.is_sequence:
    inputs.append(tf.TensorSpec([], tf.int32, "length"))
    warm["length"] = 16
  if "prime" in model.sample_options():
    # Serving signatures have no optional inputs: an empty prime means none.
    inputs.append(tf.TensorSpec([None], tf.int32, "prime"))
    warm["prime"] = [1]

  def serve(num_samples, seed, temperature, length=None, prime=None, condition=None):
    num_samples = _validation.in_range(num_samples, 1, model.max_samples, "num_samples")
    options = {} if length is None else {"length": length}
    if prime is not None:
      options["prime"] = prime  # codes; empty means none (checked by the family)
    encoded = model._encode_condition(condition, num_samples)
    samples = model.sample_encoded(num_samples, seed, temperature, encoded, **options)
    return {"samples": tf.cast(samples, served_dtype(model))}
  return ServingFunction(serve, inputs + _condition_inputs(model), warm)


def log_prob_signature(model):
  """The ``serving_default`` signature of a likelihood model: ``x`` → ``log_prob``
  (deterministic: flows fix their dequantization) and ``bits_per_dim``."""
  x_spec = tf.TensorSpec([None] + list(model.event_shape), served_dtype(model), "x")

  def serve(x, condition=None):
    x = model._check_data(x)
    encoded = model._encode_condition(condition, tf.shape(x)[0])
    lp = model._fixed_log_prob(x, encoded)
    return {"log_prob": lp, "bits_per_dim": bits_per_dim(lp, model._event_dims(x))}
  return ServingFunction(serve, [x_spec] + _condition_inputs(model))

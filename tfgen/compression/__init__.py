"""Lossless compression with a model's likelihood: ``compress`` / ``decompress``.

An exact likelihood is a code length: a model at 2.98 bits/dim stores images
in about 2.98 bits per pixel. Here the model's own cached sampler drives a
range coder (``constriction``, Bamler 2022): at each step the sampler's
logits become the coder's probabilities (:mod:`tfgen.compression.coder`),
so encoding and decoding run the same traced step on the same fixed batch
shape and compute the same numbers.

>>> blob = compression.compress(model, images)          # bytes
>>> np.array_equal(compression.decompress(model, blob), images)
True

Which models code: every likelihood family whose ``log_prob`` is a product
of discrete conditionals and whose sampler draws each position once
(``model.cannot_code_reason`` is None): PixelCNN and Gated PixelCNN (the
U-Net option too), PixelRNN, NADE, MADE (one mask), WaveNet, CharRNN, the
byte and image Transformers, the video model. Flows would need bits-back
coding (Townsend et al. 2019), which is not implemented.

Decoding needs the same model (checked by a fingerprint of its config and
weights) and the same numerics: the same TensorFlow build on the same kind
of CPU or GPU. Elsewhere the probabilities may round differently; the CRC of
the decoded data then fails and decoding raises rather than return wrong
data.
"""

import numpy as np
import tensorflow as tf

from tfgen.autoregressive import sampling
from tfgen.compression import container
from tfgen.compression.coder import CodingLayoutError, StepCoder
from tfgen.compression.container import CompressionError, fingerprint

import constriction

__all__ = ["compress", "decompress", "read_header", "CompressionError", "fingerprint",
           "DEFAULT_BATCH"]

#: Examples coded per step: the decoder uses the encoder's batch size.
DEFAULT_BATCH = 64
_MAX_LABELS = 1 << 24   # position labels index the batch in int32 and stay exact


def _check_model(model):
  reason = getattr(model, "cannot_code_reason", "it is not a tfgen likelihood model.")
  if reason:
    raise ValueError(f"{getattr(model, 'name', type(model).__name__)} cannot compress: "
                     f"{reason}")


def _check_data(model, x):
  if isinstance(x, (tf.Tensor, tf.Variable)):
    x = x.numpy()
  x = np.asarray(x)
  if x.dtype == object or x.dtype == bool or not (np.issubdtype(x.dtype, np.integer)
                                                  or np.issubdtype(x.dtype, np.floating)):
    raise ValueError(f"`x` must be an integer array, got dtype {x.dtype}.")
  event = list(model.event_shape)
  if x.ndim != len(event) + 1 or any(d is not None and d != s for d, s in zip(event, x.shape[1:])):
    shown = ["N"] + ["T" if d is None else str(d) for d in event]
    raise ValueError(f"`x` must have shape [{', '.join(shown)}], got {list(x.shape)}.")
  if x.shape[0] == 0 or x.size == 0:
    raise ValueError(f"`x` is empty (shape {list(x.shape)}).")
  if np.issubdtype(x.dtype, np.floating) and (not np.all(np.isfinite(x))
                                              or np.any(x != np.round(x))):
    raise ValueError("`x` must hold whole numbers.")
  if x.min() < 0 or x.max() >= model.num_levels:
    raise ValueError(f"`x` values must lie in [0, {model.num_levels - 1}], got "
                     f"[{x.min()}, {x.max()}].")
  if model.is_sequence:
    model.check_window(x.shape[1])   # the family's own bound (a Transformer's context)
  return x.astype(model.data_dtype.name)


def _batch_size(model, batch_size, n, dims):
  if batch_size is None:
    batch_size = DEFAULT_BATCH
  if isinstance(batch_size, bool) or not isinstance(batch_size, (int, np.integer)) \
     or batch_size < 1:
    raise ValueError(f"`batch_size` must be a positive integer, got {batch_size!r}.")
  batch_size = int(min(batch_size, n, getattr(model, "max_samples", batch_size)))
  if batch_size * dims >= _MAX_LABELS:
    batch_size = max(1, (_MAX_LABELS - 1) // dims)
  if dims >= _MAX_LABELS:
    raise ValueError(f"examples of {dims:,} positions are too long to code; split them.")
  return batch_size


def _padded(a, size):
  """``a`` padded to ``size`` rows by repeating its first row (a valid value)."""
  if a.shape[0] == size:
    return a
  return np.concatenate([a, np.repeat(a[:1], size - a.shape[0], axis=0)])


def _run(model, coder, x, condition, batch_size, options):
  """Runs the coding sampler over ``x`` in fixed batches; returns the codes."""
  n = x.shape[0]
  dims = int(np.prod(x.shape[1:]))
  out = np.zeros((n, dims), np.int64)
  flat = x.reshape(n, dims)
  with sampling.coding(coder):
    for start in range(0, n, batch_size):
      rows = min(batch_size, n - start)
      batch = np.zeros((batch_size, dims), np.int64)
      batch[:rows] = flat[start:start + rows]
      coder.start(batch, rows)
      cond = None
      if condition is not None:
        cond = model._encode_condition(_padded(condition[start:start + rows], batch_size),
                                       batch_size)
      codes = model.sample_encoded(batch_size, 0, 1.0, cond, **options)
      try:
        if coder.error is not None:
          raise coder.error
        coder.check_complete()
      except CodingLayoutError as e:
        raise ValueError(f"{model.name} cannot compress: {e}.") from None
      codes = np.asarray(codes).reshape(batch_size, dims)[:rows]
      if coder.encoder is not None and not np.array_equal(codes, flat[start:start + rows]):
        raise ValueError(f"{model.name} cannot compress: its sampler does not place its draws "
                         "in the data's layout.")
      out[start:start + rows] = codes
  return out


def compress(model, x, condition=None, *, batch_size=None):
  """``x`` (integer ``[N, *event_shape]``; sequences ``[N, T]``) as bytes.

  Args:
    model: a tfgen likelihood model that codes (``cannot_code_reason`` None).
    x: the data, integers in ``[0, num_levels)``.
    condition: what a conditional model takes for ``x`` (class ids ``[N]``
      or vectors ``[N, *condition_shape]``); stored in the blob.
    batch_size: examples coded per step (default :data:`DEFAULT_BATCH`);
      recorded, and the decoder uses the same.

  Returns:
    ``bytes``: about ``−log₂ p(x | condition)`` bits, plus a header of a
    few hundred bytes and at most 32 bits of coder flush.
  """
  _check_model(model)
  x = _check_data(model, x)
  if condition is None and model.condition_spec is not None:
    raise ValueError(f"{model.name} is conditional: pass `condition`.")
  if condition is not None and model.condition_spec is None:
    raise ValueError(f"{model.name} takes no condition, got one.")
  if condition is not None:
    condition = np.asarray(condition.numpy() if hasattr(condition, "numpy") else condition)
    if condition.ndim == 0 or condition.shape[0] != x.shape[0]:
      raise ValueError(f"`condition` must have one row per example ({x.shape[0]}), got "
                       f"shape {list(condition.shape)}.")
    model._encode_condition(condition[:1], 1)   # validates values, with the model's message
  dims = int(np.prod(x.shape[1:]))
  batch = _batch_size(model, batch_size, x.shape[0], dims)
  options = model.coding_options(x.shape)
  encoder = constriction.stream.queue.RangeEncoder()
  coder = StepCoder(dims, encoder=encoder)
  _run(model, coder, x, condition, batch, options)
  header = {"family": type(model).__name__, "fingerprint": fingerprint(model),
            "shape": list(x.shape), "dtype": x.dtype.name, "batch_size": batch,
            "options": options, "data_crc32": container.data_crc(x),
            "ideal_bits": coder.ideal_bits,
            "condition": None if condition is None else container.array_field(condition)}
  return container.pack(header, encoder.get_compressed())


def read_header(blob):
  """The blob's header (a dict: ``shape``, ``dtype``, ``batch_size``,
  ``ideal_bits``, ``fingerprint``...) after checking its CRC."""
  return container.unpack(blob)[0]


def decompress(model, blob, *, with_condition=False):
  """The data ``compress(model, x, condition)`` stored in ``blob``: ``x``, or
  ``(x, condition)`` with ``with_condition=True``.

  Raises:
    CompressionError: ``blob`` is not a tfgen blob, is truncated or corrupted,
      is of a newer format, was made with another model, or decodes to data
      whose CRC differs (other numerics: another TF build or device).
  """
  _check_model(model)
  header, words = container.unpack(blob)
  try:
    if header["fingerprint"] != fingerprint(model):
      raise CompressionError(
          f"the blob was made with another model ({header['family']}, fingerprint "
          f"{header['fingerprint'][:12]}), not {model.name} ({fingerprint(model)[:12]}).")
    shape = [int(s) for s in header["shape"]]
    dtype = np.dtype(header["dtype"])
    batch = int(header["batch_size"])
    options = dict(header["options"])
    crc = int(header["data_crc32"])
  except (KeyError, TypeError, ValueError) as e:
    if isinstance(e, CompressionError):
      raise
    raise CompressionError("the blob's header is corrupted.") from None
  condition = (None if header.get("condition") is None
               else container.read_array_field(header["condition"]))
  dims = int(np.prod(shape[1:]))
  decoder = constriction.stream.queue.RangeDecoder(words)
  coder = StepCoder(dims, decoder=decoder)
  x = np.zeros(shape, dtype)
  try:
    codes = _run(model, coder, x, condition, batch, options)
  except ValueError as e:   # constriction's "out of data" and the like
    raise CompressionError(f"the blob does not decode with this model: {e}") from None
  x = codes.reshape(shape).astype(dtype)
  if container.data_crc(x) != crc:
    raise CompressionError("the decoded data fail their CRC-32: the blob was made on "
                           "different numerics (another TensorFlow build or device) or is "
                           "corrupted.")
  return (x, condition) if with_condition else x

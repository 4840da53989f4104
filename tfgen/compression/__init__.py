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

import time

import numpy as np
import tensorflow as tf

from tfgen.autoregressive import sampling
from tfgen.compression import container
from tfgen.compression.coder import CodingLayoutError, StepCoder
from tfgen.compression.container import CompressionError, fingerprint

import constriction

__all__ = ["compress", "decompress", "read_header", "num_symbols", "CompressionError", "fingerprint",
           "DEFAULT_BATCH"]

#: Examples coded per step: the decoder uses the encoder's batch size.
DEFAULT_BATCH = 64
_MAX_LABELS = 1 << 24   # position labels index the batch in int32 and stay exact
#: Most symbols one blob holds (a bound on what a crafted header can make the
#: decoder allocate); compress refuses more.
MAX_SYMBOLS = 1 << 28


def _check_model(model):
  reason = getattr(model, "cannot_code_reason", "it is not a tfgen likelihood model.")
  if reason:
    raise ValueError(f"{getattr(model, 'name', type(model).__name__)} cannot compress: "
                     f"{reason}")


def _check_array(model, x, event):
  if isinstance(x, (tf.Tensor, tf.Variable)):
    x = x.numpy()
  x = np.asarray(x)
  if x.dtype == object or x.dtype == bool or not (np.issubdtype(x.dtype, np.integer)
                                                  or np.issubdtype(x.dtype, np.floating)):
    raise ValueError(f"`x` must be an integer array, got dtype {x.dtype}.")
  if x.ndim != len(event) or any(d is not None and d != s for d, s in zip(event, x.shape)):
    shown = ["T" if d is None else str(d) for d in event]
    raise ValueError(f"`x` must have shape [{', '.join(shown)}] per example, got "
                     f"{list(x.shape)}.")
  if x.size == 0:
    raise ValueError(f"`x` is empty (shape {list(x.shape)}).")
  if np.issubdtype(x.dtype, np.floating) and (not np.all(np.isfinite(x))
                                              or np.any(x != np.round(x))):
    raise ValueError("`x` must hold whole numbers.")
  if x.min() < 0 or x.max() >= model.num_levels:
    raise ValueError(f"`x` values must lie in [0, {model.num_levels - 1}], got "
                     f"[{x.min()}, {x.max()}].")
  return x


def _check_data(model, x):
  """``(rows int64 [N, D_max], lengths or None, x as the model's dtype)``.

  ``x`` is an array ``[N, *event_shape]``, or, for a sequence model, a list
  of 1-D sequences of any lengths (``lengths`` then records them). A
  sequence longer than the family samples (a Transformer's context) is
  refused by its sampler, with the family's message."""
  event = list(model.event_shape)
  if model.is_sequence and isinstance(x, (list, tuple)):
    if not x:
      raise ValueError("`x` is an empty list of sequences.")
    seqs = [_check_array(model, s, event[1:] if len(event) > 1 else [None]) for s in x]
    lengths = np.array([len(s) for s in seqs], np.int64)
    rows = np.zeros((len(seqs), int(lengths.max())), np.int64)
    for i, q in enumerate(seqs):
      rows[i, :len(q)] = q
    return rows, lengths, [q.astype(model.data_dtype.name) for q in seqs]
  if isinstance(x, (tf.Tensor, tf.Variable)):
    x = x.numpy()
  x = np.asarray(x) if not isinstance(x, np.ndarray) else x
  if x.ndim == 0:
    raise ValueError(f"`x` must be a batch [N, ...], got a scalar.")
  if x.shape[0] == 0:
    raise ValueError(f"`x` is empty (shape {list(x.shape)}).")
  _check_array(model, x[0] if x.ndim == len(event) + 1 else x, event)  # shape: one example
  x = _check_array(model, x, [None] + event)
  return x.reshape(x.shape[0], -1).astype(np.int64), None, x.astype(model.data_dtype.name)


def _batch_size(model, batch_size, n, dims):
  if batch_size is None:
    batch_size = DEFAULT_BATCH
  if isinstance(batch_size, bool) or not isinstance(batch_size, (int, np.integer)) \
     or batch_size < 1:
    raise ValueError(f"`batch_size` must be a positive integer, got {batch_size!r}.")
  if dims >= _MAX_LABELS:
    raise ValueError(f"examples of {dims:,} positions are too long to code; split them.")
  batch_size = int(min(batch_size, n, getattr(model, "max_samples", batch_size)))
  return max(1, min(batch_size, (_MAX_LABELS - 1) // dims))


def _padded(a, size):
  """``a`` padded to ``size`` rows by repeating its first row (a valid value)."""
  if a.shape[0] == size:
    return a
  return np.concatenate([a, np.repeat(a[:1], size - a.shape[0], axis=0)])


def _order(lengths, n):
  """Coding order: longest sequences first (batches of like lengths), stable."""
  return np.arange(n) if lengths is None else np.argsort(-lengths, kind="stable")


def _run(model, coder, rows, lengths, condition, batch_size, event_shape):
  """Runs the coding sampler over ``rows`` (``[N, D]``, sequences padded to
  the longest) in fixed batches; returns the codes ``[N, D]``."""
  n, width = rows.shape
  out = np.zeros_like(rows)
  order = _order(lengths, n)
  with sampling.coding(coder):
    for start in range(0, n, batch_size):
      index = order[start:start + batch_size]
      size = width if lengths is None else int(lengths[index].max())
      batch = np.zeros((batch_size, size), np.int64)
      batch[:len(index)] = rows[index, :size]
      coder.start(batch, len(index), None if lengths is None else lengths[index])
      cond = None
      if condition is not None:
        cond = model._encode_condition(_padded(condition[index], batch_size), batch_size)
      shape = [size] + list(event_shape[1:]) if model.is_sequence else event_shape
      codes = model.sample_encoded(batch_size, 0, 1.0, cond,
                                   **model.coding_options([batch_size] + shape))
      try:
        if coder.error is not None:
          raise coder.error
        coder.check_complete()
      except CodingLayoutError as e:
        raise ValueError(f"{model.name} cannot compress: {e}.") from None
      codes = np.asarray(codes).reshape(batch_size, size)[:len(index)]
      if lengths is not None:
        codes = codes * (np.arange(size) < lengths[index][:, None])
      if coder.encoder is not None and not np.array_equal(codes, batch[:len(index)]):
        raise ValueError(f"{model.name} cannot compress: its sampler does not place its draws "
                         "in the data's layout.")
      out[index, :size] = codes
  return out


def _event(model, rows):
  """The event shape of ``rows``: the model's, with a sequence's length filled."""
  return [rows.shape[1] if d is None else int(d) for d in model.event_shape]


def _record(stats, coder, start):
  if stats is not None:
    stats.update(seconds=time.perf_counter() - start, coder_seconds=coder.coder_seconds)


def compress(model, x, condition=None, *, batch_size=None, stats=None):
  """``x`` (integer ``[N, *event_shape]``; sequences ``[N, T]``) as bytes.

  Args:
    model: a tfgen likelihood model that codes (``cannot_code_reason`` None).
    x: the data, integers in ``[0, num_levels)``: an array, or for a sequence
      model a list of 1-D sequences of any lengths (coded longest first, in
      batches of like lengths; :func:`decompress` returns the list).
    condition: what a conditional model takes for ``x`` (class ids ``[N]``
      or vectors ``[N, *condition_shape]``); stored in the blob.
    batch_size: examples coded per step (default :data:`DEFAULT_BATCH`);
      recorded, and the decoder uses the same.
    stats: a dict to fill with ``seconds`` (the whole call) and
      ``coder_seconds`` (of those, in the probabilities and range coder; the
      rest is the model's steps), or None.

  Returns:
    ``bytes``: about ``−log₂ p(x | condition)`` bits, plus a header of a
    few hundred bytes and at most 32 bits of coder flush.
  """
  start = time.perf_counter()
  _check_model(model)
  rows, lengths, x = _check_data(model, x)
  n = rows.shape[0]
  if condition is None and model.condition_spec is not None:
    raise ValueError(f"{model.name} is conditional: pass `condition`.")
  if condition is not None and model.condition_spec is None:
    raise ValueError(f"{model.name} takes no condition, got one.")
  if condition is not None:
    condition = np.asarray(condition.numpy() if hasattr(condition, "numpy") else condition)
    if condition.ndim == 0 or condition.shape[0] != n:
      raise ValueError(f"`condition` must have one row per example ({n}), got "
                       f"shape {list(condition.shape)}.")
    model._encode_condition(condition, n)   # validates values, with the model's message
  if rows.size > MAX_SYMBOLS:
    raise ValueError(f"`x` holds {rows.size:,} symbols (padded), more than MAX_SYMBOLS="
                     f"{MAX_SYMBOLS:,}; compress it in parts.")
  batch = _batch_size(model, batch_size, n, rows.shape[1])
  encoder = constriction.stream.queue.RangeEncoder()
  coder = StepCoder(encoder=encoder)
  _run(model, coder, rows, lengths, condition, batch, _event(model, rows))
  header = {"family": type(model).__name__, "fingerprint": fingerprint(model),
            "shape": [n] + _event(model, rows), "dtype": model.data_dtype.name,
            "batch_size": batch, "data_crc32": container.data_crc(rows),
            "lengths": None if lengths is None else container.array_field(lengths),
            "ideal_bits": coder.ideal_bits,
            "condition": None if condition is None else container.array_field(condition)}
  blob = container.pack(header, encoder.get_compressed())
  _record(stats, coder, start)
  return blob


def read_header(blob):
  """The blob's header (a dict: ``shape``, ``dtype``, ``batch_size``,
  ``ideal_bits``, ``fingerprint``...) after checking its CRC."""
  return container.unpack(blob)[0]


def num_symbols(blob):
  """How many symbols (pixels, bytes, samples) ``blob`` codes."""
  header = read_header(blob)
  if header.get("lengths") is not None:
    return int(container.read_array_field(header["lengths"]).sum())
  return int(np.prod(header["shape"]))


def decompress(model, blob, *, with_condition=False, stats=None):
  """The data ``compress(model, x, condition)`` stored in ``blob``: ``x``, or
  ``(x, condition)`` with ``with_condition=True``. ``stats`` as for
  :func:`compress`.

  Raises:
    CompressionError: ``blob`` is not a tfgen blob, is truncated or corrupted,
      is of a newer format, was made with another model, or decodes to data
      whose CRC differs (other numerics: another TF build or device).
  """
  start = time.perf_counter()
  header, words = container.unpack(blob)
  try:
    # The model first: a model that cannot code (a flow) did not make it either.
    if header["fingerprint"] != fingerprint(model):
      raise CompressionError(
          f"the blob was made with another model ({header['family']}, fingerprint "
          f"{header['fingerprint'][:12]}), not {model.name} ({fingerprint(model)[:12]}).")
    shape = [int(s) for s in header["shape"]]
    dtype = np.dtype(header["dtype"])
    batch = int(header["batch_size"])
    crc = int(header["data_crc32"])
    if len(shape) != len(model.event_shape) + 1 or min(shape) < 1 or batch < 1:
      raise ValueError(shape)
    if int(np.prod(shape, dtype=np.float64)) > MAX_SYMBOLS:
      raise CompressionError(f"the blob claims data of shape {shape}, more than "
                             f"{MAX_SYMBOLS:,} symbols: it is not a blob tfgen wrote.")
  except (KeyError, TypeError, ValueError) as e:
    if isinstance(e, CompressionError):
      raise
    raise CompressionError("the blob's header is corrupted.") from None
  _check_model(model)
  condition = (None if header.get("condition") is None
               else container.read_array_field(header["condition"]))
  lengths = (None if header.get("lengths") is None
             else container.read_array_field(header["lengths"]).astype(np.int64))
  rows = np.zeros((shape[0], int(np.prod(shape[1:]))), np.int64)
  if lengths is not None and (lengths.shape != (shape[0],) or lengths.min() < 1
                              or lengths.max() != rows.shape[1]):
    raise CompressionError("the blob's header is corrupted.")
  decoder = constriction.stream.queue.RangeDecoder(words)
  coder = StepCoder(decoder=decoder)
  try:
    codes = _run(model, coder, rows, lengths, condition, batch, shape[1:])
  except ValueError as e:   # constriction's "out of data" and the like
    raise CompressionError(f"the blob does not decode with this model: {e}") from None
  if container.data_crc(codes) != crc:
    raise CompressionError("the decoded data fail their CRC-32: the blob was made on "
                           "different numerics (another TensorFlow build or device) or is "
                           "corrupted.")
  _record(stats, coder, start)
  if lengths is None:
    x = codes.reshape(shape).astype(dtype)
  else:
    x = [codes[i, :k].astype(dtype) for i, k in enumerate(lengths)]
  return (x, condition) if with_condition else x

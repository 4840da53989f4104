"""The entropy coder a tfgen sampler drives: range coding with ``constriction``.

Within :func:`tfgen.autoregressive.sampling.coding`, a model's own sampler
calls :meth:`StepCoder.draw` once per step with that step's logits and the
position labels (flat indices into the padded batch ``[B, D]``) it draws.
The coder turns the logits into probabilities, float64
``softmax`` computed in numpy, which ``constriction``'s ``Categorical`` model
quantizes to fixed-point integers (every symbol keeps a nonzero
probability, so any code is codable). Encoding codes the data's symbol at
each position and returns it, so the sampler continues as if it had drawn
the data (teacher forcing through the cached step); decoding decodes the
symbol and returns it. Both sides run the same traced graph and the same
numpy, so the quantized probabilities agree bit for bit.

A range coder (a queue) codes symbols in the order they are decoded, so
one pass serves both sides: no reversal as with ANS.
"""

import time

import constriction
import numpy as np

_MODEL = constriction.stream.model.Categorical(perfect=False)


def probabilities(logits):
  """``softmax`` of float32 ``logits [N, K]`` in float64 (what is quantized)."""
  z = logits.astype(np.float64)
  z -= z.max(axis=1, keepdims=True)
  p = np.exp(z)
  p /= p.sum(axis=1, keepdims=True)
  return p


class StepCoder:
  """Codes the positions of a padded batch as a sampler draws them.

  Each batch (:meth:`start`) names its data rows and their lengths; the
  positions beyond them pad the batch to its fixed shape, draw 0 and are not
  coded.

  Args:
    encoder: a ``constriction`` ``RangeEncoder`` (encoding) or ``None``.
    decoder: a ``RangeDecoder`` (decoding) or ``None``.
  """

  def __init__(self, *, encoder=None, decoder=None):
    if (encoder is None) == (decoder is None):
      raise ValueError("pass exactly one of `encoder` and `decoder`.")
    self.encoder, self.decoder = encoder, decoder
    self.ideal_bits = 0.0     # Σ −log₂ p(symbol) under the unquantized probabilities
    self.coder_seconds = 0.0  # time in here (probabilities and the range coder)
    self.error = None

  def start(self, x_flat, real_rows, lengths=None):
    """A new batch: ``x_flat`` int ``[B, D]`` (zeros when decoding); the first
    ``real_rows`` rows are data, and row ``b`` holds ``lengths[b]`` positions
    (default all ``D``): the rest pad it and are not coded."""
    x_flat = np.asarray(x_flat, np.int64)
    self.dims = x_flat.shape[1]
    self.x = x_flat.reshape(-1)
    self.real_rows = real_rows
    self.lengths = np.full(real_rows, self.dims) if lengths is None else np.asarray(lengths)
    self.counts = np.zeros(self.x.size, np.int32)

  def draw(self, logits, labels):
    """The codes at ``labels`` (see the module docstring). After an error the
    rest of the run draws zeros, and the driver raises ``self.error``."""
    if self.error is None:
      start = time.perf_counter()
      try:
        return self._draw(logits, labels)
      except Exception as e:  # noqa: BLE001 - raised by the driver, outside TF
        self.error = e
      finally:
        self.coder_seconds += time.perf_counter() - start
    return np.zeros(np.shape(labels), np.int32)

  def _draw(self, logits, labels):
    flat = np.asarray(labels, np.int64).reshape(-1)
    logits = np.asarray(logits).reshape(flat.size, -1)
    if flat.size and (flat.min() < 0 or flat.max() >= self.x.size):
      raise CodingLayoutError(f"a draw named position {flat.max()}, outside the batch of "
                              f"{self.x.size} positions")
    np.add.at(self.counts, flat, 1)
    row = flat // self.dims
    real = row < self.real_rows
    real[real] = flat[real] % self.dims < self.lengths[row[real]]
    values = np.zeros(flat.size, np.int64)
    if real.any():
      p = probabilities(logits[real])
      if self.encoder is not None:
        symbols = self.x[flat[real]]
        if symbols.max() >= p.shape[1]:
          raise CodingLayoutError(f"a symbol {symbols.max()} is outside the {p.shape[1]} "
                                  "levels of the step's logits")
        self.encoder.encode(symbols.astype(np.int32), _MODEL, p)
      else:
        symbols = np.asarray(self.decoder.decode(_MODEL, p), np.int64)
        self.x[flat[real]] = symbols
      self.ideal_bits -= float(np.log2(p[np.arange(symbols.size), symbols]).sum())
      values[real] = symbols
    return values.reshape(np.shape(labels)).astype(np.int32)

  def check_complete(self):
    """Raises :class:`CodingLayoutError` unless every data position was drawn
    exactly once in the batch just run."""
    counts = self.counts[: self.real_rows * self.dims]
    if counts.size and (counts.min() != 1 or counts.max() != 1):
      raise CodingLayoutError(f"its sampler drew positions between {counts.min()} and "
                              f"{counts.max()} times; coding needs each exactly once")


class CodingLayoutError(RuntimeError):
  """A sampler does not draw each position once in data order: it cannot code."""

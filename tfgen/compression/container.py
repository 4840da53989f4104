"""The compressed blob: a header, the range coder's words and a CRC.

Layout (little-endian)::

    b"TFGZ" | format u16 | header length u32 | header (JSON, UTF-8)
            | payload (u32 words) | CRC-32 of everything before it

The header records what the decoder must reproduce exactly: the model's
fingerprint, the data's shape and dtype, the fixed batch size and the
sampler options the encoder used, the condition (stored, as the decoder
needs it), the payload's length, and a CRC-32 of the decoded data, checked
after decoding so a wrong result is never returned silently.
"""

import base64
import hashlib
import io
import json
import struct
import zlib

import numpy as np

MAGIC = b"TFGZ"
FORMAT = 1
_FIXED = struct.Struct("<4sHI")   # magic, format, header length
_MAX_HEADER = 1 << 26


class CompressionError(ValueError):
  """A blob that cannot be decoded: not tfgen's, truncated, corrupted, from
  a newer format, or made with another model."""


def fingerprint(model):
  """A hex SHA-256 of the model's class, config (without its name) and
  weights: the decoder must be the encoder's model, bit for bit."""
  h = hashlib.sha256(type(model).__name__.encode())
  config = {k: v for k, v in model.get_config().items() if k != "name"}
  h.update(json.dumps(config, sort_keys=True, default=str).encode())
  for w in model.weights:
    value = np.ascontiguousarray(w.numpy())
    h.update(f"{value.dtype.str}{value.shape}".encode())
    h.update(value.tobytes())
  return h.hexdigest()


def array_field(a):
  """An array as a JSON-able dict (``.npy`` bytes, zlib, base64)."""
  buf = io.BytesIO()
  np.save(buf, np.ascontiguousarray(a), allow_pickle=False)
  return base64.b64encode(zlib.compress(buf.getvalue(), 9)).decode("ascii")


def read_array_field(text):
  try:
    return np.load(io.BytesIO(zlib.decompress(base64.b64decode(text))), allow_pickle=False)
  except Exception as e:   # noqa: BLE001 - any failure here is a corrupted header
    raise CompressionError(f"the blob's stored condition is corrupted ({e}).") from None


def data_crc(x):
  return zlib.crc32(np.ascontiguousarray(x).tobytes()) & 0xFFFFFFFF


def pack(header, words):
  """The blob of ``header`` (a JSON-able dict) and payload ``words`` (uint32)."""
  words = np.asarray(words, np.dtype("<u4"))
  header = dict(header, payload_words=int(words.size))
  text = json.dumps(header, sort_keys=True).encode("utf-8")
  body = _FIXED.pack(MAGIC, FORMAT, len(text)) + text + words.tobytes()
  return body + struct.pack("<I", zlib.crc32(body) & 0xFFFFFFFF)


def unpack(blob):
  """``(header dict, payload uint32 words)``; :class:`CompressionError` for a
  blob that is not tfgen's, truncated, corrupted or of a newer format."""
  if not isinstance(blob, (bytes, bytearray, memoryview)):
    raise CompressionError(f"a compressed blob is bytes, got {type(blob).__name__}.")
  blob = bytes(blob)
  if len(blob) < _FIXED.size or blob[:4] != MAGIC:
    raise CompressionError("not a tfgen compressed blob (its first bytes are not "
                           f"{MAGIC!r}).")
  _, version, size = _FIXED.unpack_from(blob)
  if version > FORMAT:
    raise CompressionError(f"the blob is in format {version}, written by a newer tfgen; this "
                           f"tfgen reads format {FORMAT} and older.")
  if version < 1 or size > _MAX_HEADER:
    raise CompressionError("the blob's header is corrupted.")
  end = _FIXED.size + size
  if len(blob) < end + 4:
    raise CompressionError(f"the blob is truncated: {len(blob)} bytes, shorter than its "
                           f"{end}-byte header.")
  try:
    header = json.loads(blob[_FIXED.size:end].decode("utf-8"))
    words = int(header["payload_words"])
  except (ValueError, KeyError, TypeError, UnicodeDecodeError):
    raise CompressionError("the blob's header is corrupted.") from None
  expected = end + 4 * words + 4
  if len(blob) < expected:
    raise CompressionError(f"the blob is truncated: {len(blob)} bytes of {expected}.")
  if len(blob) > expected:
    raise CompressionError(f"the blob has {len(blob) - expected} bytes after its end: it is "
                           "corrupted, or two blobs were joined.")
  (crc,) = struct.unpack_from("<I", blob, expected - 4)
  if zlib.crc32(blob[:expected - 4]) & 0xFFFFFFFF != crc:
    raise CompressionError("the blob is corrupted (its CRC-32 does not match).")
  return header, np.frombuffer(blob, np.dtype("<u4"), words, end).astype(np.uint32)

"""Files in and out of a compressed archive: what ``tfgen compress`` and
``tfgen decompress`` write and read.

The model's data kind decides what a file means:

- images (``kind='image'``): a folder of images (PNG, BMP, GIF; JPEG is
  decoded, so only its pixels are kept), one image, or an IDX file
  (``*-ubyte``, optionally ``.gz``). Each image must have the model's size
  and channels: nothing is resized or converted, since the point is
  lossless. Images come back as PNG files with the same pixels (a PNG
  file's bytes are one encoding of its pixels, so they may differ); an IDX
  file comes back byte for byte (uncompressed).
- text (``kind='text'``): any file, as bytes; it comes back byte for byte.
- audio (``kind='audio'``): WAV files, resampled to the model's rate and
  μ-law coded. The archive is lossless **on the 8-bit μ-law signal**, not on
  the 16-bit original: a WAV comes back as 16-bit PCM of the μ-law decoded
  signal, and compressing that file again gives the same codes.

Sequences are cut into rows of the model's window (a Transformer's context),
coded as one batch; the shorter last row of a file is its own blob.

Archive layout: ``b"TFGA" | format u16 | manifest length u32 | manifest (JSON)
| blobs | CRC-32``; each blob is a :mod:`tfgen.compression` blob with its own
header, fingerprint and CRCs.
"""

import json
import os
import struct
import zlib

import numpy as np
import tensorflow as tf

from tfgen import audio, compression
from tfgen.compression.container import CompressionError

MAGIC = b"TFGA"
FORMAT = 1
_FIXED = struct.Struct("<4sHI")
IMAGE_EXTENSIONS = (".png", ".bmp", ".gif", ".jpg", ".jpeg")
KINDS = ("image", "text", "audio")


def _check_kind(kind):
  if kind not in KINDS:
    raise ValueError(f"tfgen compress codes images, text and WAV audio; this model's data "
                     f"are {kind}.")


def _image_files(path):
  if os.path.isdir(path):
    found = []
    for root, _, files in os.walk(path):
      found += [os.path.join(root, f) for f in files
                if os.path.splitext(f)[1].lower() in IMAGE_EXTENSIONS]
    if not found:
      raise ValueError(f"no image files ({', '.join(IMAGE_EXTENSIONS)}) under {path!r}.")
    return sorted(found)
  return [path]


def _is_idx(path):
  name = os.path.basename(path).lower()
  return "-ubyte" in name or name.endswith((".idx", ".idx.gz"))


def _read_image(path, shape):
  try:
    raw = tf.io.read_file(path)
    image = tf.io.decode_image(raw, expand_animations=False).numpy()
  except tf.errors.OpError as e:
    raise ValueError(f"{path!r} is not a readable image ({e.message.splitlines()[0]}).") \
        from None
  if tuple(image.shape) != tuple(shape):
    raise ValueError(f"{path!r} is {list(image.shape)} (height, width, channels); the model "
                     f"codes {list(shape)} images, and lossless coding resizes nothing.")
  return image


def _idx_entry(path, shape):
  from tfgen.data.idx import read_idx
  array = read_idx(path)
  want = tuple(shape[:2]) if shape[2] == 1 else tuple(shape)
  if array.dtype != np.uint8 or tuple(array.shape[1:]) != want:
    raise ValueError(f"{path!r} holds {array.dtype} {list(array.shape)}; the model codes "
                     f"uint8 images of {list(want)}.")
  name = os.path.basename(path)
  name = name[:-3] if name.endswith(".gz") else name
  header = bytes([0, 0, 8, array.ndim]) + b"".join(d.to_bytes(4, "big") for d in array.shape)
  return {"kind": "idx", "name": name, "header": header.hex()}, array.reshape(
      (-1,) + tuple(shape))


def _rows(codes, length):
  """``codes`` as full rows ``[N, length]`` and the rest (possibly empty)."""
  full = len(codes) // length * length
  return codes[:full].reshape(-1, length), codes[full:]


def _sequence(model, codes, length, batch_size):
  rows, rest = _rows(np.asarray(codes, np.int32), length)
  blobs = []
  if len(rows):
    blobs.append(compression.compress(model, rows, batch_size=batch_size))
  if len(rest):
    blobs.append(compression.compress(model, rest[None], batch_size=batch_size))
  return blobs


def window(model, config):
  """Row length for sequences: a bounded context, else the training window."""
  length = getattr(model, "context_length", None) or config.get("window") \
      or model.default_window
  return int(length)


def _unique(name, names):
  if name in names:
    raise ValueError(f"two inputs would both be written as {name!r}; compress them "
                     "separately.")
  names.add(name)
  return name


def compress_files(model, kind, paths, *, config=None, sample_rate=None, batch_size=None,
                   progress=None):
  """The archive bytes of ``paths`` coded with ``model`` (data of ``kind``)."""
  _check_kind(kind)
  config = config or {}
  entries, blobs, names = [], [], set()
  for path in paths:
    path = os.fspath(path)
    if not os.path.exists(path):
      raise ValueError(f"no file or folder at {path!r}.")
    if kind == "image":
      shape = model.event_shape
      if os.path.isfile(path) and _is_idx(path):
        entry, images = _idx_entry(path, shape)
        _unique(entry["name"], names)
        parts = [compression.compress(model, images, batch_size=batch_size)]
      else:
        files = _image_files(path)
        base = os.path.dirname(os.path.abspath(path)) if os.path.isdir(path) else None
        rel = [os.path.relpath(f, base) if base else os.path.basename(f) for f in files]
        rel = [_unique(os.path.splitext(r)[0] + ".png", names) for r in rel]
        images = np.stack([_read_image(f, shape) for f in files])
        entry = {"kind": "images", "names": rel}
        parts = [compression.compress(model, images, batch_size=batch_size)]
    elif os.path.isdir(path):
      raise ValueError(f"{path!r} is a folder; pass its {kind} files.")
    elif kind == "text":
      with open(path, "rb") as f:
        data = f.read()
      if not data:
        raise ValueError(f"{path!r} is empty.")
      entry = {"kind": "text", "name": _unique(os.path.basename(path), names)}
      parts = _sequence(model, np.frombuffer(data, np.uint8), window(model, config), batch_size)
    else:
      samples, rate = audio.read_wav(path)
      samples = audio.resample(samples.numpy(), rate, sample_rate)
      codes = audio.mu_law_encode(np.clip(samples, -1., 1.), model.num_levels).numpy()
      entry = {"kind": "wav", "name": _unique(os.path.basename(path), names),
               "rate": int(sample_rate), "input_rate": int(rate)}
      parts = _sequence(model, codes, window(model, config), batch_size)
    entry["blobs"] = [len(b) for b in parts]
    entries.append(entry)
    blobs += parts
    if progress:
      progress(path, entry, parts)
  manifest = json.dumps({"entries": entries}, sort_keys=True).encode("utf-8")
  body = _FIXED.pack(MAGIC, FORMAT, len(manifest)) + manifest + b"".join(blobs)
  return body + struct.pack("<I", zlib.crc32(body) & 0xFFFFFFFF)


def read_manifest(archive):
  """``(entries, blobs)`` of archive bytes; :class:`CompressionError` if it is
  not a tfgen archive, or is truncated or corrupted."""
  if len(archive) < _FIXED.size + 4 or archive[:4] != MAGIC:
    raise CompressionError(f"not a tfgen archive (its first bytes are not {MAGIC!r}).")
  _, version, size = _FIXED.unpack_from(archive)
  if version > FORMAT:
    raise CompressionError(f"the archive is in format {version}, written by a newer tfgen; "
                           f"this tfgen reads format {FORMAT}.")
  (crc,) = struct.unpack_from("<I", archive, len(archive) - 4)
  if zlib.crc32(archive[:-4]) & 0xFFFFFFFF != crc:
    raise CompressionError("the archive is truncated or corrupted (its CRC-32 does not "
                           "match).")
  try:
    entries = json.loads(archive[_FIXED.size:_FIXED.size + size].decode("utf-8"))["entries"]
    sizes = [int(s) for e in entries for s in e["blobs"]]
  except (ValueError, KeyError, TypeError, UnicodeDecodeError):
    raise CompressionError("the archive's manifest is corrupted.") from None
  offset, blobs = _FIXED.size + size, []
  for s in sizes:
    blobs.append(archive[offset:offset + s])
    offset += s
  if offset != len(archive) - 4:
    raise CompressionError("the archive's manifest does not match its length.")
  return entries, blobs


def _safe(name):
  norm = os.path.normpath(name)
  if os.path.isabs(norm) or norm.startswith("..") or not norm or norm == ".":
    raise CompressionError(f"the archive names a file outside the output folder: {name!r}.")
  return norm


def decompress_files(model, archive):
  """``[(relative path, bytes)]``: every file of the archive, decoded in
  memory (nothing is written here)."""
  entries, blobs = read_manifest(archive)
  out, blob = [], iter(blobs)
  for entry in entries:
    parts = [compression.decompress(model, next(blob)) for _ in entry["blobs"]]
    kind = entry.get("kind")
    if kind == "images":
      images = parts[0]
      if len(entry["names"]) != len(images):
        raise CompressionError("the archive's manifest is corrupted.")
      for name, image in zip(entry["names"], images):
        out.append((_safe(name), tf.io.encode_png(image.astype(np.uint8)).numpy()))
    elif kind == "idx":
      out.append((_safe(entry["name"]), bytes.fromhex(entry["header"])
                  + parts[0].astype(np.uint8).tobytes()))
    elif kind in ("text", "wav"):
      codes = np.concatenate([p.reshape(-1) for p in parts])
      if kind == "text":
        out.append((_safe(entry["name"]), codes.astype(np.uint8).tobytes()))
      else:
        samples = audio.mu_law_decode(codes, model.num_levels).numpy()
        wav = tf.audio.encode_wav(np.clip(samples, -1., 1.)[:, None], entry["rate"]).numpy()
        out.append((_safe(entry["name"]), wav))
    else:
      raise CompressionError(f"the archive holds an entry of unknown kind {kind!r}.")
  return out

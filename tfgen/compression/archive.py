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

Sequences are cut into rows of the model's window (a Transformer's context,
else the training window), and the rows of every file are coded together
in one blob (batched across files; each file's last row is shorter).

Archive layout: ``b"TFGA" | format u16 | manifest length u32 | manifest (JSON)
| image blobs | the sequences' blob | CRC-32``; each blob is a :mod:`tfgen.compression` blob with its own
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
  """``codes`` cut into rows of ``length``, the last one shorter."""
  return [codes[i:i + length] for i in range(0, len(codes), length)]


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


def compress_files(model, kind, paths, *, config=None, sample_rate=None, batch_size=None):
  """The archive bytes of ``paths`` coded with ``model`` (data of ``kind``).

  Images of one input (a folder, a file, an IDX file) are one blob; the rows
  of every text or WAV file are one blob together (batched across files).
  """
  _check_kind(kind)
  config = config or {}
  entries, blobs, names, rows = [], [], set(), []
  for path in paths:
    path = os.fspath(path)
    if not os.path.exists(path):
      raise ValueError(f"no file or folder at {path!r}.")
    if kind == "image":
      shape = model.event_shape
      if os.path.isfile(path) and _is_idx(path):
        entry, images = _idx_entry(path, shape)
        _unique(entry["name"], names)
      else:
        files = _image_files(path)
        base = os.path.dirname(os.path.abspath(path)) if os.path.isdir(path) else None
        rel = [os.path.relpath(f, base) if base else os.path.basename(f) for f in files]
        rel = [_unique(os.path.splitext(r)[0] + ".png", names) for r in rel]
        images = np.stack([_read_image(f, shape) for f in files])
        entry = {"kind": "images", "names": rel}
      blobs.append(compression.compress(model, images, batch_size=batch_size))
      entry["blobs"] = [len(blobs[-1])]
    elif os.path.isdir(path):
      raise ValueError(f"{path!r} is a folder; pass its {kind} files.")
    else:
      if kind == "text":
        with open(path, "rb") as f:
          codes = np.frombuffer(f.read(), np.uint8)
        entry = {"kind": "text", "name": _unique(os.path.basename(path), names)}
      else:
        samples, rate = audio.read_wav(path)
        codes = audio.resampled_codes(samples.numpy(), rate, sample_rate, model.num_levels)
        entry = {"kind": "wav", "name": _unique(os.path.basename(path), names),
                 "rate": int(sample_rate), "input_rate": int(rate)}
      if not len(codes):
        raise ValueError(f"{path!r} is empty.")
      cut = _rows(np.asarray(codes, np.int32), window(model, config))
      entry["rows"] = len(cut)
      rows += cut
    entries.append(entry)
  if rows:
    blobs.append(compression.compress(model, rows, batch_size=batch_size))
  manifest = json.dumps({"entries": entries, "sequence_blob": bool(rows)},
                        sort_keys=True).encode("utf-8")
  body = _FIXED.pack(MAGIC, FORMAT, len(manifest)) + manifest + b"".join(blobs)
  return body + struct.pack("<I", zlib.crc32(body) & 0xFFFFFFFF)


def read_manifest(archive):
  """``(entries, image blobs, the sequences' blob or b"")`` of archive bytes; :class:`CompressionError` if it is
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
    manifest = json.loads(archive[_FIXED.size:_FIXED.size + size].decode("utf-8"))
    entries = manifest["entries"]
    sizes = [int(s) for e in entries for s in e.get("blobs", [])]
  except (ValueError, KeyError, TypeError, AttributeError, UnicodeDecodeError):
    raise CompressionError("the archive's manifest is corrupted.") from None
  offset, blobs = _FIXED.size + size, []
  for s in sizes:
    blobs.append(archive[offset:offset + s])
    offset += s
  sequences = archive[offset:len(archive) - 4] if manifest.get("sequence_blob") else b""
  if not sequences and offset != len(archive) - 4:
    raise CompressionError("the archive's manifest does not match its length.")
  return entries, blobs, sequences


def _safe(name):
  norm = os.path.normpath(name)
  if os.path.isabs(norm) or norm.startswith("..") or not norm or norm == ".":
    raise CompressionError(f"the archive names a file outside the output folder: {name!r}.")
  return norm


def decompress_files(model, archive):
  """``[(relative path, bytes)]``: every file of the archive, decoded in
  memory (nothing is written here)."""
  entries, blobs, sequences = read_manifest(archive)
  rows = iter(compression.decompress(model, sequences) if sequences else [])
  out, blob = [], iter(blobs)
  try:
    for entry in entries:
      kind = entry.get("kind")
      if kind == "images":
        images = compression.decompress(model, next(blob))
        if len(entry["names"]) != len(images):
          raise CompressionError("the archive's manifest is corrupted.")
        for name, image in zip(entry["names"], images):
          out.append((_safe(name), tf.io.encode_png(image.astype(np.uint8)).numpy()))
      elif kind == "idx":
        images = compression.decompress(model, next(blob))
        out.append((_safe(entry["name"]), bytes.fromhex(entry["header"])
                    + images.astype(np.uint8).tobytes()))
      elif kind in ("text", "wav"):
        codes = np.concatenate([next(rows) for _ in range(int(entry["rows"]))])
        if kind == "text":
          out.append((_safe(entry["name"]), codes.astype(np.uint8).tobytes()))
        else:
          samples = audio.mu_law_decode(codes, model.num_levels).numpy()
          wav = tf.audio.encode_wav(np.clip(samples, -1., 1.)[:, None], entry["rate"]).numpy()
          out.append((_safe(entry["name"]), wav))
      else:
        raise CompressionError(f"the archive holds an entry of unknown kind {kind!r}.")
  except (StopIteration, KeyError, TypeError, ValueError) as e:
    if isinstance(e, CompressionError):
      raise
    raise CompressionError("the archive's manifest is corrupted.") from None
  return out

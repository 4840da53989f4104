"""A folder of images (PNG, JPEG, GIF, BMP), decoded by TensorFlow's own decoders.

Layout, as in Keras's ``image_dataset_from_directory``: images directly in
the folder (no labels), or one subfolder per class (labels, with the class
names kept), optionally under ``train/`` and ``test/``. Without those two,
an image is a test image when a hash of its path (relative to the folder)
falls in the last tenth, so adding files never moves one between splits.
"""

import dataclasses
import os
import struct
import zlib

import numpy as np
import tensorflow as tf

EXTENSIONS = (".png", ".jpg", ".jpeg", ".gif", ".bmp")

#: The most pixels one image may declare in its header: a larger one (a
#: decompression bomb, e.g. 20000×20000) is refused before it is decoded.
MAX_PIXELS = 1 << 26

#: The most bytes of decoded images a folder may hold in memory.
MAX_BYTES = 1 << 32


@dataclasses.dataclass(frozen=True)
class FolderImages:
  """The decoded images of a folder.

  Attributes:
    images: uint8 ``[N, H, W, C]`` (``C`` is 1 when every image is grayscale,
      else 3), with values in ``[0, 2^bits)``.
    labels: int64 ``[N]`` class indices, or None without class subfolders.
    class_names: the class subfolder names, in label order (``()`` if none).
    is_test: bool ``[N]``: the test split.
    skipped: the files that could not be used, ``[(path, reason)]``.
  """
  images: np.ndarray
  labels: np.ndarray
  class_names: tuple
  is_test: np.ndarray
  skipped: tuple


_CACHE = {}


def read_folder(root, image_size=None, bits=8, strict=False):
  """Decodes every image under ``root`` (see the module docstring).

  Args:
    root: the folder.
    image_size: ``(H, W)``: each image is resized (its shorter side to fit,
      keeping its aspect ratio, bilinear with antialiasing) and then
      centre-cropped to ``H×W``. None: every image must have the same size.
    bits: keep the top ``bits`` bits of each value (``x >> (8 − bits)``), so
      the data have ``2^bits`` levels (Glow's 5-bit CelebA: ``bits=5``).
    strict: refuse the first unreadable file (naming it) instead of
      skipping and counting it.

  Alpha is composited over white (an icon's transparent background becomes
  white); palette and grayscale-with-alpha images are converted the same way.

  Raises:
    ValueError: the folder holds no images, mixed sizes without
      ``image_size`` (two of the sizes are named), or, with ``strict``, an
      unreadable file.
  """
  root = os.path.abspath(os.fspath(root))
  if not os.path.isdir(root):
    raise ValueError(f"{root!r} is not a folder of images.")
  if image_size is not None:
    image_size = _size(image_size)
  if isinstance(bits, bool) or not isinstance(bits, int) or not 1 <= bits <= 8:
    raise ValueError(f"`bits` must be an int in [1, 8], got {bits!r}.")
  key = (root, image_size, bits, bool(strict), _stamp(root))
  if key not in _CACHE:
    _CACHE.clear()       # one folder at a time in memory
    _CACHE[key] = _read(root, image_size, bits, strict)
  return _CACHE[key]


def _size(value):
  if isinstance(value, str):
    parts = value.lower().split("x")
    try:
      value = tuple(int(p) for p in parts)
    except ValueError:
      value = None
  if (not isinstance(value, (tuple, list)) or len(value) != 2
      or not all(isinstance(d, (int, np.integer)) and 1 <= d <= 4096 for d in value)):
    raise ValueError(f"`image_size` must be HxW with sizes in [1, 4096] (e.g. 32x32), got "
                     f"{value!r}.")
  return tuple(int(d) for d in value)


def _stamp(root):
  """Changes when files are added or removed (for the in-process cache)."""
  return tuple(sorted((d, len(f)) for d, _, f in os.walk(root)))


def _files(root):
  """``[(path, class name or None, split or None)]`` of the images under ``root``."""
  splits = [s for s in ("train", "test") if os.path.isdir(os.path.join(root, s))]
  tops = [(os.path.join(root, s), s) for s in splits] if len(splits) == 2 else [(root, None)]
  found = []
  for top, split in tops:
    classes = sorted(d for d in os.listdir(top) if os.path.isdir(os.path.join(top, d))
                     and not d.startswith("."))
    if classes:
      for c in classes:
        for dirpath, dirnames, names in os.walk(os.path.join(top, c)):
          dirnames.sort()
          found += [(os.path.join(dirpath, n), c, split) for n in sorted(names)
                    if n.lower().endswith(EXTENSIONS)]
    else:
      found += [(os.path.join(top, n), None, split) for n in sorted(os.listdir(top))
                if n.lower().endswith(EXTENSIONS) and os.path.isfile(os.path.join(top, n))]
  return found


def header_size(data):
  """``(height, width)`` that a PNG, GIF, BMP or JPEG header declares, or None."""
  if data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) >= 24:
    w, h = struct.unpack(">II", data[16:24])
    return h, w
  if data[:6] in (b"GIF87a", b"GIF89a") and len(data) >= 10:
    w, h = struct.unpack("<HH", data[6:10])
    return h, w
  if data[:2] == b"BM" and len(data) >= 26:
    w, h = struct.unpack("<ii", data[18:26])
    return abs(h), abs(w)
  if data[:2] == b"\xff\xd8":
    i = 2
    while i + 9 < len(data):
      if data[i] != 0xFF:
        return None
      marker, length = data[i + 1], struct.unpack(">H", data[i + 2:i + 4])[0]
      if 0xC0 <= marker <= 0xCF and marker not in (0xC4, 0xC8, 0xCC):
        h, w = struct.unpack(">HH", data[i + 5:i + 9])
        return h, w
      i += 2 + length
  return None


def _decode(path):
  """uint8 ``[h, w, 1 or 3]`` (alpha over white), or a reason it cannot be used."""
  try:
    with open(path, "rb") as f:
      data = f.read()
  except OSError as e:
    return f"unreadable ({e.strerror})"
  size = header_size(data)
  if size is None:
    return "not a PNG, JPEG, GIF or BMP image"
  if size[0] * size[1] > MAX_PIXELS or 0 in size:
    return f"declares {size[0]}x{size[1]} pixels (at most {MAX_PIXELS:,})"
  try:
    image = tf.io.decode_image(data, expand_animations=False).numpy()
  except (tf.errors.InvalidArgumentError, tf.errors.UnknownError) as e:
    return f"cannot be decoded ({str(e).splitlines()[0][:80]})"
  if image.shape[-1] in (2, 4):          # alpha: composite over white
    alpha = image[..., -1:].astype(np.float32) / 255.
    colour = image[..., :-1].astype(np.float32)
    image = np.round(colour * alpha + 255. * (1. - alpha)).astype(np.uint8)
  return image


def _fit(image, size):
  """Resize the shorter side to fit ``size``, then centre-crop to it."""
  h, w = image.shape[:2]
  scale = max(size[0] / h, size[1] / w)
  new = (max(size[0], round(h * scale)), max(size[1], round(w * scale)))
  if new != (h, w):
    image = tf.image.resize(image, new, antialias=True).numpy()
    image = np.clip(np.round(image), 0, 255).astype(np.uint8)
  top, left = (new[0] - size[0]) // 2, (new[1] - size[1]) // 2
  return image[top:top + size[0], left:left + size[1]]


def _read(root, image_size, bits, strict):
  files = _files(root)
  if not files:
    raise ValueError(f"{root!r} holds no images ({', '.join(EXTENSIONS)}), directly or in "
                     "class subfolders.")
  kept, skipped, sizes, total_bytes = [], [], {}, 0
  for path, label, split in files:
    image = _decode(path)
    if isinstance(image, str):
      if strict:
        raise ValueError(f"{path}: {image} (without --strict it would be skipped).")
      skipped.append((path, image))
      continue
    if image_size is not None:
      image = _fit(image, image_size)
    sizes.setdefault(image.shape[:2], path)
    if len(sizes) > 1:
      (a, pa), (b, pb) = list(sizes.items())[:2]
      raise ValueError(f"{root!r} holds images of different sizes ({a[0]}x{a[1]} in {pa}, "
                       f"{b[0]}x{b[1]} in {pb}); pass an image size (CLI: --image-size HxW) "
                       "to resize and centre-crop them all.")
    kept.append((image, label, split, os.path.relpath(path, root)))
    total_bytes += image.size
    if total_bytes > MAX_BYTES:
      raise ValueError(f"{root!r}: the decoded images exceed {MAX_BYTES:,} bytes; pass a "
                       "smaller --image-size.")
  if not kept:
    raise ValueError(f"{root!r}: none of its {len(files)} image files could be read (first: "
                     f"{skipped[0][0]}: {skipped[0][1]}).")
  channels = 1 if all(k[0].shape[-1] == 1 for k in kept) else 3
  images = np.stack([np.repeat(k[0], 3, -1) if k[0].shape[-1] < channels else k[0]
                     for k in kept])
  images = images >> (8 - bits) if bits < 8 else images
  class_names = tuple(sorted({k[1] for k in kept if k[1] is not None}))
  labels = (np.array([class_names.index(k[1]) for k in kept], np.int64) if class_names
            else None)
  is_test = np.array([k[2] == "test" if k[2] is not None else
                      zlib.crc32(k[3].encode("utf-8")) % 10 == 9 for k in kept])
  return FolderImages(images.astype(np.uint8), labels, class_names, is_test, tuple(skipped))

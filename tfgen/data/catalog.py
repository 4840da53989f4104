"""``tfgen.data.load``: every dataset tfgen knows, as a tuned ``tf.data`` pipeline."""

import dataclasses
import math
import os

import numpy as np
import tensorflow as tf

from tfgen.data import fashion, image_folder, moving, table, tfds_source
from tfgen.data.fortunes import FORTUNES_DIR, read_fortunes, split_files
from tfgen.data.idx import read_idx_split
from tfgen.data.text import read_text, split_text
from tfgen.data.wav import ASTERISK_DIR, load_wav_folder
from tfgen.data.windows import fixed_windows, random_windows

SPLITS = ("train", "test")
ICONS_DIR = "/usr/share/icons/oxygen/base/32x32"
#: Image datasets read from a folder: name → the default folder (or None).
FOLDERS = {"images": None, "icons": ICONS_DIR}


@dataclasses.dataclass(frozen=True)
class DatasetSpec:
  """What a dataset holds.

  Attributes:
    name: the name ``load`` takes.
    kind: ``'image'`` (uint8 ``[H, W, C]``), ``'video'`` (uint8
      ``[T, H, W, C]``), ``'audio'`` (μ-law codes), ``'text'`` (UTF-8
      bytes) or ``'table'`` (rows ``[D]``: float32, or small integers);
      sequences come as int32 ``[window]``.
    shape: the image, video or row shape, or ``None`` for sequences.
    num_levels: the data are integers in ``[0, num_levels)``; None for
      real-valued tables.
    num_classes: number of labels, or ``None`` when there are none.
    sample_rate: Hz, for audio.
    source: where the data come from.
    needs_data_dir: ``data_dir`` must name the files.
  """
  name: str
  kind: str
  shape: tuple = None
  num_levels: int = 256
  num_classes: int = None
  sample_rate: int = None
  source: str = ""
  needs_data_dir: bool = False
  columns: tuple = None
  class_names: tuple = None
  skipped: tuple = ()


FASHION_CLASSES = ("t-shirt/top", "trouser", "pullover", "dress", "coat", "sandal", "shirt",
                   "sneaker", "bag", "ankle boot")
CIFAR10_CLASSES = ("airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse",
                   "ship", "truck")


def _image(name, shape, levels, source, classes=10):
  names = (FASHION_CLASSES if "fashion" in name else CIFAR10_CLASSES if "cifar" in name
           else tuple(str(d) for d in range(10)))
  return DatasetSpec(name, "image", shape, levels, classes, source=source, class_names=names)


DATASETS = {s.name: s for s in [
    _image("fashion_mnist", (28, 28, 1), 256,
           "IDX files (apt: dataset-fashion-mnist, or data_dir), else TFDS download"),
    _image("binarized_fashion_mnist", (28, 28, 1), 2, "fashion_mnist thresholded at 128"),
    _image("mnist", (28, 28, 1), 256, "IDX files in data_dir, else TFDS download"),
    _image("binarized_mnist", (28, 28, 1), 2, "mnist thresholded at 128"),
    _image("cifar10", (32, 32, 3), 256, "TFDS (data_dir = a TFDS data folder)"),
    DatasetSpec("moving_fashion_mnist", "video", (20, 64, 64, 1), 256,
                source="generated from fashion_mnist: two 28x28 items bounce in 64x64 frames "
                       "(a fixed seed per split)"),
    DatasetSpec("moving_fashion_mnist_small", "video", (10, 32, 32, 1), 256,
                source="generated from fashion_mnist: two 14x14 items bounce in 32x32 frames"),
    DatasetSpec("binarized_moving_fashion_mnist_small", "video", (10, 32, 32, 1), 2,
                source="moving_fashion_mnist_small thresholded at 128"),
    DatasetSpec("speech", "audio", sample_rate=8000,
                source=f"WAV files in {ASTERISK_DIR} (apt: asterisk-core-sounds-en-wav), "
                       "or data_dir"),
    DatasetSpec("wav", "audio", sample_rate=8000, source="any folder of WAV files (data_dir)",
                needs_data_dir=True),
    DatasetSpec("fortunes", "text",
                source=f"the fortune files in {FORTUNES_DIR} (apt: fortunes), or data_dir, "
                       "as bytes"),
    DatasetSpec("text", "text", source="a .txt file or a folder of them (data_dir), as bytes",
                needs_data_dir=True),
    DatasetSpec("images", "image", needs_data_dir=True,
                source="a folder of PNG/JPEG/GIF/BMP images (data_dir), one subfolder per "
                       "class, optionally under train/ and test/"),
    DatasetSpec("icons", "image", (32, 32, 3), 256,
                source=f"the 32x32 icons of {ICONS_DIR} (apt: oxygen-icon-theme), a class "
                       "per category folder, alpha over white"),
    DatasetSpec("table", "table", num_levels=None, needs_data_dir=True,
                source="a .csv (header row), .npy or .npz file of numbers (data_dir); "
                       "columns= chooses CSV columns"),
]}

_HOW_TO_GET = {
    "mnist": ("MNIST was not found. Get it one of these ways:\n"
              "  - pass data_dir=DIR (CLI: --data-dir DIR) with the four IDX files "
              "(train-images-idx3-ubyte[.gz], ...)\n"
              "  - online: TFDS downloads it on first use (tfds.load('mnist'))."),
    "cifar10": ("CIFAR-10 was not found. Get it one of these ways:\n"
                "  - online: TFDS downloads it on first use (tfds.load('cifar10'))\n"
                "  - pass data_dir=DIR (CLI: --data-dir DIR): a TFDS data folder where it "
                "was prepared (copy ~/tensorflow_datasets from a machine that has it)."),
}


#: Largest batch and sequence window ``load`` builds: beyond them one argument
#: could exhaust memory before anything else is checked.
MAX_BATCH = 65536
MAX_WINDOW = 1 << 22


def _positive(name, value, limit=None):
  if isinstance(value, bool) or not isinstance(value, int) or value < 1:
    raise ValueError(f"`{name}` must be a positive int, got {value!r}.")
  if limit is not None and value > limit:
    raise ValueError(f"`{name}` must be at most {limit}, got {value}.")


def info(name, data_dir=None, columns=None, image_size=None, bits=8, strict=False):
  """The :class:`DatasetSpec` of ``name``; raises ``ValueError`` naming the choices.

  A dataset whose shape is its files' is read from ``data_dir`` when given:
  a ``table`` then has the row shape ``(D,)``, the number of levels (None
  for real values) and the column names; an image folder (``images``,
  ``icons``) the image shape, ``2^bits`` levels, its class names and the
  files it ``skipped``. ``image_size``, ``bits`` and ``strict`` are
  :func:`tfgen.data.image_folder.read_folder`'s.
  """
  if isinstance(name, str) and name.startswith("tfds:"):
    found = tfds_source.describe(name[5:], data_dir)
    names = found["class_names"]
    return DatasetSpec(name, found["kind"], found["shape"], 256, len(names) if names else None,
                       sample_rate=8000 if found["kind"] == "audio" else None,
                       source="TFDS (data_dir = a TFDS data folder)", class_names=names)
  if name not in DATASETS:
    raise ValueError(f"Unknown dataset {name!r}; available: {', '.join(DATASETS)} (or "
                     "tfds:NAME[:CONFIG] for a prepared TFDS dataset of images, audio or text).")
  spec = DATASETS[name]
  if columns is not None and spec.kind != "table":
    raise ValueError(f"`columns` chooses the columns of a table; dataset {name!r} is "
                     f"{spec.kind}.")
  folder_options = image_size is not None or bits != 8 or strict
  if folder_options and name not in FOLDERS:
    raise ValueError(f"image_size, bits and strict apply to image folders (images, icons); "
                     f"dataset {name!r} is not one.")
  if name in FOLDERS and (data_dir or FOLDERS[name]):
    found = _folder(name, data_dir, image_size, bits, strict)
    return dataclasses.replace(
        spec, shape=found.images.shape[1:], num_levels=2 ** bits,
        num_classes=len(found.class_names) or None, class_names=found.class_names or None,
        skipped=found.skipped)
  if spec.kind == "table" and data_dir is not None:
    found = table.read_table(data_dir, columns)
    return dataclasses.replace(spec, shape=(len(found.columns),), num_levels=found.num_levels,
                               columns=found.columns)
  return spec


def _images(base, split, data_dir):
  """``(images uint8 [N, H, W, C], labels int64 [N])`` in memory, or TFDS's
  unbatched dataset of such pairs."""
  if base == "fashion_mnist":
    return fashion.load_fashion_mnist(split, data_dir)
  if base == "mnist" and data_dir is not None:
    found = read_idx_split(data_dir, split)
    if found is not None:
      return found
  how = _HOW_TO_GET[base]
  return tfds_source.load(base, split, data_dir=data_dir, how_to_get=how)


def _sequences(spec, split, data_dir, sample_rate):
  if spec.name.startswith("tfds:"):
    return tfds_source.load_sequences(spec.name[5:], split, data_dir, sample_rate)
  if spec.name == "fortunes":
    return split_files(read_fortunes(data_dir), split)
  if spec.kind == "text":
    return [split_text(read_text(data_dir), split)]
  folder = data_dir or ASTERISK_DIR
  try:
    clips = load_wav_folder(folder, sample_rate=sample_rate)
  except FileNotFoundError as e:
    raise FileNotFoundError(
        f"{e} Pass data_dir=FOLDER (CLI: --data-dir FOLDER) with .wav files"
        + (", or install the Debian package asterisk-core-sounds-en-wav." if spec.name ==
           "speech" else ".")) from None
  # Every tenth file (in sorted order) is held out for testing.
  return [c for i, c in enumerate(clips) if (i % 10 == 9) == (split == "test")] or clips[:1]


def _videos(spec, split, batch_size, data_dir, labels, shuffle, repeat, take, seed, encode):
  """Batches of uint8 videos ``[B, T, H, W, 1]`` (see :mod:`tfgen.data.moving`)."""
  if labels:
    raise ValueError(f"Dataset {spec.name!r} has no labels.")
  if encode is not None:
    raise ValueError(f"`encode` applies to image datasets; {spec.name!r} is video.")
  frames, size = spec.shape[0], spec.shape[1]
  count = None if take is None else min(take, moving.NUM_VIDEOS[split])
  generate = moving.moving_fashion_mnist(split, frames, size, data_dir, count)
  if count is not None or np.prod(spec.shape) * moving.NUM_VIDEOS[split] <= 2 ** 27:
    # Generated once per process and held in memory (<= 128 MB): batched by index.
    videos = np.stack(list(generate()))
    if spec.num_levels == 2:
      videos = (videos >= 128).astype(np.uint8)
    return _in_memory(videos, batch_size, shuffle, repeat, seed)
  ds = tf.data.Dataset.from_generator(generate, output_signature=tf.TensorSpec(spec.shape,
                                                                              tf.uint8))
  if spec.num_levels == 2:
    ds = ds.map(lambda x: tf.cast(x >= 128, tf.uint8))
  return _streamed(ds, batch_size, shuffle, repeat, seed)


def _encoded(ds, encode, batch_size=500):
  """Runs ``encode`` once over ``ds`` in batches and returns its results in
  memory, as numpy arrays (e.g. images → VQ-VAE codes, computed once)."""
  parts = [tf.nest.map_structure(lambda t: tf.convert_to_tensor(t).numpy(), encode(batch))
           for batch in ds.batch(batch_size)]
  if not parts:
    raise ValueError("`encode`: the dataset is empty.")
  return tf.nest.map_structure(lambda *xs: np.concatenate(xs, 0), *parts)


def _folder(name, data_dir, image_size, bits, strict):
  root = data_dir or FOLDERS[name]
  if name == "icons" and image_size is None:
    image_size = (32, 32)     # the animation strips (480x32) give their middle frame
  if name == "icons" and not os.path.isdir(root):
    raise FileNotFoundError(f"The icons are not installed in {root} (Debian package "
                            "oxygen-icon-theme), and data_dir was not given.")
  return image_folder.read_folder(root, image_size, bits, strict)


def _table(spec, split, data_dir, columns, labels, encode, take):
  """The rows of a table file's split (float32, or uint8 for small integers)."""
  if labels:
    raise ValueError(f"Dataset {spec.name!r} has no labels.")
  if encode is not None:
    raise ValueError(f"`encode` applies to image datasets; {spec.name!r} is a table.")
  found = table.read_table(data_dir, columns)
  rows = found.values[table.split_rows(len(found.values), split)]
  if take is not None:
    rows = rows[:take]
  dtype = np.float32 if found.num_levels is None else np.uint8
  return rows.astype(dtype)


def load(name, split="train", batch_size=64, data_dir=None, *, labels=False, shuffle=None,
         repeat=False, take=None, seed=None, window=None, sample_rate=8000, cache=True,
         encode=None, columns=None, image_size=None, bits=8, strict=False):
  """A batched ``tf.data.Dataset`` of the named dataset.

  Images come as uint8 ``[B, H, W, C]`` (with ``labels=True``, pairs
  ``(images, labels)``), videos as uint8 ``[B, T, H, W, 1]``; audio and text as int32 ``[B, window]`` windows of
  μ-law codes or bytes. ``info(name)`` says which, and the number of levels.

  The pipeline shuffles the training split (images and table rows held in
  memory: all of them, each epoch anew, a batch gathered at once; TFDS
  streams: a 10 000-example buffer after caching the decoded data; sequences:
  uniformly random windows), repeats when asked, batches (dropping the last
  partial batch when repeating, so every step has the same shape), and
  prefetches. The test split of a sequence dataset is every non-overlapping
  window, in order, once.

  Args:
    name: one of ``tfgen.data.DATASETS``: ``fashion_mnist``, ``mnist``,
      ``cifar10``, their ``binarized_`` variants (MNISTs only; pixels ≥ 128
      → 1), ``speech`` (the Asterisk prompts), ``wav`` (a folder),
      ``fortunes`` (the Debian fortune files, byte-level), ``text`` (a
      file or folder, byte-level), or ``moving_fashion_mnist`` (20 frames of
      64×64), ``moving_fashion_mnist_small`` (10 frames of 32×32) and
      ``binarized_moving_fashion_mnist_small``: bouncing Fashion-MNIST items
      generated with a fixed seed per split (:mod:`tfgen.data.moving`).
    split: ``'train'`` or ``'test'``. Sequence datasets hold out every tenth
      WAV or fortune file, or the last 10% of the text.
    batch_size: examples per batch.
    data_dir: where the files are; for TFDS datasets, a TFDS data folder.
    labels: images only: yield ``(images, labels)``.
    shuffle: defaults to ``split == 'train'``.
    repeat: repeat forever (sequence training windows are always endless).
    take: images and videos: keep the first ``take`` examples.
    seed: for shuffling and window positions.
    window: sequence length for audio/text (default 4096 audio, 256 text).
    sample_rate: audio is resampled to this rate.
    cache: cache decoded TFDS data in memory.
    encode: images only: a function ``batch → batch`` (for example a
      model's ``data_encoder``: images → VQ-VAE codes) run once over the
      whole split before shuffling, in batches of 500; its results are kept
      in memory, so an epoch costs no encoding.
    image_size, bits, strict: image folders (``images``, ``icons``): resize
      and centre-crop to ``(H, W)``, keep ``bits`` bits per value, refuse
      unreadable files (see :func:`tfgen.data.image_folder.read_folder`).
    columns: tables: the CSV columns to keep (names, or a comma-separated
      string). A table's test split is the rows whose index hashes into the
      last tenth (stable when rows are added at the end).

  Raises:
    ValueError: unknown dataset or split, or bad arguments.
    FileNotFoundError: the data are not on this machine and cannot be
      downloaded; the message says how to get them.
  """
  spec = info(name, data_dir) if str(name).startswith("tfds:") else info(name)
  if split not in SPLITS:
    raise ValueError(f"`split` must be one of {list(SPLITS)}, got {split!r}.")
  _positive("batch_size", batch_size, MAX_BATCH)
  if take is not None:
    _positive("take", take)
  if window is not None:
    _positive("window", window, MAX_WINDOW)
  if seed is not None and (isinstance(seed, bool) or not isinstance(seed, int)):
    raise ValueError(f"`seed` must be None or an int, got {seed!r}.")
  if not isinstance(labels, bool):
    raise ValueError(f"`labels` must be True or False, got {labels!r}.")
  if spec.needs_data_dir and data_dir is None:
    raise ValueError(f"Dataset {name!r} needs data_dir (CLI: --data-dir): {spec.source}.")
  if data_dir is not None and not os.path.exists(data_dir):
    raise FileNotFoundError(f"data_dir {os.fspath(data_dir)!r} does not exist.")
  shuffle = split == "train" if shuffle is None else shuffle

  if encode is not None and not callable(encode):
    raise ValueError(f"`encode` must be None or a function, got {type(encode).__name__}.")
  if columns is not None and spec.kind != "table":
    raise ValueError(f"`columns` chooses the columns of a table; dataset {name!r} is "
                     f"{spec.kind}.")
  if (image_size is not None or bits != 8 or strict) and name not in FOLDERS:
    raise ValueError(f"image_size, bits and strict apply to image folders (images, icons); "
                     f"dataset {name!r} is not one.")
  if spec.kind == "table":
    rows = _table(spec, split, data_dir, columns, labels, encode, take)
    return _in_memory(rows, batch_size, shuffle, repeat, seed)
  if spec.kind == "video":
    return _videos(spec, split, batch_size, data_dir, labels, shuffle, repeat, take, seed,
                   encode)
  if spec.kind != "image":
    if labels:
      raise ValueError(f"Dataset {name!r} has no labels.")
    if encode is not None:
      raise ValueError(f"`encode` applies to image datasets; {name!r} is {spec.kind}.")
    window = window or (4096 if spec.kind == "audio" else 256)
    seqs = _sequences(spec, split, data_dir, sample_rate)
    if split == "train" and shuffle:
      return random_windows(seqs, window, batch_size, seed)
    return _streamed(fixed_windows(seqs, window, batch_size).unbatch(), batch_size,
                     shuffle=False, repeat=repeat, seed=seed)

  if name.startswith("tfds:"):
    source = tfds_source.load_named(name[5:], split, data_dir)
  elif name in FOLDERS:
    found = _folder(name, data_dir, image_size, bits, strict)
    if labels and not found.class_names:
      raise ValueError(f"Dataset {name!r} in {data_dir!r} has no labels (no class subfolders).")
    keep = found.is_test if split == "test" else ~found.is_test
    if not keep.any():
      raise ValueError(f"The {split} split of {data_dir or FOLDERS[name]!r} holds no images.")
    y = found.labels[keep] if found.labels is not None else np.zeros(int(keep.sum()), np.int64)
    source = (found.images[keep], y)
  else:
    source = _images(name.replace("binarized_", ""), split, data_dir)
  binary = spec.num_levels == 2
  if isinstance(source, tf.data.Dataset):      # TFDS: decoded as it streams
    ds = source.take(take) if take is not None else source
    if binary:
      ds = ds.map(lambda x, y: (tf.cast(x >= 128, tf.uint8), y))
    if not labels:
      ds = ds.map(lambda x, y: x)
    if encode is not None:
      return _in_memory(_encoded(ds, encode), batch_size, shuffle, repeat, seed)
    return _streamed(ds.cache() if cache else ds, batch_size, shuffle, repeat, seed)
  x, y = (a[:take] for a in source) if take is not None else source
  if binary:
    x = (x >= 128).astype(np.uint8)
  examples = (x, y) if labels else x
  if encode is not None:
    examples = _encoded(tf.data.Dataset.from_tensor_slices(examples), encode)
  return _in_memory(examples, batch_size, shuffle, repeat, seed)


def _streamed(ds, batch_size, shuffle, repeat, seed):
  """Batches of an unbatched dataset that is not held in memory (TFDS, large
  generated videos, evaluation windows): a 10 000-example shuffle buffer,
  repeated when asked (the last partial batch dropped then), prefetched."""
  if shuffle:
    ds = ds.shuffle(10000, seed=seed, reshuffle_each_iteration=True)
  if repeat:
    ds = ds.repeat()
  return ds.batch(batch_size, drop_remainder=repeat).prefetch(tf.data.AUTOTUNE)


def _in_memory(examples, batch_size, shuffle, repeat, seed):
  """Batches of in-memory arrays (a nest of equal-length numpy arrays).

  The pipeline's elements are whole batches of example indices, each batch
  gathered at once: a per-example pipeline (``from_tensor_slices``, then
  ``shuffle`` and ``batch``) costs tens of microseconds an example, this a
  ``gather`` per batch (``bench/input_pipeline.py``). Shuffled, each pass
  is a new stateless permutation of every example (from ``seed``, drawn at
  random when None). Repeating, the passes follow one another as one stream
  cut into whole batches (a batch may span two passes): chunks of
  ``batch_size / gcd(n, batch_size)`` passes are batched at once, or, where
  such a chunk would exceed 2^24 indices, each pass drops the examples
  short of a whole batch (others each pass).
  """
  n = len(tf.nest.flatten(examples)[0])
  tensors = tf.nest.map_structure(tf.constant, examples)
  if seed is None:
    seed = int(np.random.default_rng().integers(2 ** 31))
  copies = 1                                          # permutations per chunk
  if repeat:
    copies = batch_size // math.gcd(n, batch_size)
    if copies * n > 2 ** 24:
      copies = -(-batch_size // n)

  def order(epoch):
    if not shuffle:
      return tf.tile(tf.range(n, dtype=tf.int64), [copies])
    return tf.concat([tf.random.experimental.stateless_shuffle(
        tf.range(n, dtype=tf.int64), seed=tf.stack([tf.cast(seed, tf.int64),
                                                    epoch * copies + k]))
                      for k in range(copies)], 0)

  gather = lambda i: tf.nest.map_structure(lambda t: tf.gather(t, i), tensors)
  if repeat:
    whole = copies * n // batch_size * batch_size
    index = tf.data.Dataset.counter().flat_map(lambda e: tf.data.Dataset.from_tensor_slices(
        tf.reshape(order(e)[:whole], [-1, batch_size])))
  else:
    first = order(tf.constant(0, tf.int64))
    index = tf.data.Dataset.range(0, n, batch_size).map(
        lambda start: first[start:start + batch_size])
  # A gather is too cheap to pay for a parallel map's thread hand-offs.
  return index.map(gather).prefetch(tf.data.AUTOTUNE)

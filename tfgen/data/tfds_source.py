"""TensorFlow Datasets as a source: prepared data first, a download only when online."""

import socket

import numpy as np
import tensorflow as tf

_DOWNLOAD_HOST = ("storage.googleapis.com", 443)


def online(timeout=3.0):
  """Whether TFDS's download host is reachable. Offline this fails in
  milliseconds, where TFDS itself would retry for minutes."""
  try:
    socket.create_connection(_DOWNLOAD_HOST, timeout=timeout).close()
    return True
  except OSError:
    return False


def load(name, split, data_dir=None, how_to_get="", as_arrays=False):
  """``tfds.load(name, split, as_supervised=True)`` as uint8 images and int64 labels.

  Uses data already prepared in ``data_dir`` (TFDS's default folder when
  ``None``) and downloads only when the download host is reachable.

  Returns:
    A ``tf.data.Dataset`` of ``(image, label)`` pairs, or with
    ``as_arrays=True`` the numpy arrays ``(images [N, ...], labels [N])``.

  Raises:
    FileNotFoundError: the data are neither prepared nor downloadable; the
      message is ``how_to_get`` plus what TFDS reported.
  """
  try:
    import tensorflow_datasets as tfds
    builder = tfds.builder(name, data_dir=data_dir)
    if not builder.is_prepared():
      if not online():
        raise FileNotFoundError(f"{name} is not prepared in TFDS's folder "
                                f"({builder.data_dir}) and the machine is offline")
      builder.download_and_prepare()
    if as_arrays:
      images, labels = tfds.as_numpy(builder.as_dataset(split=split, batch_size=-1,
                                                        as_supervised=True))
      return images.astype(np.uint8), labels.astype(np.int64)
    ds = builder.as_dataset(split=split, as_supervised=True, shuffle_files=False)
    return ds.map(lambda x, y: (tf.cast(x, tf.uint8), tf.cast(y, tf.int64)),
                  num_parallel_calls=tf.data.AUTOTUNE)
  except Exception as e:  # offline, TFDS missing or broken: say how to get the data.
    raise FileNotFoundError(f"{how_to_get}\n(TFDS said: {type(e).__name__}: {e})") from None


def _builder(name, data_dir):
  """The prepared TFDS builder of ``NAME[:CONFIG]``; one-line errors otherwise."""
  import tensorflow_datasets as tfds
  full = name.replace(":", "/", 1)
  try:
    builder = tfds.builder(full, data_dir=data_dir)
  except Exception as e:  # unknown name, or a folder TFDS cannot read
    raise FileNotFoundError(
        f"TFDS has no dataset {full!r} in {data_dir or 'its default folder'} "
        f"({type(e).__name__}: {' '.join(str(e).split())[:160]}).") from None
  if not builder.is_prepared():
    raise FileNotFoundError(
        f"TFDS dataset {full!r} is not prepared in {builder.data_dir}: prepare it on a machine "
        f"that is online (`tfds build {full}`, or tfds.load('{full}')) and pass --data-dir "
        "with that TFDS data folder.")
  return builder


def image_features(builder):
  """``(image feature key, label feature key or None)`` of a TFDS builder."""
  import tensorflow_datasets as tfds
  features = builder.info.features
  image = next((k for k, f in features.items() if isinstance(f, tfds.features.Image)), None)
  label = next((k for k, f in features.items() if isinstance(f, tfds.features.ClassLabel)),
               None)
  return image, label


def sequence_feature(builder):
  """``(kind, key)`` of the first Audio (``'audio'``) or Text (``'text'``)
  feature of a TFDS builder, or ``(None, None)``."""
  import tensorflow_datasets as tfds
  for key, feature in builder.info.features.items():
    if isinstance(feature, tfds.features.Audio):
      return "audio", key
    if isinstance(feature, tfds.features.Text):
      return "text", key
  return None, None


def describe(name, data_dir=None):
  """What TFDS dataset ``NAME[:CONFIG]`` holds, for tfgen: a dict with
  ``kind`` (``'image'``, ``'audio'`` or ``'text'``: its first Image
  feature, else its first Audio or Text feature), ``shape`` (images),
  ``class_names`` (images with a ClassLabel, else None), ``sample_rate``
  (audio) and ``splits``.

  Raises:
    FileNotFoundError: not prepared (the message says where TFDS looked and
      how to prepare it).
    ValueError: no image, audio or text feature; images of no fixed size;
      audio whose sample rate TFDS does not record.
  """
  builder = _builder(name, data_dir)
  splits = tuple(builder.info.splits.keys())
  image, label = image_features(builder)
  if image is None:
    kind, key = sequence_feature(builder)
    if kind is None:
      raise ValueError(f"TFDS dataset {name!r} has no image, audio or text feature (it has "
                       f"{', '.join(builder.info.features.keys())}).")
    rate = getattr(builder.info.features[key], "sample_rate", None) if kind == "audio" else None
    if kind == "audio" and not rate:
      raise ValueError(f"TFDS dataset {name!r}: its audio feature {key!r} records no sample "
                       "rate, so it cannot be resampled.")
    return {"kind": kind, "shape": None, "class_names": None, "sample_rate": rate,
            "splits": splits}
  shape = tuple(builder.info.features[image].shape)
  if None in shape:
    raise ValueError(f"TFDS dataset {name!r} has images of varying size {shape}; tfgen needs "
                     "one size (an image folder takes --image-size).")
  names = tuple(builder.info.features[label].names) if label else None
  return {"kind": "image", "shape": shape, "class_names": names, "sample_rate": None,
          "splits": splits}


def _split(builder, name, split):
  """``split``, or ``validation`` for a missing ``test``; ValueError otherwise."""
  splits = builder.info.splits.keys()
  if split in splits:
    return split
  if split == "test" and "validation" in splits:
    return "validation"
  raise ValueError(f"TFDS dataset {name!r} has no {split!r} split (it has "
                   f"{', '.join(splits)}).")


def load_sequences(name, split, data_dir=None, sample_rate=8000, levels=256):
  """The examples of TFDS audio or text dataset ``NAME[:CONFIG]``'s split as
  a list of integer arrays: audio downmixed to mono, resampled to
  ``sample_rate`` and μ-law encoded to ``levels`` codes (integer samples
  scaled by their type's range first); text as its UTF-8 bytes."""
  from tfgen import audio
  builder = _builder(name, data_dir)
  kind, key = sequence_feature(builder)
  if kind is None:
    raise ValueError(f"TFDS dataset {name!r} has no audio or text feature.")
  import tensorflow_datasets as tfds
  out = []
  rows = tfds.as_numpy(builder.as_dataset(split=_split(builder, name, split),
                                          shuffle_files=False))
  for row in rows:
    value = row[key]
    if kind == "text":
      out.append(np.frombuffer(bytes(value), np.uint8).astype(np.int32))
      continue
    samples = np.asarray(value)
    if np.issubdtype(samples.dtype, np.integer):
      samples = samples / float(np.iinfo(samples.dtype).max + 1)
    if samples.ndim == 2:
      samples = samples.mean(axis=1)
    out.append(audio.resampled_codes(samples, builder.info.features[key].sample_rate,
                                     sample_rate, levels))
  return [c for c in out if len(c)]


def load_named(name, split, data_dir=None):
  """``(image uint8, label int64)`` pairs of TFDS image dataset ``NAME[:CONFIG]``
  (label 0 when it has none); ``test`` falls back to ``validation``."""
  builder = _builder(name, data_dir)
  split = _split(builder, name, split)
  image, label = image_features(builder)
  ds = builder.as_dataset(split=split, shuffle_files=False)
  return ds.map(lambda d: (tf.cast(d[image], tf.uint8),
                           tf.cast(d[label], tf.int64) if label else tf.constant(0, tf.int64)),
                num_parallel_calls=tf.data.AUTOTUNE)

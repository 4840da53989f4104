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


def describe(name, data_dir=None):
  """``(shape, class names or None, splits)`` of TFDS image dataset ``NAME[:CONFIG]``.

  Raises:
    FileNotFoundError: not prepared (the message says where TFDS looked and
      how to prepare it).
    ValueError: no image feature, or images of no fixed size.
  """
  builder = _builder(name, data_dir)
  image, label = image_features(builder)
  if image is None:
    raise ValueError(f"TFDS dataset {name!r} has no image feature (tfds: datasets of images "
                     f"are supported; it has {', '.join(builder.info.features.keys())}).")
  shape = tuple(builder.info.features[image].shape)
  if None in shape:
    raise ValueError(f"TFDS dataset {name!r} has images of varying size {shape}; tfgen needs "
                     "one size (an image folder takes --image-size).")
  names = tuple(builder.info.features[label].names) if label else None
  return shape, names, tuple(builder.info.splits.keys())


def load_named(name, split, data_dir=None):
  """``(image uint8, label int64)`` pairs of TFDS image dataset ``NAME[:CONFIG]``
  (label 0 when it has none); ``test`` falls back to ``validation``."""
  builder = _builder(name, data_dir)
  splits = builder.info.splits.keys()
  if split not in splits:
    if split == "test" and "validation" in splits:
      split = "validation"
    else:
      raise ValueError(f"TFDS dataset {name!r} has no {split!r} split (it has "
                       f"{', '.join(splits)}).")
  image, label = image_features(builder)
  ds = builder.as_dataset(split=split, shuffle_files=False)
  return ds.map(lambda d: (tf.cast(d[image], tf.uint8),
                           tf.cast(d[label], tf.int64) if label else tf.constant(0, tf.int64)),
                num_parallel_calls=tf.data.AUTOTUNE)

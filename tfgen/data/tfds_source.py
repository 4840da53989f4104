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

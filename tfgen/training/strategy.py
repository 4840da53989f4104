"""Choosing a ``tf.distribute`` strategy."""

import json
import os

import tensorflow as tf

STRATEGIES = ("auto", "default", "mirrored", "multiworker")


def get_strategy(name="auto"):
  """Returns a ``tf.distribute.Strategy``.

  - ``'auto'``: ``MirroredStrategy`` over all GPUs when there are two or
    more, else the default (single-device) strategy.
  - ``'default'``: the default strategy.
  - ``'mirrored'``: ``MirroredStrategy`` over the local GPUs (or the CPU).
  - ``'multiworker'``: ``MultiWorkerMirroredStrategy``, configured from the
    ``TF_CONFIG`` environment variable (``{"cluster": {"worker": [...]},
    "task": {"type": "worker", "index": i}}``).

  Build, compile and fit tfgen models inside ``strategy.scope()``; batch
  sizes given to ``fit`` are global.

  Raises:
    ValueError: an unknown name, or ``'multiworker'`` without a valid
      ``TF_CONFIG``.
  """
  if name not in STRATEGIES:
    raise ValueError(f"`strategy` must be one of {list(STRATEGIES)}, got {name!r}.")
  if name == "auto":
    gpus = tf.config.list_logical_devices("GPU")
    return tf.distribute.MirroredStrategy() if len(gpus) >= 2 else tf.distribute.get_strategy()
  if name == "default":
    return tf.distribute.get_strategy()
  if name == "mirrored":
    return tf.distribute.MirroredStrategy()
  raw = os.environ.get("TF_CONFIG")
  try:
    config = json.loads(raw) if raw else None
    workers = config["cluster"]["worker"]
    config["task"]["index"]
  except (ValueError, KeyError, TypeError):
    raise ValueError("'multiworker' needs TF_CONFIG, for example "
                     '{"cluster": {"worker": ["host1:12345", "host2:12345"]}, '
                     '"task": {"type": "worker", "index": 0}}; got '
                     f"{raw!r}.") from None
  if not workers:
    raise ValueError("TF_CONFIG lists no workers.")
  return tf.distribute.MultiWorkerMirroredStrategy()

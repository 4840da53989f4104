"""Checkpoint every epoch and resume after an interruption."""

import os

import tensorflow as tf

from tfgen._keras import keras


def resumable(run_dir):
  """Callbacks that make ``fit`` survive being killed.

  Returns ``[keras.callbacks.BackupAndRestore(run_dir/backup)]``: at the end
  of every epoch the model, optimizer state and epoch counter are written
  with ``tf.train.CheckpointManager``, which writes the checkpoint files
  first and then atomically replaces the index that names the latest one, so
  a checkpoint cut off half-way is never picked up. Calling ``fit`` again
  with the same ``run_dir`` continues from the last complete epoch. The
  backup is kept after training ends, so a finished run resumes to a no-op.
  """
  run_dir = os.fspath(run_dir)
  if os.path.exists(run_dir) and not os.path.isdir(run_dir):
    raise ValueError(f"`run_dir` {run_dir!r} is a file; resumable needs a folder.")
  backup = os.path.join(run_dir, "backup")
  if os.path.exists(backup) and not os.path.isdir(backup):
    raise ValueError(f"{backup!r} is a file; resumable keeps its checkpoints in that folder.")
  parent = os.path.dirname(os.path.abspath(run_dir))
  while not os.path.exists(parent):
    parent = os.path.dirname(parent)
  if not os.path.isdir(parent):
    raise ValueError(f"`run_dir` {run_dir!r} is under {parent!r}, which is a file.")
  check_backup(run_dir)
  return [keras.callbacks.BackupAndRestore(backup,
                                           save_freq="epoch", delete_checkpoint=False)]


def check_backup(run_dir):
  """Reads every tensor of the latest backup in ``run_dir/backup`` (if any),
  so a damaged backup is named before ``fit`` starts instead of failing inside it.

  Raises:
    ValueError: the backup is truncated, incomplete or unreadable.
  """
  backup = os.path.join(os.fspath(run_dir), "backup")
  if not os.path.isdir(backup):
    return
  # BackupAndRestore keeps its checkpoints in backup/chief (or backup/workertemp_*).
  for folder, _, files in os.walk(backup):
    if not any(f == "checkpoint" or f.startswith("ckpt") for f in files):
      continue
    try:
      latest = tf.train.latest_checkpoint(folder)
      if latest is None:
        raise ValueError("no complete checkpoint")
      reader = tf.train.load_checkpoint(latest)
      for name in reader.get_variable_to_shape_map():
        reader.get_tensor(name)
    except Exception as e:  # truncated or missing files raise several TF error types
      message = getattr(e, "message", str(e)).splitlines()[0][:160]
      raise ValueError(f"The backup in {folder!r} is damaged ({type(e).__name__}: {message}); "
                       "remove that folder to restart from scratch, or train with "
                       "--overwrite.") from None

"""Checkpoint every epoch and resume after an interruption."""

import os

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
  return [keras.callbacks.BackupAndRestore(os.path.join(os.fspath(run_dir), "backup"),
                                           save_freq="epoch", delete_checkpoint=False)]

"""Training killed with SIGKILL mid-epoch resumes from the last complete epoch."""

import json
import os
import subprocess
import sys
import textwrap

import pytest

TRAIN = textwrap.dedent("""
    import json, os, signal, sys
    import numpy as np
    import tensorflow as tf
    from tfgen._keras import keras
    from tfgen.flows import Glow
    from tfgen.training import default_optimizer, resumable

    run_dir, kill_epoch = sys.argv[1], int(sys.argv[2])
    keras.utils.set_random_seed(0)
    model = Glow((4, 4, 1), levels=1, steps_per_level=2, hidden_channels=8)
    model.compile(default_optimizer(1e-3))
    x = np.random.default_rng(0).integers(0, 256, size=(64, 4, 4, 1)).astype(np.uint8)

    class Kill(keras.callbacks.Callback):
      def on_epoch_begin(self, epoch, logs=None):
        self.epoch = epoch
      def on_train_batch_end(self, batch, logs=None):
        if self.epoch == kill_epoch and batch == 1:
          os.kill(os.getpid(), signal.SIGKILL)   # mid-epoch, no clean-up

    history = model.fit(x, batch_size=16, epochs=5, shuffle=False, verbose=0,
                        callbacks=resumable(run_dir) + [Kill()])
    print(json.dumps({"epochs": history.epoch, "loss": history.history["loss"]}))
""")


def _run(run_dir, kill_epoch):
  env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3")
  return subprocess.run([sys.executable, "-c", TRAIN, str(run_dir), str(kill_epoch)],
                        capture_output=True, text=True, env=env, timeout=300)


@pytest.mark.slow  # real data or a fresh process: CI runs it (pytest -m slow)
def test_sigkill_then_resume_matches_an_uninterrupted_run(tmp_path):
  straight = _run(tmp_path / "straight", -1)
  assert straight.returncode == 0, straight.stderr[-3000:]
  reference = json.loads(straight.stdout.strip().splitlines()[-1])

  killed = _run(tmp_path / "run", 2)
  assert killed.returncode == -9                       # SIGKILL in epoch 2
  resumed = _run(tmp_path / "run", -1)
  assert resumed.returncode == 0, resumed.stderr[-3000:]
  got = json.loads(resumed.stdout.strip().splitlines()[-1])
  assert got["epochs"] == [2, 3, 4]                    # epochs 0 and 1 were complete
  for a, b in zip(got["loss"], reference["loss"][2:]):
    assert abs(a - b) <= 1e-4 * abs(b), (got, reference)

"""Two MultiWorkerMirroredStrategy workers on localhost end with identical weights."""

import json
import os
import socket
import subprocess
import sys
import textwrap

import pytest

WORKER = textwrap.dedent("""
    import json, sys
    import numpy as np
    import tensorflow as tf
    from tfgen._keras import keras
    from tfgen.flows import Glow
    from tfgen.training import default_optimizer, get_strategy

    strategy = get_strategy("multiworker")
    keras.utils.set_random_seed(0)
    with strategy.scope():
      model = Glow((4, 4, 1), levels=1, steps_per_level=2, hidden_channels=8)
      model.compile(default_optimizer(1e-3))
    x = np.random.default_rng(0).integers(0, 256, size=(64, 4, 4, 1)).astype(np.uint8)
    history = model.fit(tf.data.Dataset.from_tensor_slices(x).batch(16), epochs=2, verbose=0)
    flat = np.concatenate([v.numpy().ravel() for v in model.trainable_variables])
    print(json.dumps({"sum": float(np.sum(flat)), "first": flat[:50].tolist(),
                      "bpd": history.history["bits_per_dim"],
                      "replicas": strategy.num_replicas_in_sync}))
""")


def _free_port():
  with socket.socket() as s:
    s.bind(("127.0.0.1", 0))
    return s.getsockname()[1]


@pytest.mark.slow  # real data or a fresh process: CI runs it (pytest -m slow)
def test_two_workers_train_to_identical_weights():
  workers = [f"127.0.0.1:{_free_port()}", f"127.0.0.1:{_free_port()}"]
  procs = []
  for index in range(2):
    config = {"cluster": {"worker": workers}, "task": {"type": "worker", "index": index}}
    env = dict(os.environ, TF_CONFIG=json.dumps(config), TF_CPP_MIN_LOG_LEVEL="3")
    procs.append(subprocess.Popen([sys.executable, "-c", WORKER], stdout=subprocess.PIPE,
                                  stderr=subprocess.PIPE, text=True, env=env))
  results = []
  try:
    # Wait for every worker before judging any: the first to finish must not
    # cut the other short.
    for p in procs:
      results.append(p.communicate(timeout=300))
  finally:
    for q in procs:
      if q.poll() is None:
        q.kill()
        q.communicate()
  outs = []
  for p, (out, err) in zip(procs, results):
    assert p.returncode == 0, err[-3000:]
    outs.append(json.loads(out.strip().splitlines()[-1]))
  a, b = outs
  assert a["replicas"] == b["replicas"] == 2
  assert a["first"] == b["first"] and a["sum"] == b["sum"]
  assert a["bpd"] == b["bpd"]

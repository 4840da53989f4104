"""Shared helpers for the benchmark scripts: timing and the results file."""

import json
import os
import platform
import time

import numpy as np

RESULTS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "results.json")


def timed(fn, repeat=1):
  """Best wall-clock seconds of ``repeat`` calls (after one warm-up call)."""
  fn()
  best = float("inf")
  for _ in range(repeat):
    start = time.perf_counter()
    fn()
    best = min(best, time.perf_counter() - start)
  return best


# CPU features that decide which dtypes run fast (bfloat16 needs AVX512-BF16
# or AMX to beat float32 on a CPU).
_ISA = ("avx2", "avx512f", "avx512_bf16", "amx_bf16")


def cpu_info(path="/proc/cpuinfo"):
  """``(model name, [features of _ISA present])`` read from ``path``.

  Returns ``(None, [])`` where the file does not exist (not Linux).
  """
  from tfgen.training.precision import cpu_features
  model, flags = cpu_features(path)
  return model, [f for f in _ISA if f in (flags or ())]


def machine():
  model, isa = cpu_info()
  return {"cpu_count": os.cpu_count(), "platform": platform.platform(),
          "processor": platform.processor() or platform.machine(),
          "cpu_model": model, "isa": isa}


def matmul_peak(n=2048, repeat=10, dtype="float32", device=None):
  """Best matmul rate of this machine (or of ``device``) in ``dtype``, FLOP/s."""
  import contextlib
  import tensorflow as tf
  with tf.device(device) if device else contextlib.nullcontext():
    a = tf.cast(tf.random.normal([n, n]), dtype)
    b = tf.cast(tf.random.normal([n, n]), dtype)
    f = tf.function(lambda: tf.reduce_sum(tf.cast(tf.matmul(a, b), tf.float32)))
    f().numpy()
    best = float("inf")
    for _ in range(repeat):
      start = time.perf_counter()
      f().numpy()
      best = min(best, time.perf_counter() - start)
  return 2 * n ** 3 / best


def param_count(model):
  """Number of trainable parameters of ``model``."""
  return int(sum(int(np.prod(v.shape)) for v in model.trainable_variables))


def fit_for(model, train, seconds, lr=1e-3, steps_per_call=100):
  """Compiles ``model`` with tfgen's default optimizer and trains it on ``train``
  for ``seconds`` of wall-clock time; returns the number of steps taken."""
  from tfgen.training import default_optimizer
  model.compile(default_optimizer(lr))
  start, steps = time.perf_counter(), 0
  while time.perf_counter() - start < seconds:
    model.fit(train, steps_per_epoch=steps_per_call, epochs=1, verbose=0)
    steps += steps_per_call
  return steps


# What makes this CPU behave like one with AVX2 and nothing newer, as far as
# TensorFlow's kernels go: oneDNN (which does the matmuls and convolutions)
# capped at AVX2. TensorFlow's own oneDNN graph rewrites must be off for the
# cap to be usable: with them on, TF 2.21 reads the real CPU's features, asks
# oneDNN for AVX-512 primitives and aborts ("could not create a primitive
# descriptor for the matmul primitive"). On a real AVX2 machine those
# rewrites would be on, so this is the nearest emulation, not the same build.
ISA_ENV = {"avx2": {"ONEDNN_MAX_CPU_ISA": "AVX2", "TF_ENABLE_ONEDNN_OPTS": "0"}}


def recorded(section):
  """What bench/results.json holds under ``section`` ({} if nothing): a
  run of a subset (``--only``) merges its rows into it."""
  if not os.path.exists(RESULTS):
    return {}
  with open(RESULTS) as f:
    return json.load(f).get(section, {})


def record(section, values, path=RESULTS):
  """Merges ``values`` under ``section`` in ``path`` (bench/results.json)."""
  data = {}
  if os.path.exists(path):
    with open(path) as f:
      data = json.load(f)
  data[section] = {**values, "machine": machine(), "date": time.strftime("%Y-%m-%d")}
  with open(path, "w") as f:
    json.dump(data, f, indent=2)

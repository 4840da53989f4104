"""Time to the first training step, per family, into bench/results.json.

Run: .venv/bin/python bench/first_step.py [--only glow,wavenet] [--repeat N]

Each family at its demo size (what `tfgen train MODEL` builds) on its default
dataset, in a fresh process per family (nothing traced before): the seconds
to build the model, from calling ``fit`` to the end of its first step
(tracing, graph optimisation and the step itself), and a warm step for
scale. Families trained on another family's run (the VQ-VAE priors, the
Parallel WaveNet student) are left out: their first stage is a run of its
own. The target (issue 19): at most 5 s to the first step of the demo Glow.
"""

import argparse
import json
import os
import subprocess
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

from common import record, recorded  # noqa: E402

CHILD = r"""
import json, os, sys, time
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
from tfgen import data, models
from tfgen._keras import keras

name = sys.argv[1]
family = models.family(name)
spec = data.info(family.default_data)
feed = {}
start = time.perf_counter()
model = family.build(spec)
model.compile()
if model.uses_labels:
  feed["labels"] = True
if model.data_encoder is not None:
  feed["encode"] = model.data_encoder
built = time.perf_counter() - start
window = model.default_window if model.is_sequence else None
train = data.load(family.default_data, "train", 16, window=window, repeat=True, seed=0, **feed)
next(iter(train))                                   # data ready: not part of the model's time


class Clock(keras.callbacks.Callback):
  def on_train_begin(self, logs=None):
    self.times = [time.perf_counter()]

  def on_train_batch_end(self, batch, logs=None):
    self.times.append(time.perf_counter())


clock = Clock()
t0 = time.perf_counter()
model.fit(train, steps_per_epoch=6, epochs=1, verbose=0, callbacks=[clock])
steps = [b - a for a, b in zip(clock.times, clock.times[1:])]
print(json.dumps({"build_s": built, "first_step_s": clock.times[1] - t0,
                  "warm_step_s": min(steps[2:]), "batch": 16}))
"""


def one(name, repeat=1):
  """The child's numbers for ``name``; with ``repeat`` > 1, the run with the
  median time to the first step, and every run's time beside it (this
  shared 2-core VM varies by about ±0.3 s from run to run)."""
  runs = []
  for _ in range(repeat):
    done = subprocess.run([sys.executable, "-c", CHILD, name], capture_output=True, text=True)
    if done.returncode != 0:
      return {"error": done.stderr.strip().splitlines()[-1][:300]}
    runs.append(json.loads(done.stdout.strip().splitlines()[-1]))
  runs.sort(key=lambda r: r["first_step_s"])
  median = dict(runs[len(runs) // 2])
  if repeat > 1:
    median["first_step_s_runs"] = [r["first_step_s"] for r in runs]
  return median


def main(argv=None):
  from tfgen import models
  p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
  p.add_argument("--only", help="comma-separated families (default: every one trained alone)")
  p.add_argument("--repeat", type=int, default=1,
                 help="fresh processes per family; the median is recorded (default 1)")
  p.add_argument("--repeat-glow", type=int, default=5,
                 help="the same for the demo Glow, the family with a target (default 5)")
  args = p.parse_args(argv)
  names = (args.only.split(",") if args.only
           else [n for n, f in models.FAMILIES.items() if not f.builds_on])
  out = {}
  for name in names:
    out[name] = one(name, args.repeat_glow if name == "glow" else args.repeat)
    print(name, out[name], flush=True)
  if args.only:  # a subset updates its rows and keeps the others'
    out = {**recorded("first_step").get("families", {}), **out}
  record("first_step", {"families": out})


if __name__ == "__main__":
  main()

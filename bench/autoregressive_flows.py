"""Autoregressive flows, NADE, MADE ensembles and RevNet memory, into bench/results.json.

Run: .venv/bin/python bench/autoregressive_flows.py [--minutes 2]

- directions: MAF log_prob (one pass) against MAF sampling (D passes in one
  compiled while loop), and IAF sampling (one pass) against IAF log_prob
  (D passes), on 28×28 images (D = 784), 64 examples, 2 layers of 256
  hidden units, compiled, best of 3 after a warm-up;
- nade_vs_made: binarized Fashion-MNIST test nats per image after
  ``--minutes`` of training each, NADE against MADE at matched parameter
  counts, and MADE with an ensemble of 8 masks (order- and connectivity-
  agnostic), scored by one mask and by the ensemble;
- revnet_memory: peak RSS of compiled training steps (batch 64, one stage of
  32 channels at 28×28; a child process per point) of RevNet with
  memory-saving gradients, the same RevNet with ordinary backprop, and the
  same-depth ResNet, at 4, 8 and 16 blocks;
- glow_memory: the same for Glow (2 levels, 32 hidden channels, batch 32)
  at 16 and 32 steps per level, default against ``memory_efficient=True``.
"""

import argparse
import json
import os
import subprocess
import sys
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

from common import param_count  # noqa: E402  (bench/ is on sys.path now)


def directions():
  import numpy as np
  import tensorflow as tf
  from common import timed
  from tfgen.flows import IAF, MAF
  x = np.random.default_rng(0).integers(0, 256, size=(64, 28, 28, 1)).astype(np.uint8)
  out = {}
  for cls in (MAF, IAF):
    m = cls((28, 28, 1), num_bijectors=2, hidden_units=[256])
    m.log_prob(x)  # ActNorm init
    density = tf.function(lambda t: m.log_prob(t, seed=[1, 2]))
    sample = tf.function(lambda: m.sample(64, seed=1))
    out[cls.__name__] = {
        "log_prob_s": timed(lambda: density(x).numpy(), repeat=3),
        "sample_s": timed(lambda: sample().numpy(), repeat=3),
        "params": param_count(m)}
    print(cls.__name__, out[cls.__name__], flush=True)
  return out


def nade_vs_made(minutes):
  from tfgen import data
  from tfgen.autoregressive import MADE, NADE
  test = data.load("binarized_fashion_mnist", "test", 500)
  out = {}
  models = {"nade": lambda: NADE((28, 28, 1), hidden_units=500),
            "made": lambda: MADE((28, 28, 1), hidden_units=[500]),
            "made_8_masks": lambda: MADE((28, 28, 1), hidden_units=[500], num_masks=8, seed=0)}
  for name, build in models.items():
    model = build()
    from common import fit_for
    steps = fit_for(model, data.load("binarized_fashion_mnist", "train", 64, repeat=True,
                                         seed=0), minutes * 60)
    r = {"params": param_count(model), "steps": steps,
         "test_nats": float(model.evaluate(test, verbose=0, return_dict=True)["loss"])}
    if name == "made_8_masks":
      import numpy as np
      one = [float(-np.mean(model.log_prob(x, mask=0).numpy())) for x in test]
      r["one_mask_test_nats"] = float(np.mean(one))
      r["ensemble_gain_nats"] = r["one_mask_test_nats"] - r["test_nats"]
    out[name] = r
    print(name, r, flush=True)
  return out


def _status_mb(field):
  """``VmRSS`` / ``VmHWM`` of this process, in MB (/proc/self/status)."""
  with open("/proc/self/status") as f:
    for line in f:
      if line.startswith(field + ":"):
        return int(line.split()[1]) / 1024
  raise RuntimeError(f"no {field} in /proc/self/status")


def _glow_memory_child(steps, efficient):
  """Runs in a child process: like :func:`_memory_child`, for Glow."""
  import numpy as np
  import tensorflow as tf
  from tfgen.flows import Glow
  from tfgen.training import default_optimizer
  m = Glow((28, 28, 1), levels=2, steps_per_level=steps, hidden_channels=32,
           memory_efficient=efficient)
  m.compile(default_optimizer(1e-3))
  x = np.random.default_rng(0).integers(0, 256, size=(32, 28, 28, 1)).astype(np.uint8)
  ds = tf.data.Dataset.from_tensors(x).repeat()
  m.log_prob(x)                                       # ActNorm init
  before = _status_mb("VmRSS")
  with open("/proc/self/clear_refs", "w") as f:
    f.write("5")
  m.fit(ds, steps_per_epoch=2, epochs=1, verbose=0)
  peak = _status_mb("VmHWM")
  start = time.perf_counter()
  m.fit(ds, steps_per_epoch=3, epochs=1, verbose=0)
  return {"peak_rss_mb": peak, "rss_before_mb": before, "training_mb": peak - before,
          "step_s": (time.perf_counter() - start) / 3, "params": param_count(m)}


def glow_memory(steps=(16, 32)):
  out = {}
  for label, efficient in (("default", False), ("memory_efficient", True)):
    out[label] = {}
    for n in steps:
      run = subprocess.run([sys.executable, __file__, "--child", "glow", str(n),
                            str(int(efficient))], capture_output=True, text=True, timeout=1800)
      if run.returncode:
        raise RuntimeError(run.stderr[-3000:])
      out[label][str(n)] = json.loads(run.stdout.strip().splitlines()[-1])
      print("glow", label, n, out[label][str(n)], flush=True)
  return out


def _memory_child(block, depth, memory_saving):
  """Runs in a child process: the peak RSS during compiled training steps.

  ``ru_maxrss`` would not do: on Linux a child's includes its parent's peak
  at fork time. ``VmHWM`` belongs to this process's address space; writing
  5 to /proc/self/clear_refs resets it once the model is built, so the peak
  covers tracing and the first training steps (TensorFlow's allocator keeps
  what a step used, so later steps do not raise it).
  """
  import numpy as np
  import tensorflow as tf
  from tfgen.classifiers import RevNet
  from tfgen.training import default_optimizer
  m = RevNet((28, 28, 1), stages=[depth], channels=32, block=block,
             memory_saving=memory_saving)
  m.compile(default_optimizer(1e-3))
  x = np.random.default_rng(0).integers(0, 256, size=(64, 28, 28, 1)).astype(np.uint8)
  y = np.random.default_rng(1).integers(0, 10, size=(64,))
  ds = tf.data.Dataset.from_tensors((x, y)).repeat()
  m.predict(x[:1], verbose=0)
  before = _status_mb("VmRSS")
  with open("/proc/self/clear_refs", "w") as f:
    f.write("5")
  m.fit(ds, steps_per_epoch=2, epochs=1, verbose=0)   # trace, then steps
  peak = _status_mb("VmHWM")
  start = time.perf_counter()
  m.fit(ds, steps_per_epoch=3, epochs=1, verbose=0)
  step = (time.perf_counter() - start) / 3
  return {"peak_rss_mb": peak, "rss_before_mb": before, "training_mb": peak - before,
          "step_s": step, "params": param_count(m)}


def revnet_memory(depths=(4, 8, 16)):
  out = {}
  for label, block, saving in (("revnet", "reversible", True),
                               ("revnet_plain_backprop", "reversible", False),
                               ("resnet", "residual", True)):
    out[label] = {}
    for depth in depths:
      run = subprocess.run([sys.executable, __file__, "--child", block, str(depth),
                            str(int(saving))], capture_output=True, text=True, timeout=1800)
      if run.returncode:
        raise RuntimeError(run.stderr[-3000:])
      out[label][str(depth)] = json.loads(run.stdout.strip().splitlines()[-1])
      print(label, depth, out[label][str(depth)], flush=True)
  return out


def main(argv=None):
  p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
  p.add_argument("--minutes", type=float, default=2.0)
  p.add_argument("--child", nargs=3)
  p.add_argument("--part", choices=["all", "directions", "memory"], default="all")
  args = p.parse_args(argv)
  if args.child:
    block, depth, flag = args.child
    if block == "glow":
      print(json.dumps(_glow_memory_child(int(depth), flag == "1")))
    else:
      print(json.dumps(_memory_child(block, int(depth), flag == "1")))
    return
  from common import RESULTS, record
  if args.part != "all":   # re-measure one part, keep the rest
    with open(RESULTS) as f:
      result = json.load(f)["autoregressive_flows"]
    result.pop("machine", None), result.pop("date", None)
    if args.part == "directions":
      result["directions"] = directions()
    else:
      result.update(revnet_memory=revnet_memory(), glow_memory=glow_memory())
    record("autoregressive_flows", result)
    return
  result = {"minutes": args.minutes, "directions": directions(),
            "revnet_memory": revnet_memory(), "glow_memory": glow_memory(),
            "nade_vs_made": nade_vs_made(args.minutes)}
  record("autoregressive_flows", result)


if __name__ == "__main__":
  main()

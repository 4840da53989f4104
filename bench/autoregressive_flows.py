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


def nade_vs_made(steps):
  """Binarized Fashion-MNIST test nats after the same number of ``steps``
  (batch 64) for each model, with the wall time each took."""
  from tfgen import data
  from tfgen.autoregressive import MADE, NADE
  from tfgen.training import default_optimizer
  test = data.load("binarized_fashion_mnist", "test", 500)
  out = {}
  models = {"nade": lambda: NADE((28, 28, 1), hidden_units=500),
            "made": lambda: MADE((28, 28, 1), hidden_units=[500]),
            "made_8_masks": lambda: MADE((28, 28, 1), hidden_units=[500], num_masks=8, seed=0)}
  for name, build in models.items():
    model = build()
    model.compile(default_optimizer(1e-3))
    start = time.perf_counter()
    model.fit(data.load("binarized_fashion_mnist", "train", 64, repeat=True, seed=0),
              steps_per_epoch=steps, epochs=1, verbose=0)
    r = {"params": param_count(model), "steps": steps,
         "train_s": time.perf_counter() - start,
         "test_nats": float(model.evaluate(test, verbose=0, return_dict=True)["loss"])}
    if name == "made_8_masks":
      import numpy as np
      one = [float(-np.mean(model.log_prob(x, mask=0).numpy())) for x in test]
      r["one_mask_test_nats"] = float(np.mean(one))
      r["ensemble_gain_nats"] = r["one_mask_test_nats"] - r["test_nats"]
    out[name] = r
    print(name, r, flush=True)
  return out


def _allocator_mb():
  """TensorFlow's CPU allocator: ``(bytes in use, peak since the last reset)``
  in MB. Needs ``TF_CPU_ALLOCATOR_USE_BFC=true`` set before TensorFlow loads
  (the children below are started with it)."""
  import tensorflow as tf
  info = tf.config.experimental.get_memory_info("CPU:0")
  return info["current"] / 2**20, info["peak"] / 2**20


def _step_memory(model, ds, warmup=2, steps=3):
  """Trains ``warmup`` steps (tracing happens there), then measures the
  allocator's peak above what was resident (weights, optimizer slots) over
  ``steps`` more: the memory a training step itself needs (activations,
  gradients, temporaries). Process RSS would not do: it also counts the
  traced graphs, which grow with depth whatever the gradient does."""
  import tensorflow as tf
  model.fit(ds, steps_per_epoch=warmup, epochs=1, verbose=0)
  tf.config.experimental.reset_memory_stats("CPU:0")
  resident, _ = _allocator_mb()
  start = time.perf_counter()
  model.fit(ds, steps_per_epoch=steps, epochs=1, verbose=0)
  step_s = (time.perf_counter() - start) / steps
  _, peak = _allocator_mb()
  return {"step_mb": peak - resident, "resident_mb": resident, "step_s": step_s,
          "params": param_count(model)}


def _glow_memory_child(steps, efficient):
  """Runs in a child process: Glow's training-step memory (:func:`_step_memory`)."""
  import numpy as np
  import tensorflow as tf
  from tfgen.flows import Glow
  from tfgen.training import default_optimizer
  m = Glow((28, 28, 1), levels=2, steps_per_level=steps, hidden_channels=32,
           memory_efficient=efficient)
  m.compile(default_optimizer(1e-3))
  x = np.random.default_rng(0).integers(0, 256, size=(32, 28, 28, 1)).astype(np.uint8)
  m.log_prob(x)                                       # ActNorm init
  return _step_memory(m, tf.data.Dataset.from_tensors(x).repeat())


def _memory_child(block, depth, memory_saving):
  """Runs in a child process: a RevNet's (or ResNet's) training-step memory."""
  import numpy as np
  import tensorflow as tf
  from tfgen.classifiers import RevNet
  from tfgen.training import default_optimizer
  m = RevNet((28, 28, 1), stages=[depth], channels=32, block=block,
             memory_saving=memory_saving)
  m.compile(default_optimizer(1e-3))
  x = np.random.default_rng(0).integers(0, 256, size=(64, 28, 28, 1)).astype(np.uint8)
  y = np.random.default_rng(1).integers(0, 10, size=(64,))
  return _step_memory(m, tf.data.Dataset.from_tensors((x, y)).repeat())


def _child(*args):
  """Runs this script as a child with TensorFlow's BFC CPU allocator (whose
  peak :func:`_allocator_mb` reads); returns the child's JSON line."""
  env = {**os.environ, "TF_CPU_ALLOCATOR_USE_BFC": "true"}
  run = subprocess.run([sys.executable, __file__, "--child", *map(str, args)],
                       capture_output=True, text=True, timeout=1800, env=env)
  if run.returncode:
    raise RuntimeError(run.stderr[-3000:])
  return json.loads(run.stdout.strip().splitlines()[-1])


def glow_memory(steps=(4, 16, 32)):
  out = {}
  for label, efficient in (("default", False), ("memory_efficient", True)):
    out[label] = {}
    for n in steps:
      out[label][str(n)] = _child("glow", n, int(efficient))
      print("glow", label, n, out[label][str(n)], flush=True)
  return out


def revnet_memory(depths=(4, 8, 16, 32)):
  out = {}
  for label, block, saving in (("revnet", "reversible", True),
                               ("revnet_plain_backprop", "reversible", False),
                               ("resnet", "residual", True)):
    out[label] = {}
    for depth in depths:
      out[label][str(depth)] = _child(block, depth, int(saving))
      print(label, depth, out[label][str(depth)], flush=True)
  return out


def revnet_accuracy(minutes):
  """Fashion-MNIST test accuracy after ``minutes`` of training: RevNet
  (reversible blocks, memory-saving gradients) against the ResNet of the
  same depth and width (stages 3,3; 32 channels)."""
  import numpy as np
  from tfgen import data
  from tfgen.classifiers import RevNet
  from common import fit_for
  out = {}
  for label, block in (("revnet", "reversible"), ("resnet", "residual")):
    m = RevNet((28, 28, 1), stages=[3, 3], channels=32, block=block)
    train = data.load("fashion_mnist", "train", 64, repeat=True, seed=0, labels=True)
    steps = fit_for(m, train, minutes * 60)
    test = data.load("fashion_mnist", "test", 500, labels=True)
    result = m.evaluate(test, verbose=0, return_dict=True)
    out[label] = {"steps": steps, "params": param_count(m),
                  "test_accuracy": float(result["accuracy"])}
    print(label, out[label], flush=True)
  return out


def flows_at_budget(minutes):
  """Fashion-MNIST test bits/dim after ``minutes`` of training each: MAF
  against RealNVP and Glow of similar parameter counts (batch 64)."""
  from tfgen import data
  from tfgen.flows import MAF, Glow, RealNVP
  from common import fit_for
  builds = {"maf": lambda: MAF((28, 28, 1), num_bijectors=5, hidden_units=[512]),
            "realnvp": lambda: RealNVP((28, 28, 1), levels=2, hidden_channels=64),
            "glow": lambda: Glow((28, 28, 1), levels=2, steps_per_level=8, hidden_channels=64)}
  out = {}
  for name, build in builds.items():
    m = build()
    steps = fit_for(m, data.load("fashion_mnist", "train", 64, repeat=True, seed=0),
                    minutes * 60)
    test = data.load("fashion_mnist", "test", 500)
    bpd = float(m.evaluate(test, verbose=0, return_dict=True)["bits_per_dim"])
    out[name] = {"steps": steps, "params": param_count(m), "test_bits_per_dim": bpd}
    print(name, out[name], flush=True)
  return out


def main(argv=None):
  p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
  p.add_argument("--minutes", type=float, default=2.0)
  p.add_argument("--child", nargs=3)
  p.add_argument("--nade-steps", type=int, default=1500)
  p.add_argument("--part", default="all",
                 choices=["all", "directions", "memory", "nade", "revnet_accuracy", "flows"])
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
    elif args.part == "memory":
      result.update(revnet_memory=revnet_memory(), glow_memory=glow_memory())
    elif args.part == "nade":
      result["nade_vs_made"] = nade_vs_made(args.nade_steps)
    elif args.part == "revnet_accuracy":
      result["revnet_accuracy"] = revnet_accuracy(args.minutes)
    else:
      result["flows_at_budget"] = flows_at_budget(args.minutes)
    result["minutes"] = args.minutes
    record("autoregressive_flows", result)
    return
  result = {"minutes": args.minutes, "directions": directions(),
            "revnet_memory": revnet_memory(), "glow_memory": glow_memory(),
            "nade_vs_made": nade_vs_made(args.nade_steps),
            "revnet_accuracy": revnet_accuracy(args.minutes),
            "flows_at_budget": flows_at_budget(args.minutes)}
  record("autoregressive_flows", result)


if __name__ == "__main__":
  main()

"""Where a training step's time goes: TensorFlow's profiler, per op type.

Run: .venv/bin/python bench/step_profile.py [--isa native|avx2] [--only tfgen_glow tfp_glow]

For each model (the matched pairs of bench/peers.py), in its own process:
two warm-up steps, then ``--steps`` steps under ``tf.profiler.experimental``.
The trace's TensorFlow op events are summed by op type (``Conv2D``,
``MatMul``, their gradients, element-wise ops, ...) and reported as ms per
step and share of the op time. On a 2-core CPU the two inter-op threads run
ops concurrently, so op time per step can exceed the step's wall time.
``--isa avx2`` runs the models as training_throughput.py does (oneDNN capped
at AVX2, see ISA_ENV in common.py) and records under ``step_profile_avx2``.
"""

import argparse
import collections
import glob
import json
import os
import subprocess
import sys
import tempfile
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)


def op_times(logdir):
  """``{op type: total µs}`` over every TensorFlow op event in the trace."""
  from tensorflow.tsl.profiler.protobuf import xplane_pb2
  totals = collections.Counter()
  for path in glob.glob(os.path.join(logdir, "**", "*.xplane.pb"), recursive=True):
    space = xplane_pb2.XSpace()
    with open(path, "rb") as f:
      space.ParseFromString(f.read())
    for plane in space.planes:
      if not plane.name.startswith("/host:CPU"):
        continue
      for line in plane.lines:
        for event in line.events:
          name = plane.event_metadata[event.metadata_id].name
          # TensorFlow op events are named "scope/name:OpType"; the executor's
          # own spans ("ExecutorState::Process", function runs) enclose them.
          if ":" not in name or "::" in name or name.startswith(("$", "Iterator")):
            continue
          kind = name.rsplit(":", 1)[1].strip()
          if kind.startswith("__") or kind in ("Run", "Process"):
            continue
          totals[kind] += event.duration_ps / 1e6
  return totals


def one(name, steps):
  import tensorflow as tf
  from peers import Peer
  from tfgen import data
  from tfgen._keras import keras
  keras.utils.set_random_seed(0)
  images = iter(data.load("fashion_mnist", "train", 64, repeat=True, seed=0))
  peer = Peer(name)
  warm = [next(images) for _ in range(2)]
  peer.train(warm)                         # tracing, ActNorm init
  batches = [next(images) for _ in range(steps)]
  logdir = tempfile.mkdtemp(prefix="tfgen_profile_")
  tf.profiler.experimental.start(logdir)
  start = time.perf_counter()
  peer.train(batches, warmup=False)
  wall = (time.perf_counter() - start) / steps
  tf.profiler.experimental.stop()
  totals = op_times(logdir)
  total = sum(totals.values())
  return {"params": peer.params, "steps": steps, "step_s": wall,
          "op_ms_per_step": total / 1e3 / steps,
          "by_op_type": {k: {"ms_per_step": v / 1e3 / steps, "share": v / total}
                         for k, v in totals.most_common(25)}}


def main():
  p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
  p.add_argument("--steps", type=int, default=3)
  p.add_argument("--isa", choices=["native", "avx2"], default="native")
  p.add_argument("--only", nargs="*", default=["tfgen_glow", "tfp_glow"])
  p.add_argument("--one", help=argparse.SUPPRESS)
  args = p.parse_args()
  if args.one:
    print(json.dumps(one(args.one, args.steps)))
    return
  from common import ISA_ENV, record
  os.environ.update(ISA_ENV.get(args.isa, {}))
  results = {"isa": args.isa, "isa_env": ISA_ENV.get(args.isa, {}), "models": {}}
  for name in args.only:
    out = subprocess.run([sys.executable, os.path.abspath(__file__), "--one", name,
                          "--steps", str(args.steps)], capture_output=True, text=True)
    if out.returncode != 0:
      print(f"{name}: failed\n{out.stderr[-2000:]}", flush=True)
      continue
    r = json.loads(out.stdout.strip().splitlines()[-1])
    results["models"][name] = r
    print(f"{name}: {r['step_s']:.3f} s/step (profiled), op time {r['op_ms_per_step']:.0f} "
          "ms/step", flush=True)
    for op, t in list(r["by_op_type"].items())[:12]:
      print(f"  {op:<28} {t['ms_per_step']:8.1f} ms  {100 * t['share']:5.1f}%", flush=True)
  record("step_profile" + ("" if args.isa == "native" else "_" + args.isa), results)


if __name__ == "__main__":
  main()

"""Training throughput (images/s), peak memory and model FLOP utilisation:
tfgen Glow against tfp.bijectors.Glow, tfgen Gated PixelCNN against
tfp.distributions.PixelCNN, at matched parameter counts, on Fashion-MNIST
batches, Adam 1e-3.

Run: .venv/bin/python bench/training_throughput.py [--steps 20] [--batch 64] [--rounds 2] [--jit]

Each model runs in its own process, so its peak resident memory (ru_maxrss)
is its own. Timing starts after two warm-up steps (tracing); throughput is the batch over
the median step time (each step is timed to its end), best of ``--rounds``
runs that alternate the models. tfgen models run Keras
``fit``, TFP's a GradientTape loop. FLOPs: the
forward pass's float operations counted by TensorFlow's profiler on the
traced log_prob graph, times 3 for forward + backward (the usual
convention: the backward pass costs about twice the forward). The peak is
this machine's measured matmul rate in the model's compute dtype
(the ``_bf16`` models are tfgen's ``mixed_bfloat16`` option; the headline
comparisons are float32 against float32).
"""

import argparse
import json
import os
import resource
import subprocess
import sys
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

PAIRS = (("tfgen_glow", "tfp_glow"), ("tfgen_glow_bf16", "tfp_glow"),
         ("tfgen_gated_pixelcnn", "tfp_pixelcnn"), ("tfgen_gated_pixelcnn_bf16", "tfp_pixelcnn"),
         ("tfgen_gated_pixelcnn_unet", "tfp_pixelcnn"))


def forward_flops(peer, batch):
  """Float operations of one forward log_prob on ``batch`` images."""
  import tensorflow as tf
  from peers import SHAPE
  graph_fn = tf.function(peer.forward).get_concrete_function(
      tf.TensorSpec((batch,) + SHAPE, tf.uint8))
  opts = tf.compat.v1.profiler.ProfileOptionBuilder.float_operation()
  opts["output"] = "none"
  return tf.compat.v1.profiler.profile(graph_fn.graph, options=opts).total_float_ops


def one(name, steps, batch, jit):
  import numpy as np
  import tensorflow as tf
  from peers import Peer
  from tfgen import data
  from tfgen._keras import keras
  keras.utils.set_random_seed(0)
  images = iter(data.load("fashion_mnist", "train", batch, repeat=True, seed=0))
  peer = Peer(name, jit_compile=jit)
  batches = [next(images) for _ in range(steps)]
  step_seconds, last, finite = peer.train(batches)
  # The median step: this shared-CPU VM has bursts of contention that a
  # mean would charge to whichever model happened to run during them.
  seconds = float(np.median(step_seconds))
  flops = forward_flops(peer, batch)
  return {"params": peer.params, "steps": steps, "batch": batch, "jit_compile": jit,
          "images_per_s": batch / seconds, "step_s": seconds,
          "step_s_min": min(step_seconds), "step_s_mean": float(np.mean(step_seconds)),
          "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
          "bits_per_dim_last": last, "all_steps_finite": finite,
          "forward_gflops_per_batch": flops / 1e9,
          "train_gflops_per_s": 3 * flops / 1e9 / seconds,
          "tf_threads": tf.config.threading.get_intra_op_parallelism_threads()}


def main():
  p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
  p.add_argument("--steps", type=int, default=20, help="timed steps per model")
  p.add_argument("--batch", type=int, default=64)
  p.add_argument("--jit", action="store_true", help="XLA-compile every training step")
  p.add_argument("--rounds", type=int, default=2, help="runs per model, alternating models")
  p.add_argument("--only", nargs="*", help="a subset of the models")
  p.add_argument("--isa", choices=["native", "avx2"], default="native",
                 help="avx2: cap oneDNN at AVX2 in the model processes (an AVX2-only CPU, "
                      "emulated; see ISA_ENV in common.py) and record under training_throughput_avx2")
  p.add_argument("--one", help=argparse.SUPPRESS)
  args = p.parse_args()
  if args.one:
    print(json.dumps(one(args.one, args.steps, args.batch, args.jit)))
    return
  from common import ISA_ENV, machine, matmul_peak, record
  os.environ.update(ISA_ENV.get(args.isa, {}))  # the peak too, before TensorFlow loads
  peak, peak16 = matmul_peak(), matmul_peak(dtype="bfloat16")
  print(f"matmul peak of this machine: float32 {peak / 1e9:.1f}, bfloat16 {peak16 / 1e9:.1f} "
        "GFLOP/s", flush=True)
  results = {"isa": args.isa, "isa_env": ISA_ENV.get(args.isa, {}),
             "matmul_peak_gflops": peak / 1e9, "matmul_peak_gflops_bf16": peak16 / 1e9,
             "machine": machine(),
             "date": time.strftime("%Y-%m-%d"), "models": {}}
  names = [n for n in dict.fromkeys(n for pair in PAIRS for n in pair)
           if not args.only or n in args.only]
  runs = {}
  for round_ in range(args.rounds):
    # Rounds alternate the models, so a slow spell of this shared machine
    # does not land on one model only; each model keeps its best round.
    for name in names:
      cmd = [sys.executable, os.path.abspath(__file__), "--one", name, "--steps",
             str(args.steps), "--batch", str(args.batch)] + (["--jit"] if args.jit else [])
      out = subprocess.run(cmd, capture_output=True, text=True)  # inherits ISA_ENV
      if out.returncode != 0:
        print(f"{name}: failed\n{out.stderr[-2000:]}", flush=True)
        continue
      r = json.loads(out.stdout.strip().splitlines()[-1])
      print(f"  round {round_ + 1}: {name:<22} {r['images_per_s']:7.1f} images/s", flush=True)
      runs.setdefault(name, []).append(r)
  for name, rs in runs.items():
    r = dict(max(rs, key=lambda r: r["images_per_s"]), rounds=len(rs),
             images_per_s_rounds=[r["images_per_s"] for r in rs],
             peak_rss_mb=max(r["peak_rss_mb"] for r in rs))
    # TF's profiler counts only ops with static shapes; tfd.PixelCNN's convolutions
    # have none, so its count is a tiny fraction of the real work: no MFU then.
    counted = r["forward_gflops_per_batch"] >= 1.
    # bfloat16 models against the bfloat16 peak, the rest against float32's.
    r["mfu"] = (r["train_gflops_per_s"] / results["matmul_peak_gflops" + (
        "_bf16" if name.endswith("_bf16") else "")]) if counted else None
    results["models"][name] = r
    mfu = "n/a" if r["mfu"] is None else f"{100 * r['mfu']:.1f}%"
    print(f"{name:<22} {r['params']:>9,} params  {r['images_per_s']:7.1f} images/s  "
          f"peak RSS {r['peak_rss_mb']:6.0f} MB  MFU {mfu}  last bits/dim "
          f"{r['bits_per_dim_last']:.2f}" + ("" if r["all_steps_finite"] else "  NON-FINITE"),
          flush=True)
  for ours, theirs in PAIRS:
    m = results["models"]
    if ours in m and theirs in m:
      ratio = m[ours]["images_per_s"] / m[theirs]["images_per_s"]
      results[f"{ours}_vs_{theirs}"] = ratio
      print(f"{ours} / {theirs}: {ratio:.2f}x the throughput", flush=True)
  record("training_throughput" + ("_jit" if args.jit else "")
         + ("" if args.isa == "native" else "_" + args.isa), results)


if __name__ == "__main__":
  main()

"""Quality at a fixed wall-clock budget: test bits/dim on Fashion-MNIST after
the same training time for tfgen Glow, RealNVP and Gated PixelCNN (Glow
and PixelCNN also under ``mixed_bfloat16``), tfp.bijectors.Glow and
tfp.distributions.PixelCNN (matched sizes, see peers.py), batch 64, Adam 1e-3.

Run: .venv/bin/python bench/quality_budget.py [--minutes 10] [--test-images 10000]

Each model trains in its own process in chunks of steps until the budget
is spent (tracing counts against it, as it does for a user); evaluation
is outside the budget. A model whose loss went non-finite is reported as
such, with the bits/dim of its current weights.
"""

import argparse
import json
import os
import subprocess
import sys
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))


def one(name, minutes, test_images, batch):
  from peers import Peer, test_bpd
  from tfgen import data
  from tfgen._keras import keras
  import numpy as np
  keras.utils.set_random_seed(0)
  train = iter(data.load("fashion_mnist", "train", batch, repeat=True, seed=0))
  test = np.concatenate([b.numpy() for b in data.load("fashion_mnist", "test", 500,
                                                      take=test_images)])
  peer = Peer(name)
  start, steps, finite = time.perf_counter(), 0, True
  while time.perf_counter() - start < 60 * minutes:
    chunk = [next(train) for _ in range(10)]
    _, _, ok = peer.train(chunk, warmup=False)
    finite &= ok
    steps += len(chunk)
  return {"params": peer.params, "minutes": minutes, "steps": steps, "batch": batch,
          "all_steps_finite": bool(finite), "test_images": len(test),
          "test_bits_per_dim": test_bpd(peer, test)}


def main():
  from peers import MODELS
  p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
  p.add_argument("--minutes", type=float, default=10.)
  p.add_argument("--test-images", type=int, default=10000)
  p.add_argument("--batch", type=int, default=64)
  p.add_argument("--only", nargs="*", choices=MODELS)
  p.add_argument("--one", help=argparse.SUPPRESS)
  args = p.parse_args()
  if args.one:
    print(json.dumps(one(args.one, args.minutes, args.test_images, args.batch)))
    return
  from common import machine, record, recorded
  results = {"minutes": args.minutes, "machine": machine(), "date": time.strftime("%Y-%m-%d"),
             "models": {}}
  for name in args.only or MODELS:
    out = subprocess.run([sys.executable, os.path.abspath(__file__), "--one", name,
                          "--minutes", str(args.minutes), "--test-images",
                          str(args.test_images), "--batch", str(args.batch)],
                         capture_output=True, text=True)
    if out.returncode != 0:
      print(f"{name}: failed\n{out.stderr[-2000:]}", flush=True)
      continue
    r = json.loads(out.stdout.strip().splitlines()[-1])
    results["models"][name] = dict(r, date=time.strftime("%Y-%m-%d"))
    print(f"{name:<22} {r['params']:>9,} params  {r['steps']:5d} steps in {args.minutes:g} min  "
          f"test {r['test_bits_per_dim']:.3f} bits/dim"
          + ("" if r["all_steps_finite"] else "  (went NON-FINITE)"), flush=True)
  old = recorded("quality_budget") if args.only else {}
  if old.get("minutes") == args.minutes:  # a subset keeps the others' rows (same budget only)
    results["models"] = {**old.get("models", {}), **results["models"]}
  record("quality_budget", results)


if __name__ == "__main__":
  main()

"""Training with a stock Keras optimizer, into bench/results.json.

Run: .venv/bin/python bench/stock_optimizer.py [--steps 300] [--seeds 0,1,2]

The Glow of the tests (2 levels × 4 steps, 64 hidden channels), Fashion-MNIST
batches of 64, trained ``--steps`` steps per seed with ``tf_keras.optimizers.
Adam(1e-3)`` (what most Keras users pass) and with tfgen's
``default_optimizer(1e-3)`` (Adam with global-norm clipping at 50); test
bits/dim on the whole test split. The target (issue 19): Adam within 0.15
bits/dim of the default.
"""

import argparse
import os
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from common import record  # noqa: E402


def one(optimizer, seed, steps):
  from tfgen import data
  from tfgen._keras import keras
  from tfgen.flows import Glow
  from tfgen.training import default_optimizer
  keras.utils.set_random_seed(seed)
  m = Glow((28, 28, 1), levels=2, steps_per_level=4, hidden_channels=64)
  m.compile(keras.optimizers.Adam(1e-3) if optimizer == "adam" else default_optimizer(1e-3))
  m.fit(data.load("fashion_mnist", "train", 64, repeat=True, seed=seed), steps_per_epoch=steps,
        epochs=1, verbose=0)
  result = m.evaluate(data.load("fashion_mnist", "test", 500), verbose=0, return_dict=True)
  return {"test_bits_per_dim": float(result["bits_per_dim"]),
          "nonfinite_steps": int(m.nonfinite_steps.numpy())}


def main(argv=None):
  p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
  p.add_argument("--steps", type=int, default=300)
  p.add_argument("--seeds", default="0,1,2")
  args = p.parse_args(argv)
  out = {"steps": args.steps, "runs": {}}
  for seed in [int(s) for s in args.seeds.split(",")]:
    for optimizer in ("adam", "default"):
      r = one(optimizer, seed, args.steps)
      out["runs"].setdefault(optimizer, {})[str(seed)] = r
      print(optimizer, seed, r, flush=True)
  record("stock_optimizer", out)


if __name__ == "__main__":
  main()

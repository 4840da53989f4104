"""What ``model.distribution.log_prob`` costs over ``model.log_prob``, into bench/results.json.

Run: .venv/bin/python bench/distribution_overhead.py [--batch 64] [--repeat 20]

Glow and Gated PixelCNN at their demo sizes (``tfgen train``'s defaults) on
28×28 Fashion-MNIST-shaped uint8 batches. Both paths are timed the way users
call them: eagerly (the Python of the distribution wrapper included) and
inside one ``tf.function`` each (the graph cost only). Best of ``--repeat``
calls after a warm-up; the overhead is ``distribution / model − 1``.
"""

import argparse
import os
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from common import machine, record, timed  # noqa: E402


def measure(name, batch, repeat):
  import numpy as np
  import tensorflow as tf
  from tfgen import data, models
  model = models.family(name).build(data.info("fashion_mnist"))
  x = tf.constant(np.random.default_rng(0).integers(0, 256, (batch, 28, 28, 1)).astype(
      model.data_dtype.name))
  model.log_prob(x)   # ActNorm's data-dependent init, for the flows
  # The same computation on both sides: a flow's distribution fixes its
  # dequantization noise, so the model side does too (seed [0, 0]).
  kwargs = {"seed": tf.constant([0, 0])} if hasattr(model, "dequantize") else {}
  dist = model.distribution
  out = {}
  for mode in ("eager", "graph"):
    direct = lambda: model.log_prob(x, **kwargs)
    wrapped = lambda: dist.log_prob(x)
    if mode == "graph":
      direct, wrapped = tf.function(direct), tf.function(wrapped)
    a, b = timed(direct, repeat), timed(wrapped, repeat)
    np.testing.assert_allclose(direct().numpy(), wrapped().numpy(), rtol=1e-5)
    out[mode] = {"model_ms": 1e3 * a, "distribution_ms": 1e3 * b, "overhead": b / a - 1}
    print(f"{name} {mode}: model.log_prob {1e3 * a:.1f} ms, distribution.log_prob "
          f"{1e3 * b:.1f} ms ({100 * (b / a - 1):+.1f}%)", flush=True)
  return out


def main():
  parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
  parser.add_argument("--batch", type=int, default=64)
  parser.add_argument("--repeat", type=int, default=20)
  args = parser.parse_args()
  results = {"batch": args.batch, "machine": machine()}
  for name in ("glow", "gated_pixelcnn"):
    results[name] = measure(name, args.batch, args.repeat)
  record("distribution_overhead", results)


if __name__ == "__main__":
  main()

"""Does the input pipeline keep up? For each real dataset, the examples/s of
``tfgen.data.load`` alone (no model; the batches consumed inside TensorFlow,
by a ``Dataset.reduce``, as a training loop's iterator does, at the GPU
case's batch and window) against:

- the model step's examples/s on this machine (the family's demo size,
  trained on the same pipeline);
- what a GPU would consume: the family at its realistic size
  (``bench/accelerator.py``'s ``CASES``) at 40% of an H100's dense bf16
  peak (989.4 TFLOP/s, NVIDIA's datasheet), from its FLOPs per example
  (TensorFlow's profiler on the forward pass, ×3 for a training step).

Target: the pipeline is at least 5× the GPU's consumption.

    .venv/bin/python bench/input_pipeline.py [--batches 2000] [--only fashion_mnist speech]
"""

import argparse
import gc
import os
import sys
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

H100_BF16 = 989.4e12
MFU = 0.4
TARGET = 5.0

# dataset -> (the demo's batch here, the family trained on it, the accelerator case)
PAIRS = {
    "fashion_mnist": (64, "gated_pixelcnn", "gated_pixelcnn"),
    "icons": (64, "glow", "glow"),
    "speech": (8, "wavenet", "wavenet"),
    "fortunes": (8, "transformer", "transformer"),
    "binarized_moving_fashion_mnist_small": (8, "video_pixel_network", "video_pixel_network"),
}


def pipeline_rate(name, batch, window, batches):
  """``(examples/s over ``batches`` batches, best of three, seconds to the
  first batch)`` of the training pipeline, consumed in the graph (no Python
  per batch)."""
  import tensorflow as tf
  from tfgen import data
  start = time.perf_counter()
  ds = data.load(name, "train", batch, repeat=True, seed=0, window=window)
  next(iter(ds))
  first = time.perf_counter() - start
  count = tf.autograph.experimental.do_not_convert(
      lambda n, b: n + tf.shape(tf.nest.flatten(b)[0], tf.int64)[0])
  consume = lambda k: int(ds.take(k).reduce(tf.constant(0, tf.int64), count))
  consume(10)
  best = 0.
  for _ in range(3):                   # best of three: this shared VM has slow spells
    start = time.perf_counter()
    examples = consume(batches)
    best = max(best, examples / (time.perf_counter() - start))
  return best, first


def model_rate(name, family_name, batch, steps=20):
  """Examples/s of the family's demo-size training step on this pipeline."""
  from tfgen import data, models
  from tfgen.training import default_optimizer
  family = models.family(family_name)
  model = family.build(data.info(name))
  model.compile(default_optimizer(1e-3))
  ds = data.load(name, "train", batch, repeat=True, seed=0,
                 window=model.default_window if model.is_sequence else None)
  model.fit(ds, steps_per_epoch=2, epochs=1, verbose=0)
  start = time.perf_counter()
  model.fit(ds, steps_per_epoch=steps, epochs=1, verbose=0)
  return batch * steps / (time.perf_counter() - start)


def gpu_rate(case_name):
  """``(examples/s an H100 would train at MFU 40%, FLOPs per example)``."""
  import accelerator
  case = accelerator.CASES[case_name]
  model = accelerator.build(case_name, smoke=False)
  x, y = accelerator.batch_of(model, case_name, 2, case.window)
  flops, _ = accelerator.forward_flops(model, x, y)
  per_example = flops / 2
  return MFU * H100_BF16 / (3 * per_example), per_example


def main():
  p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
  p.add_argument("--batches", type=int, default=2000, help="timed batches per dataset")
  p.add_argument("--only", nargs="*", choices=sorted(PAIRS))
  args = p.parse_args()
  import accelerator
  from common import record, recorded
  results = {"h100_bf16_peak": H100_BF16, "mfu": MFU, "target": TARGET,
             "datasets": dict(recorded("input_pipeline").get("datasets", {})) if args.only
             else {}}
  names = args.only or list(PAIRS)
  # Every pipeline first, each alone: a model's fit leaves prefetching
  # threads behind that would take the CPU from the next pipeline.
  rates = {}
  for name in names:
    case = accelerator.CASES[PAIRS[name][2]]
    try:
      rates[name] = pipeline_rate(name, case.batch, case.window, args.batches)
    except (FileNotFoundError, ValueError) as e:
      print(f"{name}: not measured ({e})", flush=True)
    gc.collect()
  for name, (rate, first) in rates.items():
    demo_batch, family_name, case_name = PAIRS[name]
    case = accelerator.CASES[case_name]
    step = model_rate(name, family_name, demo_batch)
    gpu, flops = gpu_rate(case_name)
    r = {"batch": case.batch, "window": case.window, "pipeline_examples_per_s": rate,
         "first_batch_s": first, "model": family_name,
         "demo_batch": demo_batch, "demo_step_examples_per_s_here": step, "gpu_case": case_name,
         "gpu_forward_flops_per_example": flops, "h100_examples_per_s_at_40pct": gpu,
         "pipeline_over_gpu": rate / gpu, "met": rate >= TARGET * gpu}
    results["datasets"][name] = r
    print(f"{name:<38} pipeline {rate:10.0f} ex/s (first batch {first:5.1f} s) | "
          f"{family_name} demo step here {step:8.1f} ex/s | H100 at 40% on {case_name} "
          f"({flops / 1e9:.2f} GFLOP/ex forward) {gpu:9.0f} ex/s | pipeline "
          f"{rate / gpu:6.1f}x ({'met' if r['met'] else 'MISSED'}, target {TARGET:.0f}x)",
          flush=True)
  record("input_pipeline", results)


if __name__ == "__main__":
  main()

"""One command for a GPU (or any machine): every family's training throughput
in float32 and mixed precision, each with and without XLA; the model FLOPs
and the MFU they imply; peak device memory; the cached samplers' throughput
(Gated PixelCNN against ``tfd.PixelCNN`` too); and, on a machine with two
devices, a 2-replica ``MirroredStrategy`` run and its scaling efficiency.

    .venv/bin/python bench/accelerator.py                 # realistic sizes, --max-minutes 5
    .venv/bin/python bench/accelerator.py --smoke         # tiny sizes: checks the machinery
    .venv/bin/python bench/accelerator.py --only glow transformer

Install for a GPU first: ``pip install -e ".[gpu]"`` (``tensorflow[and-cuda]``).

What it measures, and how:

- Device: the GPU's name, compute capability, count and memory
  (``nvidia-smi``), or the CPU's model and cores. Mixed precision is
  ``mixed_float16`` (with loss scaling) on a GPU and ``mixed_bfloat16`` on a
  CPU or TPU.
- Training examples/s: ``fit`` on one fixed random batch of the family's
  data shape (a step's cost does not depend on the values), Adam, after
  ``--warmup`` steps that trace and compile; the timed ``--steps`` run to
  their end. The compile time is the warm-up's.
- FLOPs: TensorFlow's profiler counts the float operations of the traced
  forward pass (``test_step`` on the batch, static shapes); a training step
  is counted as 3× that (the usual convention: the backward pass costs about
  twice the forward). The profiler has no count for einsums, so each is
  added as 2 × the product of its index sizes. Each row says how.
- MFU: the training FLOP/s over the device's peak in the policy's compute
  dtype: the datasheet's dense tensor-core peak for the GPUs in
  ``DATASHEET`` (TF32 for float32, which TensorFlow uses on Ampere and
  later), else the matmul rate measured here.
- Peak memory: TensorFlow's allocator peak during the timed steps
  (``get_memory_info``; on a CPU the BFC allocator this script turns on).
- Sampling: each likelihood family's ``sample`` (its cached sampler where it
  has one), after one warm-up call, in examples/s and positions/s.

The run stops starting new measurements after ``--max-minutes``; what it
skipped is listed as skipped, never left out silently.
"""

import argparse
import dataclasses
import json
import math
import os
import platform
import shutil
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

# Dense (no sparsity) peaks from NVIDIA's datasheets, FLOP/s: "float32" is
# TF32 on the tensor cores where the GPU has them (TensorFlow's default for
# float32 matmuls and convolutions since Ampere), "mixed" is FP16/BF16.
# Order matters: the first name contained in the device's name wins.
DATASHEET = (
    ("H100 PCIe", {"float32": 378e12, "mixed": 756e12}),
    ("H100", {"float32": 494.7e12, "mixed": 989.4e12}),    # SXM
    ("A100", {"float32": 156e12, "mixed": 312e12}),
    ("L40S", {"float32": 183e12, "mixed": 362e12}),
    ("L4", {"float32": 60e12, "mixed": 121e12}),
    ("A10", {"float32": 62.5e12, "mixed": 125e12}),
    ("V100", {"float32": 15.7e12, "mixed": 125e12}),        # no TF32
    ("T4", {"float32": 8.1e12, "mixed": 65e12}),             # no TF32, no bfloat16
)


@dataclasses.dataclass(frozen=True)
class Case:
  """A family at a realistic size: constructor arguments, global batch,
  sequence window, the cases whose models it is built on, and how many
  examples (and of what length) to sample."""
  family: str
  sizes: dict
  batch: int
  window: int = None
  stages: dict = dataclasses.field(default_factory=dict)
  sample: dict = dataclasses.field(default_factory=dict)


RGB32, FMNIST = (32, 32, 3), (28, 28, 1)
# In priority order: the families the issue names first, so a short budget
# measures those.
CASES = {
    "glow": Case("glow", dict(image_shape=RGB32, levels=3, steps_per_level=16,
                              hidden_channels=256), 128, sample=dict(n=64)),
    "gated_pixelcnn": Case("gated_pixelcnn", dict(image_shape=FMNIST, filters=128,
                                                  num_layers=15), 128, sample=dict(n=16)),
    "transformer": Case("transformer", dict(context_length=1024, num_layers=12, d_model=512,
                                            num_heads=8, attention="dense"), 16, window=1024,
                        sample=dict(n=8, length=1024)),
    "transformer_strided": Case("transformer", dict(context_length=1024, num_layers=12,
                                                    d_model=512, num_heads=8,
                                                    attention="strided"), 16, window=1024,
                                sample=dict(n=8, length=1024)),
    "wavenet": Case("wavenet", dict(num_layers_per_stack=10, num_stacks=3, residual_channels=64,
                                    dilation_channels=64, skip_channels=256), 32, window=8192,
                    sample=dict(n=4, length=8000)),
    "vqvae": Case("vqvae", dict(image_shape=(64, 64, 3), levels=1, num_codes=512, code_dim=64,
                                hidden_channels=128, num_residual_blocks=2), 64),
    "realnvp": Case("realnvp", dict(image_shape=RGB32, levels=3, hidden_channels=128), 64,
                    sample=dict(n=64)),
    "nice": Case("nice", dict(image_shape=FMNIST, num_couplings=4, hidden_units=1000,
                              num_hidden_layers=5), 256, sample=dict(n=64)),
    "maf": Case("maf", dict(image_shape=FMNIST, num_bijectors=5, hidden_units=[1024]), 256,
                sample=dict(n=16)),
    "iaf": Case("iaf", dict(image_shape=FMNIST, num_bijectors=5, hidden_units=[1024]), 256,
                sample=dict(n=64)),
    "pixelcnn": Case("pixelcnn", dict(image_shape=RGB32, filters=126, num_layers=15), 32,
                     sample=dict(n=16)),
    "multiscale_pixelcnn": Case("multiscale_pixelcnn", dict(
        image_shape=(64, 64, 1), upscalings=3, filters=64, num_layers=8, base_filters=64,
        base_layers=8), 32, sample=dict(n=16)),
    "video_pixel_network": Case("video_pixel_network", dict(
        video_shape=(10, 32, 32, 1), encoder_filters=64, encoder_layers=4, lstm_filters=64,
        decoder_filters=64, decoder_layers=4), 16, sample=dict(n=2)),
    "made": Case("made", dict(event_size=FMNIST, hidden_units=[2048, 2048]), 256,
                 sample=dict(n=64)),
    "nade": Case("nade", dict(event_size=FMNIST, hidden_units=500), 256, sample=dict(n=64)),
    "char_rnn": Case("char_rnn", dict(cell="lstm", units=1024, num_layers=2), 64, window=256,
                     sample=dict(n=16, length=1024)),
    "image_transformer": Case("image_transformer", dict(
        image_shape=FMNIST, num_layers=8, d_model=256, num_heads=8, attention="strided"), 32,
        sample=dict(n=8)),
    "pixelrnn": Case("pixelrnn", dict(image_shape=FMNIST, units=64, num_layers=4), 32,
                     sample=dict(n=16)),
    "vqvae_prior": Case("vqvae_prior", dict(prior="pixelcnn", filters=128, num_layers=15), 64,
                       stages={"vqvae": "vqvae"}, sample=dict(n=16)),
    "text_to_image": Case("text_to_image", dict(text_length=32, num_layers=8, d_model=256,
                                                num_heads=8), 64, stages={"vqvae": "vqvae"},
                          sample=dict(n=16)),
    "parallel_wavenet": Case("parallel_wavenet", dict(flow_layers=(10, 10, 10, 30), channels=64),
                             4, window=8192, stages={"teacher": "wavenet"}),
    "revnet": Case("revnet", dict(image_shape=RGB32, stages=[3, 3, 3], channels=64), 128),
}
# --smoke: these cases at the families' tiny sizes (the rest of the families
# train under XLA and mixed precision in tests/training/).
SMOKE = ("glow", "gated_pixelcnn", "transformer", "wavenet", "vqvae")
MIRRORED = ("glow", "gated_pixelcnn", "transformer")
CONFIGS = ("float32", "float32+xla", "mixed", "mixed+xla")


def _nvidia_smi(query):
  """``nvidia-smi --query-gpu=QUERY`` lines, or [] where it is missing."""
  if not shutil.which("nvidia-smi"):
    return []
  out = subprocess.run(["nvidia-smi", f"--query-gpu={query}", "--format=csv,noheader,nounits"],
                       capture_output=True, text=True)
  return out.stdout.strip().splitlines() if out.returncode == 0 else []


def datasheet_peak(name):
  """``{'float32': FLOP/s, 'mixed': FLOP/s}`` of a GPU called ``name``, or None."""
  for key, peak in DATASHEET:
    if key.lower() in (name or "").lower():
      return peak
  return None


def detect_device(smoke):
  """What this script runs on: a dict naming the device, its memory, the
  mixed policy and the peaks the MFU is taken against."""
  import tensorflow as tf
  from common import cpu_info, matmul_peak
  gpus = tf.config.list_logical_devices("GPU")
  if gpus:
    details = tf.config.experimental.get_device_details(
        tf.config.list_physical_devices("GPU")[0])
    name = details.get("device_name", "GPU")
    memory = [float(m) / 1024 for m in _nvidia_smi("memory.total")]
    info = {"kind": "GPU", "name": name, "count": len(gpus),
            "compute_capability": details.get("compute_capability"),
            "memory_gb": memory[0] if memory else None, "mixed_policy": "mixed_float16",
            "devices": [d.name for d in gpus]}
    n, mixed_dtype = (1024 if smoke else 8192), "float16"
  else:
    model, isa = cpu_info()
    cpus = tf.config.list_logical_devices("CPU")
    with open("/proc/meminfo") if os.path.exists("/proc/meminfo") else open(os.devnull) as f:
      total = next((int(line.split()[1]) / 2**20 for line in f if line.startswith("MemTotal")),
                   None)
    info = {"kind": "CPU", "name": model or platform.processor(), "count": len(cpus),
            "cores": os.cpu_count(), "isa": isa, "memory_gb": total,
            "mixed_policy": "mixed_bfloat16", "devices": [d.name for d in cpus]}
    n, mixed_dtype = (512 if smoke else 2048), "bfloat16"
  first = info["devices"][0]
  measured = {"float32": matmul_peak(n, dtype="float32", device=first),
              "mixed": matmul_peak(n, dtype=mixed_dtype, device=first)}
  sheet = datasheet_peak(info["name"]) if info["kind"] == "GPU" else None
  info.update(measured_peak=measured, datasheet_peak=sheet, peak=sheet or measured,
              peak_source="datasheet" if sheet else "measured matmul")
  return info


def build(name, smoke):
  """The model of case ``name``, on its stages' models (built first)."""
  from tfgen import models
  case = CASES[name]
  family = models.FAMILIES[case.family]
  if smoke:
    extra = {"attention": case.sizes["attention"]} if "attention" in case.sizes else {}
    return family.build_tiny(models.FAMILIES, **extra)
  stages = {arg: build(stage, smoke) for arg, stage in case.stages.items()}
  return family.model(**{**case.sizes, **family.options, **stages})


def batch_of(model, name, batch, window):
  """A random batch ``(x, condition or None)`` of the model's data shape."""
  import numpy as np
  rng = np.random.default_rng(0)
  shape = [d or window for d in model.event_shape]
  x = rng.integers(0, model.num_levels, size=[batch] + shape).astype(model.data_dtype.name)
  labels = np.arange(batch) % 3
  y = {"text_to_image": lambda: model.captions_of(labels),
       "revnet": lambda: labels}.get(CASES[name].family, lambda: None)()
  return x, y


def _einsum_flops(op):
  """2 × the product of every index's size: the multiply-adds of an einsum
  whose operands have static shapes (TensorFlow's profiler counts none)."""
  import numpy as np
  inputs, _ = op.get_attr("equation").decode().replace(" ", "").split("->")
  sizes = {}
  for term, tensor in zip(inputs.split(","), op.inputs):
    shape = tensor.shape.as_list()
    if "." in term or None in shape:
      return None
    sizes.update(zip(term, shape))
  return 2 * int(np.prod(list(sizes.values()), dtype=np.int64))


def forward_flops(model, x, y):
  """``(float ops of one forward pass on the batch, how they were counted)``:
  TensorFlow's profiler, plus each einsum counted from its shapes."""
  import tensorflow as tf
  data = (tf.constant(x),) if y is None else (tf.constant(x), tf.constant(y))
  graph = tf.function(lambda *d: model.test_step(d if len(d) > 1 else d[0])) \
      .get_concrete_function(*data).graph
  opts = tf.compat.v1.profiler.ProfileOptionBuilder.float_operation()
  opts["output"] = "none"
  counted = tf.compat.v1.profiler.profile(graph, options=opts).total_float_ops
  einsums = [_einsum_flops(op) for op in graph.get_operations() if op.type == "Einsum"]
  if not einsums:
    return counted, "profiler"
  if None in einsums:
    return counted, "profiler (an einsum of unknown shape not counted)"
  return counted + sum(einsums), "profiler + einsums from their shapes"


def _memory_device(device):
  return device["devices"][0].split("device:")[-1]


def _peak_mb(device, reset=False):
  """The allocator's peak on ``device`` in MB (resetting it first), or None
  where the allocator keeps no statistics (a CPU without the BFC allocator,
  which ``main`` turns on before TensorFlow loads)."""
  import tensorflow as tf
  try:
    if reset:
      tf.config.experimental.reset_memory_stats(device)
    return tf.config.experimental.get_memory_info(device)["peak"] / 2**20
  except ValueError:
    return None


def train_config(name, case, smoke, device, policy, jit, steps, warmup, strategy=None,
                 batch=None):
  """Builds case ``name`` under ``policy`` and measures ``fit``; returns
  ``(model, x, y, row)``."""
  import numpy as np
  import tensorflow as tf
  from tfgen._keras import keras
  from tfgen.training import default_optimizer
  from common import param_count
  before = keras.mixed_precision.global_policy()
  keras.mixed_precision.set_global_policy(policy)
  try:
    keras.utils.set_random_seed(0)
    strategy = strategy or tf.distribute.get_strategy()
    with strategy.scope():
      model = build(name, smoke)
      model.compile(default_optimizer(1e-4), jit_compile=jit)
    window = None
    if model.is_sequence:
      window = model.default_window if smoke else case.window
    batch = batch or (4 if smoke else case.batch)
    x, y = batch_of(model, name, batch, window)
    ds = tf.data.Dataset.from_tensors((x,) if y is None else (x, y)).repeat()
    start = time.perf_counter()
    model.fit(ds, steps_per_epoch=warmup, epochs=1, verbose=0)
    compile_s = time.perf_counter() - start
    memory = _memory_device(device)
    _peak_mb(memory, reset=True)
    start = time.perf_counter()
    history = model.fit(ds, steps_per_epoch=steps, epochs=1, verbose=0)
    seconds = time.perf_counter() - start
    # On a CPU, XLA's executables keep their buffers outside TensorFlow's
    # allocator, so its peak would read near zero: not measured there.
    peak = None if jit and device["kind"] == "CPU" else _peak_mb(memory)
    loss = float(history.history["loss"][-1])
    row = {"examples_per_s": batch * steps / seconds, "step_s": seconds / steps,
           "compile_s": compile_s, "peak_memory_mb": peak, "loss": loss,
           "finite": bool(np.isfinite(loss)), "batch": batch, "window": window,
           "params": param_count(model),
           "loss_scaled": isinstance(model.optimizer, keras.mixed_precision.LossScaleOptimizer)}
    return model, x, y, row
  finally:
    keras.mixed_precision.set_global_policy(before)


def sampling(model, case, smoke):
  """Examples/s and positions/s of ``model.sample`` after a warm-up call."""
  import numpy as np
  options = dict(case.sample)
  n = 2 if smoke else options.pop("n")
  options.pop("n", None)
  if smoke and "length" in options:
    options["length"] = min(options["length"], 8)
  call = lambda: model.sample(n, seed=[1, 2], **options)
  first = time.perf_counter()
  out = call()
  warm_s = time.perf_counter() - first
  start = time.perf_counter()
  out = np.asarray(call())
  seconds = time.perf_counter() - start
  positions = int(np.prod(out.shape))
  return {"n": n, **options, "seconds": seconds, "first_call_s": warm_s,
          "examples_per_s": n / seconds, "positions_per_s": positions / seconds}


def tfd_pixelcnn(shape, n, smoke):
  """Seconds for ``tfd.PixelCNN`` to sample ``n`` images of ``shape`` (after
  a warm-up call), at about the Gated PixelCNN case's parameter count."""
  import tensorflow as tf
  import tensorflow_probability as tfp
  from common import param_count
  theirs = tfp.distributions.PixelCNN(shape, num_resnet=1, num_hierarchies=1 if smoke else 2,
                                      num_filters=4 if smoke else 96, num_logistic_mix=5,
                                      dropout_p=0.)
  theirs.log_prob(tf.zeros((1,) + tuple(shape)))      # creates its weights
  call = tf.function(lambda: theirs.sample(n, seed=1))
  call()
  start = time.perf_counter()
  call().numpy()
  return {"seconds": time.perf_counter() - start, "n": n, "params": param_count(theirs)}


def _label(policy, jit):
  return policy + ("+xla" if jit else "")


def run(args):
  import tensorflow as tf
  if args.replicas > 1:
    # Split the host into logical devices for a MirroredStrategy (a machine
    # with several GPUs needs nothing).
    cpus = tf.config.list_physical_devices("CPU")
    if not tf.config.list_physical_devices("GPU"):
      tf.config.set_logical_device_configuration(
          cpus[0], [tf.config.LogicalDeviceConfiguration()] * args.replicas)
  started = time.perf_counter()
  deadline = started + 60 * args.max_minutes
  device = detect_device(args.smoke)
  mixed = device["mixed_policy"]
  print(f"device: {device['kind']} {device['name']} x{device['count']}, "
        f"memory {device['memory_gb'] or 0:.1f} GB; peak float32 "
        f"{device['peak']['float32'] / 1e12:.2f}, mixed {device['peak']['mixed'] / 1e12:.2f} "
        f"TFLOP/s ({device['peak_source']})", flush=True)
  names = list(args.only or (SMOKE if args.smoke else CASES))
  steps, warmup = (2, 1) if args.smoke else (args.steps, args.warmup)
  results = {"device": device, "smoke": args.smoke, "max_minutes": args.max_minutes,
             "steps": steps, "warmup": warmup, "families": {}, "skipped": []}
  configs = [(mixed if c.startswith("mixed") else "float32", c.endswith("+xla"))
             for c in args.configs]
  single = {}
  for name in names:
    case = CASES[name]
    entry = results["families"].setdefault(name, {"family": case.family, "configs": {}})
    for policy, jit in configs:
      label = _label(policy, jit)
      if time.perf_counter() > deadline:
        results["skipped"].append(f"{name} {label}")
        continue
      try:
        model, x, y, row = train_config(name, case, args.smoke, device, policy, jit, steps,
                                        warmup)
      except Exception as e:      # a config that fails is reported, not hidden
        entry["configs"][label] = {"error": f"{type(e).__name__}: {str(e)[:300]}"}
        print(f"{name:<22} {label:<22} FAILED {type(e).__name__}: {str(e)[:200]}", flush=True)
        continue
      if "flops_per_example" not in entry:
        flops, method = forward_flops(model, x, y)
        entry.update(params=row["params"], batch=row["batch"], window=row["window"],
                     forward_flops_per_example=flops / row["batch"], flops_method=method)
      peak = device["peak"]["float32" if policy == "float32" else "mixed"]
      row["mfu"] = 3 * entry["forward_flops_per_example"] * row["examples_per_s"] / peak
      entry["configs"][label] = row
      single[(name, label)] = row
      print(f"{name:<22} {label:<22} {row['examples_per_s']:10.1f} ex/s  "
            f"compile {row['compile_s']:6.1f} s  peak "
            + ("     n/a   " if row["peak_memory_mb"] is None else
               f"{row['peak_memory_mb']:8.0f} MB") + "  "
            f"MFU {100 * row['mfu']:5.1f}%" + ("" if row["finite"] else "  NON-FINITE"),
            flush=True)
      if policy == "float32" and not jit and case.sample:
        if time.perf_counter() > deadline:
          results["skipped"].append(f"{name} sampling")
        else:
          entry["sampling"] = sampling(model, case, args.smoke)
          s = entry["sampling"]
          print(f"{name:<22} {'sample':<22} {s['examples_per_s']:10.2f} ex/s  "
                f"{s['positions_per_s']:10.0f} positions/s", flush=True)
          if name == "gated_pixelcnn":
            if time.perf_counter() > deadline:
              results["skipped"].append("tfd.PixelCNN sampling")
            else:
              theirs = tfd_pixelcnn(model.event_shape, s["n"], args.smoke)
              theirs["speedup_of_cached"] = theirs["seconds"] / s["seconds"]
              results["tfd_pixelcnn"] = theirs
              print(f"{'tfd.PixelCNN':<22} {'sample':<22} {theirs['seconds']:10.2f} s: "
                    f"tfgen's cached sampler is {theirs['speedup_of_cached']:.1f}x faster",
                    flush=True)
  if len(device["devices"]) >= 2:
    results["mirrored"] = mirrored(args, device, names, single, steps, warmup, deadline,
                                   results["skipped"])
  results["targets"] = targets(results)
  results["elapsed_s"] = time.perf_counter() - started
  print(f"done in {results['elapsed_s']:.0f} s; skipped: {', '.join(results['skipped']) or 'nothing'}",
        flush=True)
  for key, verdict in results["targets"].items():
    print(f"target {key}: {verdict}", flush=True)
  return results


def mirrored(args, device, names, single, steps, warmup, deadline, skipped):
  """2 replicas at the single device's per-replica batch: examples/s and
  the scaling efficiency ``rate_2 / (2 · rate_1)``."""
  import tensorflow as tf
  # The accelerator's own configuration on a GPU; float32 where bfloat16
  # would only be emulated.
  policy, jit = (device["mixed_policy"], True) if device["kind"] == "GPU" else ("float32", False)
  label = _label(policy, jit)
  strategy = tf.distribute.MirroredStrategy(devices=device["devices"][:2])
  out = {"replicas": 2, "config": label}
  for name in (n for n in MIRRORED if n in names):
    one = single.get((name, label))
    if one is None:
      continue
    if time.perf_counter() > deadline:
      skipped.append(f"{name} mirrored")
      continue
    _, _, _, row = train_config(name, CASES[name], args.smoke, device, policy, jit, steps, warmup,
                                strategy=strategy, batch=2 * one["batch"])
    row["scaling_efficiency"] = row["examples_per_s"] / (2 * one["examples_per_s"])
    out[name] = row
    print(f"{name:<22} {'2 replicas ' + label:<22} {row['examples_per_s']:10.1f} ex/s  "
          f"scaling efficiency {100 * row['scaling_efficiency']:.0f}%", flush=True)
  return out


def targets(results):
  """The issue's targets on a GPU, as met / missed / not measured."""
  device = results["device"]
  out = {}
  if device["kind"] != "GPU" or results["smoke"]:
    why = "not measured: no GPU" if device["kind"] != "GPU" else "not measured: --smoke"
    return {"mfu_40pct_transformer_glow_mixed_xla": why, "pixelcnn_cached_100x_tfd": why}
  label = _label(device["mixed_policy"], True)
  mfus = {n: results["families"].get(n, {}).get("configs", {}).get(label, {}).get("mfu")
          for n in ("transformer", "glow")}
  if any(v is None for v in mfus.values()):
    out["mfu_40pct_transformer_glow_mixed_xla"] = "not measured (skipped or failed)"
  else:
    worst = min(mfus.values())
    out["mfu_40pct_transformer_glow_mixed_xla"] = (
        ("met" if worst >= 0.4 else "missed") + ", " + ", ".join(
            f"{n} {100 * v:.1f}%" for n, v in mfus.items()))
  speedup = results.get("tfd_pixelcnn", {}).get("speedup_of_cached")
  out["pixelcnn_cached_100x_tfd"] = ("not measured (skipped)" if speedup is None else
                                     f"{'met' if speedup >= 100 else 'missed'}, {speedup:.0f}x")
  return out


def main(argv=None):
  p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
  p.add_argument("--smoke", action="store_true",
                 help="tiny sizes of a few families: checks the machinery in seconds")
  p.add_argument("--only", nargs="*", choices=sorted(CASES), help="a subset of the cases")
  p.add_argument("--configs", nargs="+", choices=CONFIGS, default=list(CONFIGS),
                 help="precision and XLA settings to train under (default: all four; mixed "
                      "is mixed_float16 on a GPU, mixed_bfloat16 elsewhere)")
  p.add_argument("--steps", type=int, default=10, help="timed training steps per config")
  p.add_argument("--warmup", type=int, default=2, help="steps that trace and compile first")
  p.add_argument("--max-minutes", type=float, default=5.0,
                 help="start no measurement after this (what is left is listed as skipped)")
  p.add_argument("--replicas", type=int, default=1,
                 help="on a machine without GPUs, split the CPU into this many logical "
                      "devices to exercise the MirroredStrategy run (a multi-GPU machine "
                      "uses its GPUs)")
  p.add_argument("--results", default=None,
                 help="the results file (default: bench/results.json; --smoke writes none "
                      "unless given one)")
  args = p.parse_args(argv)
  for flag in ("steps", "warmup", "replicas"):
    if getattr(args, flag) < 1:
      p.error(f"--{flag} must be at least 1, got {getattr(args, flag)}")
  if not args.max_minutes > 0:
    p.error(f"--max-minutes must be positive, got {args.max_minutes}")
  results = run(args)
  if args.results or not args.smoke:
    from common import RESULTS, record
    record("accelerator", results, path=args.results or RESULTS)
  if any("error" in c for f in results["families"].values() for c in f["configs"].values()):
    sys.exit(1)


if __name__ == "__main__":
  os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
  # The CPU's allocator keeps no statistics unless it is the BFC allocator;
  # set before TensorFlow loads (a GPU's always keeps them).
  os.environ.setdefault("TF_CPU_ALLOCATOR_USE_BFC", "true")
  main()

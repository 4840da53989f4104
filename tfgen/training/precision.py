"""Whether a 16-bit mixed-precision policy will pay on this machine.

``mixed_bfloat16`` halves the cost of the networks' matmuls and convolutions
only where the hardware multiplies bfloat16 natively: GPUs, and CPUs with
AVX512-BF16 or AMX, where oneDNN runs the convolutions in bfloat16. On other
CPUs the 16-bit kernels are emulated and slower than float32. On a 2-core
AMD EPYC (AVX2 only) the benchmark measured Glow at 18.6 images/s against
39.2 in float32, and Gated PixelCNN at 1.3 against 14.6 (README, Results).
"""

import re

import tensorflow as tf

# CPU flags (as /proc/cpuinfo names them) of native bfloat16 arithmetic.
BF16_FLAGS = ("avx512_bf16", "amx_bf16")


def cpu_features(path="/proc/cpuinfo"):
  """``(model name or None, set of flags)`` of the first CPU in ``path``.

  Returns ``(None, None)`` when ``path`` cannot be read (not Linux), so
  callers can tell "no such flag" from "unknown".
  """
  try:
    with open(path) as f:
      text = f.read()
  except OSError:
    return None, None
  model = re.search(r"^model name\s*:\s*(.+)$", text, re.M)
  flags = re.search(r"^flags\s*:\s*(.+)$", text, re.M)
  return (model.group(1).strip() if model else None,
          set(flags.group(1).split()) if flags else set())


def slow_bfloat16_reason(path="/proc/cpuinfo"):
  """Why ``mixed_bfloat16`` would be slower than float32 here, or None.

  None when a GPU is visible, when the CPU has AVX512-BF16 or AMX, or when
  the CPU's flags cannot be read.
  """
  if tf.config.list_physical_devices("GPU"):
    return None
  model, flags = cpu_features(path)
  if flags is None or flags & set(BF16_FLAGS):
    return None
  return (f"this CPU ({model or 'unknown model'}) has no AVX512-BF16 or AMX, so bfloat16 is "
          "emulated and trains slower than float32 (benchmarked on such a CPU: Glow 0.47x, "
          "Gated PixelCNN 0.09x the float32 images/s)")

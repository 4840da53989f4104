"""WaveNet generation: cached (Fast WaveNet) against naive, and the real-time factor.

Run: .venv/bin/python bench/wavenet_generation.py
"""

import os
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from common import record, timed  # noqa: E402
from tfgen.autoregressive import WaveNet  # noqa: E402

RATE = 8000


def main():
  results = {}
  # 1. Speed-up at a receptive field of 1024 samples (1 stack of 10 layers, k = 2).
  model = WaveNet(num_layers_per_stack=10, num_stacks=1, residual_channels=32,
                  dilation_channels=32, skip_channels=64)
  n = 1500
  cached = timed(lambda: model.sample(1, length=n, seed=[1, 2]))
  naive = timed(lambda: model.sample(1, length=n, seed=[1, 2], method="naive"))
  results.update(receptive_field=model.receptive_field, samples=n, cached_s=cached,
                 naive_s=naive, speedup=naive / cached)
  print(f"receptive field {model.receptive_field}: {n} samples cached {cached:.3f} s, "
        f"naive {naive:.1f} s -> {naive / cached:.0f}x", flush=True)
  # 2. Real-time factor: 2x10 layers, 32 residual channels, 8 kHz, batch 1.
  model = WaveNet(num_layers_per_stack=10, num_stacks=2, residual_channels=32,
                  dilation_channels=32, skip_channels=64)
  seconds = 2.0
  elapsed = timed(lambda: model.sample(1, length=int(seconds * RATE), seed=[1, 2]), repeat=2)
  results.update(rtf_model="2x10 layers, 32 residual channels", rtf_seconds_of_audio=seconds,
                 rtf_generation_s=elapsed, real_time_factor=elapsed / seconds)
  print(f"2x10-layer, 32-channel WaveNet: {seconds:.0f} s of 8 kHz audio in {elapsed:.2f} s "
        f"(real-time factor {elapsed / seconds:.2f}; below 1 is faster than real time)",
        flush=True)
  record("wavenet_generation", results)


if __name__ == "__main__":
  main()

"""Shared helpers for the benchmark scripts: timing and the results file."""

import json
import os
import platform
import time

RESULTS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "results.json")


def timed(fn, repeat=1):
  """Best wall-clock seconds of ``repeat`` calls (after one warm-up call)."""
  fn()
  best = float("inf")
  for _ in range(repeat):
    start = time.perf_counter()
    fn()
    best = min(best, time.perf_counter() - start)
  return best


def machine():
  return {"cpu_count": os.cpu_count(), "platform": platform.platform(),
          "processor": platform.processor() or platform.machine()}


def record(section, values):
  """Merges ``values`` under ``section`` in bench/results.json."""
  data = {}
  if os.path.exists(RESULTS):
    with open(RESULTS) as f:
      data = json.load(f)
  data[section] = {**values, "machine": machine(), "date": time.strftime("%Y-%m-%d")}
  with open(RESULTS, "w") as f:
    json.dump(data, f, indent=2)

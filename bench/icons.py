"""Real colour images: test bits/dim on the 32×32 Oxygen icons, into bench/results.json.

Run: .venv/bin/python bench/icons.py [--minutes 4]

Glow, RealNVP and Gated PixelCNN at their demo sizes (Gated PixelCNN with 48
filters, a multiple of the 3 channels), each trained by ``tfgen.runs.train_run``
(what ``tfgen train MODEL --data icons`` runs) for ``--minutes`` of wall-clock
time, batch 64, Adam 1e-3; the test split (the icons whose path hashes into
the last tenth) is scored once at the end. The icons are the Debian package
``oxygen-icon-theme`` (1528 RGBA PNGs at 32×32 in ten category folders,
alpha over white).
"""

import argparse
import os
import sys
import tempfile

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from common import machine, record  # noqa: E402

MODELS = {"glow": {}, "realnvp": {}, "gated_pixelcnn": {"filters": 48}}


def main():
  parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
  parser.add_argument("--minutes", type=float, default=4.0)
  args = parser.parse_args()
  from tfgen import data, runs
  spec = data.info("icons")
  results = {"minutes": args.minutes, "machine": machine(), "models": {}}
  with tempfile.TemporaryDirectory() as tmp:
    for name, sizes in MODELS.items():
      run = runs.train_run(os.path.join(tmp, name), name, data="icons", epochs=1000,
                           steps_per_epoch=100, max_minutes=args.minutes, sizes=sizes,
                           export=False, verbose=0, log=lambda line: None)
      bpd = run.config["test"]["bits_per_dim"]
      results["models"][name] = {"test_bits_per_dim": bpd, "steps": run.config["steps_trained"],
                                 "parameters": int(sum(
                                     int(w.shape.num_elements())
                                     for w in run.model.trainable_weights))}
      print(f"{name}: {bpd:.3f} test bits/dim after {run.config['steps_trained']} steps "
            f"({args.minutes:g} min)", flush=True)
  results["classes"] = list(spec.class_names)
  record("icons", results)


if __name__ == "__main__":
  main()

"""Are class-conditional samples of the requested class? Into bench/results.json.

Run: .venv/bin/python bench/conditional_samples.py [--minutes 5] [--per-class 50] [--only glow]

1. A small CNN classifier is trained on the real Fashion-MNIST training
   images (2 conv layers, 8 epochs, Adam); its test accuracy is recorded
   (it should be at least 90% for the score to mean much).
2. A class-conditional Glow and a class-conditional Gated PixelCNN, demo
   sizes, are each trained with ``tfgen.runs.train_run(conditional=True)``
   (what ``tfgen train MODEL --conditional`` runs) for ``--minutes``.
3. ``--per-class`` samples of each of the 10 classes are drawn at
   temperatures 1 and 0.7 (for the PixelCNN: the logits divided by T), as
   ``tfgen sample --condition all`` does, and classified: the score is the
   fraction assigned to the requested class (chance: 10%).
"""

import argparse
import os
import sys
import tempfile
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from common import machine, record, recorded  # noqa: E402


def classifier(epochs=8):
  """A CNN on real Fashion-MNIST and its test accuracy."""
  import numpy as np
  from tfgen._keras import keras
  from tfgen.data import load_fashion_mnist
  (x, y), (tx, ty) = load_fashion_mnist("train"), load_fashion_mnist("test")
  keras.utils.set_random_seed(0)
  net = keras.Sequential([
      keras.Input([28, 28, 1]), keras.layers.Rescaling(1 / 255.),
      keras.layers.Conv2D(32, 3, activation="relu"), keras.layers.MaxPooling2D(),
      keras.layers.Conv2D(64, 3, activation="relu"), keras.layers.MaxPooling2D(),
      keras.layers.Flatten(), keras.layers.Dropout(0.3), keras.layers.Dense(128, "relu"),
      keras.layers.Dense(10)])
  net.compile(keras.optimizers.Adam(1e-3),
              keras.losses.SparseCategoricalCrossentropy(from_logits=True), ["accuracy"])
  net.fit(x, y, batch_size=128, epochs=epochs, verbose=0)
  accuracy = float(np.mean(np.argmax(net.predict(tx, verbose=0), -1) == ty))
  return net, accuracy


def main():
  import numpy as np
  from tfgen import runs
  parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
  parser.add_argument("--minutes", type=float, default=5.0)
  parser.add_argument("--per-class", type=int, default=50)
  parser.add_argument("--only", nargs="*", choices=["glow", "gated_pixelcnn"])
  args = parser.parse_args()
  start = time.perf_counter()
  net, accuracy = classifier()
  print(f"classifier: {accuracy:.4f} test accuracy on real images "
        f"({time.perf_counter() - start:.0f} s)", flush=True)
  kept = recorded("conditional_samples").get("models", {}) if args.only else {}
  results = {"classifier_test_accuracy": accuracy, "minutes": args.minutes,
             "per_class": args.per_class, "machine": machine(), "models": dict(kept)}
  labels = np.repeat(np.arange(10, dtype=np.int32), args.per_class)
  with tempfile.TemporaryDirectory() as tmp:
    for name in args.only or ("glow", "gated_pixelcnn"):
      run = runs.train_run(os.path.join(tmp, name), name, data="fashion_mnist", epochs=1000,
                           steps_per_epoch=100, max_minutes=args.minutes, conditional=True,
                           export=False, verbose=0, log=lambda line: None)
      row = {"steps": run.config["steps_trained"], "minutes": args.minutes,
             "test_bits_per_dim": run.config["test"]["bits_per_dim"]}
      for t in (1.0, 0.7):
        draw = runs.sampler(run.model, None, condition=labels)
        samples = draw(len(labels), t, 0)
        hit = np.argmax(net.predict(samples, verbose=0), -1) == labels
        row[f"correct_at_T{t:g}"] = float(hit.mean())
        row[f"per_class_at_T{t:g}"] = [float(hit[labels == k].mean()) for k in range(10)]
        print(f"{name}: {100 * hit.mean():.1f}% of samples at T={t:g} are classified as the "
              f"requested class ({row['steps']} steps, {row['test_bits_per_dim']:.3f} test "
              "bits/dim)", flush=True)
      results["models"][name] = row
  record("conditional_samples", results)


if __name__ == "__main__":
  main()

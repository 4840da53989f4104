"""Sample quality, measured: for the shipped Fashion-MNIST models (and a demo
run, if given), 1,000 samples scored by a Fashion-MNIST classifier.

    .venv/bin/python bench/sample_quality.py [--n 1000] [--run runs/demo]

1. The classifier is ``bench/conditional_samples.py``'s CNN, trained on the
   real training images (8 epochs); it is cached in ``bench/.cache`` after
   the first run, and its test accuracy is recorded (it must be at least
   90% for the scores to mean much).
2. For each model, ``--n`` samples at each temperature, and:

   - ``confident``: the fraction the classifier assigns to one class with
     probability ≥ 0.9;
   - ``class_entropy``: the entropy (nats) of the histogram of the
     classifier's labels, against log 10 = 2.303 (mode coverage);
   - ``frechet``: the Fréchet distance between Gaussians fitted to the
     classifier's 128 penultimate features of the samples and of the
     10,000 real test images (Heusel et al. 2017, arXiv:1706.08500, in this
     classifier's feature space: **not** Inception FID, and not comparable
     with published FIDs). ``frechet_real`` is the same distance for 1,000
     real training images, the floor at this sample size.
"""

import argparse
import os
import sys
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from common import record  # noqa: E402

CACHE = os.path.join(os.path.dirname(os.path.abspath(__file__)), ".cache",
                     "fashion_mnist_classifier.h5")
ZOO = ("fashion_mnist_glow", "fashion_mnist_gated_pixelcnn")


def classifier():
  """``(network, its test accuracy)``: trained once, then loaded from CACHE."""
  import numpy as np
  from conditional_samples import classifier as train
  from tfgen._keras import keras
  from tfgen.data import load_fashion_mnist
  if os.path.exists(CACHE):
    net = keras.models.load_model(CACHE, compile=False)
  else:
    net, _ = train()
    os.makedirs(os.path.dirname(CACHE), exist_ok=True)
    net.save(CACHE)
  tx, ty = load_fashion_mnist("test")
  accuracy = float(np.mean(np.argmax(net.predict(tx, verbose=0), -1) == ty))
  return net, accuracy


def frechet(a, b):
  """The Fréchet distance between Gaussians fitted to feature rows ``a`` and ``b``."""
  import numpy as np
  from scipy import linalg
  mu_a, mu_b = a.mean(0), b.mean(0)
  cov_a, cov_b = np.cov(a, rowvar=False), np.cov(b, rowvar=False)
  root = linalg.sqrtm(cov_a @ cov_b)
  return float(np.sum((mu_a - mu_b) ** 2) + np.trace(cov_a + cov_b - 2 * np.real(root)))


def scores(net, features, images, real_features):
  import numpy as np
  import tensorflow as tf
  p = tf.nn.softmax(net.predict(images, verbose=0)).numpy()
  labels = np.argmax(p, -1)
  hist = np.bincount(labels, minlength=10) / len(labels)
  nonzero = hist[hist > 0]
  return {"confident": float(np.mean(p.max(-1) >= 0.9)),
          "class_entropy": float(-np.sum(nonzero * np.log(nonzero))),
          "class_histogram": hist.tolist(),
          "frechet": frechet(features.predict(images, verbose=0), real_features)}


def main():
  import numpy as np
  import tfgen
  from tfgen._keras import keras
  from tfgen.data import load_fashion_mnist
  p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
  p.add_argument("--n", type=int, default=1000)
  p.add_argument("--run", action="append", default=[],
                 help="a run folder or export to score too (e.g. runs/demo); repeatable")
  p.add_argument("--temperatures", type=float, nargs="+", default=[1.0, 0.7])
  args = p.parse_args()
  start = time.perf_counter()
  net, accuracy = classifier()
  features = keras.Model(net.inputs, net.layers[-2].output)
  print(f"classifier: {accuracy:.4f} test accuracy ({time.perf_counter() - start:.0f} s)",
        flush=True)
  (x, _), (tx, _) = load_fashion_mnist("train"), load_fashion_mnist("test")
  real = features.predict(tx, verbose=0)
  floor = frechet(features.predict(x[:args.n], verbose=0), real)
  results = {"classifier_test_accuracy": accuracy, "n": args.n, "frechet_real": floor,
             "log_10": float(np.log(10)), "models": {}}
  print(f"Frechet distance of {args.n} real training images to the test set: {floor:.2f}",
        flush=True)
  sources = [(name, lambda name=name: tfgen.pretrained(name)) for name in ZOO]
  # A run is named by its last two path parts (runs/demo).
  sources += [(os.path.join(*os.path.normpath(path).split(os.sep)[-2:]),
               lambda path=path: tfgen.load(path)) for path in args.run]
  for name, get in sources:
    model = get()
    row = {}
    for t in args.temperatures:
      began = time.perf_counter()
      images = np.concatenate([model.sample(min(250, args.n - i), seed=[7, i], temperature=t)
                               .numpy() for i in range(0, args.n, 250)])
      s = scores(net, features, images, real)
      s["sample_seconds"] = time.perf_counter() - began
      row[f"T{t:g}"] = s
      print(f"{name} T={t:g}: {100 * s['confident']:.1f}% confident (>= 0.9), class entropy "
            f"{s['class_entropy']:.3f} of {np.log(10):.3f}, Frechet {s['frechet']:.2f} "
            f"({s['sample_seconds']:.0f} s to sample)", flush=True)
    results["models"][name] = row
  record("sample_quality", results)


if __name__ == "__main__":
  main()

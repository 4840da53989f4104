"""Two-stage models on Fashion-MNIST at a fixed wall-clock budget, into bench/results.json.

Run: .venv/bin/python bench/vqvae.py [--minutes 3] [--figures DIR]

Each stage trains for ``--minutes`` on this machine:

- VQ-VAE (levels=1, 7×7 codes) and VQ-VAE-2 (levels=2, 7×7 top and 14×14
  bottom codes): test reconstruction MSE on [0, 1] pixels, codebook usage
  over the whole test set and perplexity;
- priors over the VQ-VAE's codes: Gated PixelCNN and Transformer (and the
  conditional Gated PixelCNN pair on VQ-VAE-2): test bits per code;
- sampling time of 64 images from the code prior (cached sampler, then the
  decoder) against the pixel-level Gated PixelCNN at 28×28 with 256 levels
  and the same network size (cached sampler), both after a warm-up call;
- the DALL-E-style text-to-image prior: bits per code given the caption, and
  how often a small CNN classifier (trained on real images for this
  benchmark) assigns a prompt's samples to the prompted class.

``--figures DIR`` writes sample grids (PNG) to look at.
"""

import argparse
import os
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

from common import param_count  # noqa: E402  (bench/ is on sys.path now)


def _classifier():
  from tfgen import data
  from tfgen._keras import keras
  images, labels = next(iter(data.load("fashion_mnist", "train", 60000, labels=True, seed=1)))
  model = keras.Sequential([
      keras.layers.Rescaling(1 / 255.), keras.layers.Conv2D(32, 3, 2, activation="relu"),
      keras.layers.Conv2D(64, 3, 2, activation="relu"), keras.layers.Flatten(),
      keras.layers.Dense(10)])
  model.compile("adam", keras.losses.SparseCategoricalCrossentropy(from_logits=True),
                metrics=["accuracy"])
  model.fit(images, labels, epochs=3, batch_size=128, verbose=0)
  test, test_labels = next(iter(data.load("fashion_mnist", "test", 10000, labels=True)))
  return model, float(model.evaluate(test, test_labels, verbose=0)[1])


def main(argv=None):
  p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
  p.add_argument("--minutes", type=float, default=3.0)
  p.add_argument("--figures", help="write sample grids here")
  args = p.parse_args(argv)
  import numpy as np
  import tensorflow as tf
  from common import fit_for, record, timed
  from tfgen import data
  from tfgen._keras import keras
  from tfgen.autoregressive import PixelCNN
  from tfgen.latent import VQVAE, CodePrior, TextToImage
  from tfgen.training.render import write_samples
  seconds = args.minutes * 60
  keras.utils.set_random_seed(0)
  result = {"minutes": args.minutes, "vqvae": {}, "priors": {}}

  def figure(name, images):
    if args.figures:
      os.makedirs(args.figures, exist_ok=True)
      write_samples(os.path.join(args.figures, name + ".png"), np.asarray(images), "image")

  test_images = data.load("fashion_mnist", "test", 500)
  vqs = {}
  for name, levels in (("vqvae", 1), ("vqvae2", 2)):
    vq = VQVAE((28, 28, 1), levels=levels, num_codes=256, code_dim=32, hidden_channels=64)
    steps = fit_for(vq, data.load("fashion_mnist", "train", 64, repeat=True, seed=0),
                     seconds, 2e-3)
    r = vq.evaluate(test_images, verbose=0, return_dict=True)
    result["vqvae"][name] = {"levels": levels, "steps": steps, "params": param_count(vq),
                             "num_codes": 256, **{k: float(v) for k, v in r.items()}}
    print(name, vq.describe(r), flush=True)
    figure(name + "_reconstructions", vq.preview(next(iter(test_images))[:32]))
    vqs[name] = vq

  def prior_run(name, model, lr=1e-3):
    train = data.load("fashion_mnist", "train", 64, repeat=True, seed=0,
                      labels=model.uses_labels, encode=model.data_encoder)
    test = data.load("fashion_mnist", "test", 500, labels=model.uses_labels,
                     encode=model.data_encoder)
    steps = fit_for(model, train, seconds, lr)
    r = model.evaluate(test, verbose=0, return_dict=True)
    result["priors"][name] = {"steps": steps, "params": param_count(model),
                              "test_bits_per_code": float(r["bits_per_dim"])}
    print(name, model.describe(r), flush=True)
    return model

  pixel_prior = prior_run("pixelcnn", CodePrior(vqs["vqvae"], prior="pixelcnn", filters=64,
                                                num_layers=8))
  figure("pixelcnn_prior_samples", pixel_prior.sample(64, seed=0))
  prior_run("transformer", CodePrior(vqs["vqvae"], prior="transformer", num_layers=4,
                                     d_model=128, num_heads=4))
  two = prior_run("pixelcnn_vqvae2", CodePrior(vqs["vqvae2"], prior="pixelcnn", filters=64,
                                               num_layers=8))
  figure("vqvae2_prior_samples", two.sample(64, seed=0))

  # Sampling time: code prior (+ decoder) against pixel-level Gated PixelCNN.
  pixels = PixelCNN((28, 28, 1), num_levels=256, filters=64, num_layers=8, gated=True)
  n = 64
  code_s = timed(lambda: pixel_prior.sample(n, seed=1).numpy(), repeat=2)
  two_s = timed(lambda: two.sample(n, seed=1).numpy(), repeat=2)
  pixel_s = timed(lambda: pixels.sample(n, seed=1).numpy(), repeat=1)
  result["sampling"] = {"n": n, "code_prior_s": code_s, "vqvae2_prior_s": two_s,
                        "pixel_gated_pixelcnn_s": pixel_s, "speedup": pixel_s / code_s,
                        "vqvae2_speedup": pixel_s / two_s}
  print("sampling", result["sampling"], flush=True)

  t2i = TextToImage(vqs["vqvae"], text_length=24, num_layers=4, d_model=128, num_heads=4)
  prior_run("text_to_image", t2i)
  classifier, accuracy = _classifier()
  agree = {}
  grid = []
  for c, name in enumerate(t2i.class_names):
    drawn = t2i.sample(16, prompt=name, seed=c, temperature=1.0)
    grid.append(drawn[:8])
    agree[name] = float(np.mean(np.argmax(classifier.predict(drawn, verbose=0), 1) == c))
  figure("text_to_image_by_prompt", tf.concat(grid, 0))
  result["text_to_image"] = {"classifier_test_accuracy": accuracy, "agreement": agree,
                             "mean_agreement": float(np.mean(list(agree.values())))}
  print("text_to_image", result["text_to_image"], flush=True)
  record("vqvae", result)


if __name__ == "__main__":
  main()

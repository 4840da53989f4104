"""Time to sample 16 Fashion-MNIST-sized images: tfgen's Gated PixelCNN, single
resolution and the U-Net option (``downsample=2``), each cached and naive,
against tfp.distributions.PixelCNN at a similar parameter count.

Run: .venv/bin/python bench/pixelcnn_sampling.py [--n 16] [--skip-tfp]
"""

import argparse
import os
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import tensorflow as tf  # noqa: E402
import tensorflow_probability as tfp  # noqa: E402

from common import record, timed  # noqa: E402
from peers import count  # noqa: E402
from tfgen.autoregressive import PixelCNN  # noqa: E402


def main():
  p = argparse.ArgumentParser(description=__doc__)
  p.add_argument("--n", type=int, default=16)
  p.add_argument("--skip-tfp", action="store_true")
  args = p.parse_args()
  shape = (28, 28, 1)

  ours = PixelCNN(shape, filters=96, num_layers=6, gated=True)  # ~1.42M params, like theirs
  results = {"images": args.n, "image_shape": list(shape),
             "tfgen_params": count(ours.trainable_variables)}
  results["tfgen_cached_s"] = timed(lambda: ours.sample(args.n, seed=[1, 2], method="cached"))
  print(f"tfgen Gated PixelCNN ({results['tfgen_params']:,} params): cached "
        f"{results['tfgen_cached_s']:.2f} s", flush=True)
  results["tfgen_naive_s"] = timed(lambda: ours.sample(args.n, seed=[1, 2], method="naive"))
  print(f"tfgen naive {results['tfgen_naive_s']:.2f} s "
        f"(cached is {results['tfgen_naive_s'] / results['tfgen_cached_s']:.0f}x faster)",
        flush=True)
  unet = PixelCNN(shape, filters=64, num_layers=2, gated=True, downsample=2)  # the same size
  results["tfgen_unet_params"] = count(unet.trainable_variables)
  results["tfgen_unet_cached_s"] = timed(lambda: unet.sample(args.n, seed=[1, 2],
                                                             method="cached"))
  results["tfgen_unet_naive_s"] = timed(lambda: unet.sample(args.n, seed=[1, 2],
                                                            method="naive"))
  print(f"tfgen Gated PixelCNN(downsample=2) ({results['tfgen_unet_params']:,} params): cached "
        f"{results['tfgen_unet_cached_s']:.2f} s, naive {results['tfgen_unet_naive_s']:.2f} s",
        flush=True)
  if not args.skip_tfp:
    theirs = tfp.distributions.PixelCNN(shape, num_resnet=1, num_hierarchies=2, num_filters=48,
                                        num_logistic_mix=5, dropout_p=0.)
    theirs.log_prob(tf.zeros((1,) + shape))  # creates its weights
    results["tfp_params"] = count(theirs.trainable_variables)
    sample = tf.function(lambda: theirs.sample(args.n, seed=1))
    results["tfp_s"] = timed(sample)
    results["speedup_vs_tfp"] = results["tfp_s"] / results["tfgen_cached_s"]
    print(f"tfp.distributions.PixelCNN ({results['tfp_params']:,} params): "
          f"{results['tfp_s']:.2f} s -> tfgen cached is {results['speedup_vs_tfp']:.0f}x faster",
          flush=True)
  record("pixelcnn_sampling", results)


if __name__ == "__main__":
  main()

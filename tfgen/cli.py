"""The ``tfgen`` command line. It only calls the public library."""

import argparse
import json
import os
import sys
import time

DEMO = {"glow": dict(levels=2, steps_per_level=8, hidden_channels=64),
        "realnvp": dict(levels=2, hidden_channels=64),
        "nice": dict(num_couplings=4, hidden_units=256, num_hidden_layers=3)}


class UsageError(Exception):
  """A user mistake: printed as one line, exit code 2."""


def _build(name, image_shape, args):
  from tfgen import flows
  size = dict(DEMO[name])
  for key in ("levels", "steps_per_level", "hidden_channels"):
    value = getattr(args, key, None)
    if value is not None and key in size:
      size[key] = value
  cls = {"glow": flows.Glow, "realnvp": flows.RealNVP, "nice": flows.NICE}[name]
  return cls(image_shape, **size), size


def cmd_train(args):
  from tfgen._keras import keras
  from tfgen.data import fashion_mnist
  from tfgen.training import default_optimizer, image_grid, write_png

  if args.data != "fashion_mnist":
    raise UsageError(f"unknown dataset {args.data!r}; available: fashion_mnist")
  keras.utils.set_random_seed(args.seed)
  try:
    train = fashion_mnist("train", batch_size=args.batch_size, data_dir=args.data_dir,
                          repeat=True, seed=args.seed)
    test = fashion_mnist("test", batch_size=500, data_dir=args.data_dir)
  except (FileNotFoundError, ValueError) as e:
    raise UsageError(str(e).replace("\n", " ")) from None
  model, size = _build(args.model, (28, 28, 1), args)
  model.compile(default_optimizer(args.lr))
  os.makedirs(args.out, exist_ok=True)
  print(f"tfgen: training {args.model} {size} ({model.count_params():,} parameters) on "
        f"{args.data} for {args.epochs}x{args.steps_per_epoch} steps -> {args.out}")
  start = time.time()
  model.fit(train, epochs=args.epochs, steps_per_epoch=args.steps_per_epoch, verbose=args.verbose)
  result = model.evaluate(test, verbose=0, return_dict=True)
  model.save_weights(os.path.join(args.out, "checkpoint", "weights"))
  samples = model.sample(64, temperature=0.7, seed=[args.seed, 0]).numpy()
  write_png(os.path.join(args.out, "samples.png"), image_grid(samples))
  with open(os.path.join(args.out, "config.json"), "w") as f:
    json.dump({"model": args.model, "size": size, "data": args.data, "image_shape": [28, 28, 1],
               "test": result, "train_seconds": round(time.time() - start, 1)}, f, indent=2)
  print(f"tfgen: test bits/dim {result['bits_per_dim']:.3f} (nats/image {result['loss']:.1f}); "
        f"samples in {os.path.join(args.out, 'samples.png')}")
  return 0


def parser():
  p = argparse.ArgumentParser(prog="tfgen", description=(
      "Explicit-likelihood generative models (flows, autoregressive) on TensorFlow/Keras."))
  sub = p.add_subparsers(dest="command", metavar="COMMAND")
  t = sub.add_parser("train", help="train a model (bare `tfgen train` runs the demo)",
                     description="Train a model by maximum likelihood and write samples, "
                                 "a checkpoint and the test bits/dim to --out.")
  t.add_argument("model", nargs="?", default="glow", choices=sorted(DEMO),
                 help="model family (default: glow)")
  t.add_argument("--data", default="fashion_mnist", help="dataset (default: fashion_mnist)")
  t.add_argument("--data-dir", help="folder with the dataset's files (offline)")
  t.add_argument("--epochs", type=int, default=3)
  t.add_argument("--steps-per-epoch", type=int, default=200)
  t.add_argument("--batch-size", type=int, default=64)
  t.add_argument("--lr", type=float, default=1e-3, help="Adam learning rate")
  t.add_argument("--levels", type=int)
  t.add_argument("--steps-per-level", type=int)
  t.add_argument("--hidden-channels", type=int)
  t.add_argument("--seed", type=int, default=0)
  t.add_argument("--out", default=os.path.join("runs", "demo"), help="run folder")
  t.add_argument("--verbose", type=int, default=1, choices=[0, 1, 2])
  t.set_defaults(func=cmd_train)
  return p


def main(argv=None):
  os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
  p = parser()
  args = p.parse_args(argv)
  if not getattr(args, "func", None):
    p.print_help()
    return 2
  for flag in ("epochs", "steps_per_epoch", "batch_size"):
    if getattr(args, flag, 1) < 1:
      p.error(f"--{flag.replace('_', '-')} must be >= 1, got {getattr(args, flag)}")
  try:
    return args.func(args)
  except UsageError as e:
    print(f"tfgen: error: {e}", file=sys.stderr)
    return 2
  except ValueError as e:  # bad model sizes and similar: the library's message is the answer
    print(f"tfgen: error: {e}", file=sys.stderr)
    return 2


if __name__ == "__main__":
  sys.exit(main())

"""The ``tfgen`` command line: train, sample, evaluate, export, list.

It only calls the public library. User mistakes (bad flags, unknown models or
datasets, missing runs or data) print one line on stderr and exit with 2;
they never print a traceback.
"""

import argparse
import math
import os
import shutil
import sys
import time

EXTENSIONS = {"image": ".png", "audio": ".wav", "text": ".txt"}


class UsageError(Exception):
  """A user mistake: printed as one line, exit code 2."""


class _Parser(argparse.ArgumentParser):
  """argparse with one-line errors that point at ``--help``."""

  def error(self, message):
    self.exit(2, f"{self.prog}: error: {message} (see `{self.prog} --help`)\n")


def _one_line(e):
  return " ".join(str(e).split())


# ---------------------------------------------------------------------------- train


def _size_flags():
  from tfgen import models
  flags = {}
  for f in models.FAMILIES.values():
    for option in f.sizes:
      flags.setdefault(option.flag, []).append((f.name, option.help))
  return flags


def _size_args(family, args):
  """The size flags given on the command line, converted for ``family``."""
  size = {}
  options = {o.flag: o for o in family.sizes}
  for flag in _size_flags():
    raw = getattr(args, flag.replace("-", "_"))
    if raw is None:
      continue
    if flag not in options:
      accepted = ", ".join("--" + o.flag for o in family.sizes)
      raise UsageError(f"--{flag} does not apply to {family.name} "
                       f"(its size options: {accepted})")
    try:
      size[options[flag].arg] = _size_type(options[flag])(raw)
    except argparse.ArgumentTypeError as e:
      raise UsageError(f"--{flag}: {e}") from None
  return size


def _prepare_out(args, family):
  """Handles an existing run folder: resume it, replace it, or refuse."""
  from tfgen.training import run
  exists = os.path.exists(run.config_path(args.out))
  if args.resume:
    if not exists:
      raise UsageError(f"--resume: no run to resume at {args.out!r}")
    config = run.read_config(args.out)
    if config["model"] != family.name:
      raise UsageError(f"--resume: {args.out!r} holds a {config['model']} run, not "
                       f"{family.name}")
    return config
  if exists:
    if not args.overwrite:
      raise UsageError(f"{args.out!r} already holds a run: pass --resume to continue it, "
                       "--overwrite to start over, or choose another --out")
    shutil.rmtree(args.out)
  elif os.path.isfile(args.out):
    raise UsageError(f"--out {args.out!r} is a file, not a folder")
  return None


def _sampler(family, model, spec, window):
  def sample(n, temperature, seed):
    length = spec.sample_rate if spec.kind == "audio" else min(window, 400)
    return family.sample(model, n, temperature=temperature, seed=seed, length=length,
                         shape=spec.shape)
  return sample


def _write_samples(path, samples, spec):
  from tfgen import audio
  from tfgen.training import image_grid, write_png
  import numpy as np
  os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
  if spec.kind == "image":
    images = samples.astype(np.int64) * 255 // (spec.num_levels - 1)
    write_png(path, image_grid(images.astype(np.uint8)))
  elif spec.kind == "audio":
    gap = np.zeros(spec.sample_rate // 4, np.float32)
    clips = [audio.mu_law_decode(s, spec.num_levels).numpy() for s in samples]
    wave = np.concatenate([x for c in clips for x in (c, gap)][:-1])
    audio.write_wav(path, wave, spec.sample_rate)
  else:
    with open(path, "w", encoding="utf-8") as f:
      for s in samples:
        f.write(bytes(np.asarray(s, np.uint8)).decode("utf-8", "replace") + "\n\n")


def _datasets(family, config):
  from tfgen import data
  common = dict(data_dir=config["data_dir"], window=config.get("window"), seed=config["seed"])
  train = data.load(config["data"], "train", config["batch_size"], repeat=True, **common)
  test = data.load(config["data"], "test", config["eval_batch_size"], **common)
  return train.map(family.to_model_input), test.map(family.to_model_input)


def _report(result, spec):
  bpd = result["bits_per_dim"]
  unit = {"image": "image", "audio": "window", "text": "window"}[spec.kind]
  return (f"{bpd:.4f} bits/dim ({bpd * math.log(2):.4f} nats/dim; {result['loss']:.1f} nats "
          f"per {unit})")


def cmd_train(args):
  from tfgen import data, models
  from tfgen._keras import keras
  from tfgen.training import SampleSummaries, default_optimizer, get_strategy, resumable, run
  from tfgen.training.precision import slow_bfloat16_reason

  family = models.family(args.model)
  requested = _size_args(family, args)  # flag errors first, before touching --out
  previous = _prepare_out(args, family)
  if previous is not None:
    changed = [k for k, v in requested.items()
               if previous["model_config"].get(k) != v]
    if changed or (args.data and args.data != previous["data"]):
      raise UsageError("--resume continues the run as it was configured; "
                       f"{', '.join(changed) or '--data'} cannot change")
    config = dict(previous, epochs=args.epochs, status="training")
    size = None
  else:
    size = requested
    config = {"model": family.name, "data": args.data or family.default_data,
              "data_dir": args.data_dir, "window": args.window, "batch_size": args.batch_size,
              "eval_batch_size": 256, "epochs": args.epochs,
              "steps_per_epoch": args.steps_per_epoch, "lr": args.lr, "seed": args.seed,
              "strategy": args.strategy, "mixed_precision": args.mixed_precision,
              "status": "training"}
  spec = data.info(config["data"])
  keras.utils.set_random_seed(config["seed"])
  if config.get("mixed_precision"):
    keras.mixed_precision.set_global_policy("mixed_" + config["mixed_precision"])
  strategy = get_strategy(args.strategy)
  with strategy.scope():
    if previous is not None:
      model = family.cls().from_config(previous["model_config"])
    else:
      model = family.build(spec, size)
    model.compile(default_optimizer(config["lr"]))
  # After the build, so a model that refuses mixed precision only errs.
  slow = config.get("mixed_precision") == "bfloat16" and slow_bfloat16_reason()
  if slow:
    print(f"tfgen train: warning: --mixed-precision bfloat16: {slow}", file=sys.stderr)
  if spec.kind != "image" and config["window"] is None:
    config["window"] = max(1024, 4 * model.receptive_field)
  config["model_config"] = model.get_config()
  try:
    train, test = _datasets(family, config)
  except (FileNotFoundError, ValueError) as e:
    if previous is None and os.path.isdir(args.out) and not os.listdir(args.out):
      os.rmdir(args.out)
    raise UsageError(_one_line(e)) from None
  run.write_config(args.out, config)  # before training: a killed run can be resumed

  print(f"tfgen: training {family.name} ({model.count_params():,} parameters) on "
        f"{config['data']} for {config['epochs']} x {config['steps_per_epoch']} steps, "
        f"batch {config['batch_size']}, {type(strategy).__name__.strip('_')} with "
        f"{strategy.num_replicas_in_sync} replica(s) -> {args.out}"
        + (" (resuming)" if previous else ""), flush=True)
  sample = _sampler(family, model, spec, config.get("window") or 0)
  n_logged = 16 if spec.kind == "image" else 2
  callbacks = resumable(args.out) + [
      keras.callbacks.TensorBoard(os.path.join(args.out, "logs"), write_graph=False),
      SampleSummaries(os.path.join(args.out, "logs", "samples"),
                      lambda epoch: sample(n_logged, 0.7, (config["seed"], epoch)), spec.kind,
                      num_levels=spec.num_levels, sample_rate=spec.sample_rate or 8000)]
  start = time.time()
  model.fit(train, epochs=config["epochs"], steps_per_epoch=config["steps_per_epoch"],
            validation_data=test, validation_steps=args.validation_steps, callbacks=callbacks,
            verbose=args.verbose)
  failed = int(model.nonfinite_steps.numpy()) > 0
  result = model.evaluate(test, verbose=0, return_dict=True)
  model.save_weights(run.weights_path(args.out))
  samples_path = os.path.join(args.out, "samples" + EXTENSIONS[spec.kind])
  _write_samples(samples_path, sample(64 if spec.kind == "image" else 2, 0.7,
                                      (config["seed"], 12345)), spec)
  exported = None
  if not args.no_export:
    from tfgen import export
    shutil.rmtree(os.path.join(args.out, "saved_model"), ignore_errors=True)
    exported = export.save(model, os.path.join(args.out, "saved_model"), version=1)
  config.update(status="stopped on a non-finite step" if failed else "finished",
                test={k: float(v) for k, v in result.items()},
                train_seconds=round(time.time() - start, 1))
  run.write_config(args.out, config)
  print(f"tfgen: done in {config['train_seconds']:.0f} s. Test {_report(result, spec)}."
        f" Samples: {samples_path}." + (f" SavedModel: {exported}." if exported else "")
        + f" TensorBoard: tensorboard --logdir {os.path.join(args.out, 'logs')}", flush=True)
  return 1 if failed else 0


# ---------------------------------------------------------------------------- other commands


def _load_run(path):
  from tfgen.training import run
  try:
    return run.load_model(path)
  except FileNotFoundError as e:
    raise UsageError(_one_line(e)) from None


def cmd_sample(args):
  model, family, spec, config = _load_run(args.run)
  out = args.out or os.path.join(args.run, "sample" + EXTENSIONS[spec.kind])
  if os.path.splitext(out)[1].lower() != EXTENSIONS[spec.kind]:
    raise UsageError(f"{spec.kind} samples are written as {EXTENSIONS[spec.kind]} files, "
                     f"got --out {out!r}")
  length = args.length or (int(args.seconds * spec.sample_rate) if spec.kind == "audio" else 400)
  samples = family.sample(model, args.n, temperature=args.temperature, seed=(args.seed, 0),
                          length=length, shape=spec.shape)
  _write_samples(out, samples, spec)
  print(f"tfgen: wrote {args.n} samples at temperature {args.temperature} to {out}")
  return 0


def cmd_evaluate(args):
  from tfgen import data
  model, family, spec, config = _load_run(args.run)
  try:
    ds = data.load(config["data"], args.split, args.batch_size,
                   data_dir=args.data_dir or config["data_dir"], window=config.get("window"),
                   shuffle=False)
  except (FileNotFoundError, ValueError) as e:
    raise UsageError(_one_line(e)) from None
  model.compile()
  ds = ds.map(family.to_model_input)
  if args.steps:
    ds = ds.take(args.steps)
  result = model.evaluate(ds, verbose=0, return_dict=True)
  print(f"tfgen: {args.run} on {config['data']} {args.split}: {_report(result, spec)}")
  return 0


def cmd_export(args):
  from tfgen import export
  model, family, spec, config = _load_run(args.run)
  path = export.save(model, args.to, version=args.version)
  print(f"tfgen: exported {family.name} to {path} (signatures: serving_default = log_prob, "
        "sample" + (", encode, decode" if family.class_name in ("Glow", "RealNVP", "NICE") else "")
        + f"); serve with: tensorflow_model_server --model_base_path={os.path.abspath(args.to)}")
  return 0


def cmd_list(args):
  from tfgen import data, models
  print("Models (tfgen train MODEL):")
  for f in models.FAMILIES.values():
    print(f"  {f.name:<15} {'/'.join(f.data_kinds):<11} default data {f.default_data:<24} "
          f"{f.paper}")
  print("\nDatasets (--data NAME):")
  for s in data.DATASETS.values():
    shape = ("x".join(map(str, s.shape)) if s.shape else "sequence")
    print(f"  {s.name:<24} {s.kind:<6} {shape:<9} {s.num_levels:>3} levels  {s.source}")
  return 0


# ---------------------------------------------------------------------------- parser


def _positive_int(text):
  try:
    value = int(text)
  except ValueError:
    raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}") from None
  if value < 1:
    raise argparse.ArgumentTypeError(f"expected a positive integer, got {value}")
  return value


def _positive_float(text):
  try:
    value = float(text)
  except ValueError:
    raise argparse.ArgumentTypeError(f"expected a positive number, got {text!r}") from None
  if not value > 0 or math.isinf(value):
    raise argparse.ArgumentTypeError(f"expected a positive number, got {text}")
  return value


def _size_type(option):
  def convert(text):
    try:
      value = option.type(text)
    except ValueError:
      raise argparse.ArgumentTypeError(f"bad value {text!r}") from None
    if any(v < 1 for v in (value if isinstance(value, list) else [value])):
      raise argparse.ArgumentTypeError(f"sizes must be positive, got {text!r}")
    return value
  return convert


def parser():
  from tfgen import models
  from tfgen.training.strategy import STRATEGIES
  p = _Parser(prog="tfgen", description=(
      "Explicit-likelihood generative models (normalizing flows, autoregressive models) on "
      "TensorFlow/Keras. `tfgen train` with no arguments trains the demo Glow on "
      "Fashion-MNIST."))
  sub = p.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)

  t = sub.add_parser("train", help="train a model (bare `tfgen train` runs the demo)",
                     description="Train a model by maximum likelihood. Writes a checkpoint every "
                                 "epoch (resume with --resume), TensorBoard logs with samples, "
                                 "final weights, samples, a SavedModel and the test bits/dim "
                                 "to --out.")
  t.add_argument("model", nargs="?", default="glow", choices=list(models.FAMILIES),
                 metavar="MODEL", help=f"one of {', '.join(models.FAMILIES)} (default: glow)")
  t.add_argument("--data", help="dataset (default: the model's; see `tfgen list`)")
  t.add_argument("--data-dir", help="folder (or text file) with the dataset's files")
  t.add_argument("--epochs", type=_positive_int, default=3, help="default: 3")
  t.add_argument("--steps-per-epoch", type=_positive_int, default=200, help="default: 200")
  t.add_argument("--batch-size", type=_positive_int, default=64, help="global batch (default 64)")
  t.add_argument("--lr", type=_positive_float, default=1e-3, help="Adam learning rate (1e-3)")
  t.add_argument("--strategy", default="auto", choices=STRATEGIES,
                 help="tf.distribute strategy (default: auto = mirrored over 2+ GPUs)")
  t.add_argument("--out", default=os.path.join("runs", "demo"), help="run folder (runs/demo)")
  t.add_argument("--resume", action="store_true", help="continue the run in --out")
  t.add_argument("--overwrite", action="store_true", help="replace the run in --out")
  t.add_argument("--seed", type=int, default=0)
  t.add_argument("--window", type=_positive_int,
                 help="sequence length for audio/text (default: 4 receptive fields, >= 1024)")
  t.add_argument("--validation-steps", type=_positive_int, default=4,
                 help="test batches evaluated after every epoch (default 4)")
  t.add_argument("--mixed-precision", choices=["float16", "bfloat16"],
                 help="16-bit networks, float32 log-dets, logits and loss (float16 for GPUs, "
                      "with loss scaling; not made)")
  t.add_argument("--no-export", action="store_true", help="skip the SavedModel")
  t.add_argument("--verbose", type=int, default=1, choices=[0, 1, 2],
                 help="Keras progress: 0 silent, 1 bar, 2 one line per epoch")
  g = t.add_argument_group("model size (defaults: the demo size of MODEL)")
  for flag, users in _size_flags().items():
    g.add_argument("--" + flag, metavar="N", help="; ".join(f"{h} [{m}]" for m, h in users))
  t.set_defaults(func=cmd_train)

  s = sub.add_parser("sample", help="draw samples from a trained run",
                     description="Sample a trained run: a PNG grid for images, a WAV for audio, "
                                 "a text file for text.")
  s.add_argument("run", metavar="RUN", help="run folder written by `tfgen train`")
  s.add_argument("--n", type=_positive_int, default=64, help="number of samples (64)")
  s.add_argument("--temperature", type=_positive_float, default=1.0,
                 help="< 1 for cleaner, less varied samples (1.0)")
  s.add_argument("--seed", type=int, default=0)
  s.add_argument("--seconds", type=_positive_float, default=1.0, help="audio length (1.0)")
  s.add_argument("--length", type=_positive_int, help="sequence length in steps (audio/text)")
  s.add_argument("--out", help="output file (default RUN/sample.png|wav|txt)")
  s.set_defaults(func=cmd_sample)

  e = sub.add_parser("evaluate", help="bits/dim of a trained run on a split",
                     description="Report the exact negative log-likelihood of a split in "
                                 "bits/dim, with nats alongside.")
  e.add_argument("run", metavar="RUN")
  e.add_argument("--split", default="test", choices=["train", "test"])
  e.add_argument("--data-dir", help="read the data from here instead of the run's source")
  e.add_argument("--batch-size", type=_positive_int, default=256)
  e.add_argument("--steps", type=_positive_int, help="evaluate only this many batches")
  e.set_defaults(func=cmd_evaluate)

  x = sub.add_parser("export", help="export a trained run as a SavedModel for TF Serving",
                     description="Write RUN's model to TO/VERSION/ with serving signatures.")
  x.add_argument("run", metavar="RUN")
  x.add_argument("--to", required=True, help="model base path, e.g. saved_models/glow")
  x.add_argument("--version", type=_positive_int, help="default: next free version")
  x.set_defaults(func=cmd_export)

  ls = sub.add_parser("list", help="list the models and datasets",
                      description="List the model families and datasets tfgen knows.")
  ls.set_defaults(func=cmd_list)
  return p


def main(argv=None):
  os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
  p = parser()
  args = p.parse_args(argv)
  if not getattr(args, "func", None):
    p.print_help()
    return 2
  from tfgen._keras import keras
  policy = keras.mixed_precision.global_policy()
  try:
    return args.func(args)
  except (UsageError, ValueError) as e:  # a library ValueError is a message about the input
    print(f"tfgen {args.command}: error: {_one_line(e)}", file=sys.stderr)
    return 2
  except KeyboardInterrupt:
    print(f"\ntfgen {args.command}: interrupted"
          + ("; continue with --resume" if args.command == "train" else ""), file=sys.stderr)
    return 130
  finally:
    keras.mixed_precision.set_global_policy(policy)  # --mixed-precision is per command


if __name__ == "__main__":
  sys.exit(main())

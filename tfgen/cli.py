"""The ``tfgen`` command line: train, sample, evaluate, export, list.

It only calls the public library, and sees every model through the
``tfgen.base.LikelihoodModel`` contract: it never asks a model's type.
User mistakes (bad flags, unknown models or datasets, missing or corrupt
runs, missing data) print one line on stderr and exit with 2. Anything else
is a bug: a short message names a log file with the traceback, and the exit
status is 1.
"""

import argparse
import math
import os
import re
import shutil
import sys
import tempfile
import time
import traceback


# Bounds on what one flag can ask for: beyond them a single argument could
# exhaust memory (a batch of 10^12 aborts with std::bad_alloc).
MAX_BATCH = 65536        # as tfgen.data.load
MAX_WINDOW = 1 << 22     # as tfgen.data.load
MAX_SAMPLES = 4096
MAX_LENGTH = 1_000_000   # as LikelihoodModel.max_length


class UsageError(Exception):
  """A user mistake: printed as one line, exit code 2."""


class _Parser(argparse.ArgumentParser):
  """argparse with one-line errors that point at ``--help``."""

  def error(self, message):
    self.exit(2, f"{self.prog}: error: {message} (see `{self.prog} --help`)\n")


def _one_line(e):
  return " ".join(str(e).split())


def _user(fn, *args, **kwargs):
  """Calls ``fn`` on what the user gave; its ValueError / FileNotFoundError is
  the user's mistake (exit 2), not a bug."""
  try:
    return fn(*args, **kwargs)
  except (ValueError, FileNotFoundError, NotADirectoryError) as e:
    raise UsageError(_one_line(e)) from None


# TensorFlow's start-up lines (absl before InitializeLog, oneDNN and CUDA
# probes, a cuInit error on machines without a GPU) read as failures to a new
# user. They ignore TF_CPP_MIN_LOG_LEVEL, so the CLI, which owns its process,
# filters them out of stderr while TensorFlow starts, whatever level the
# user set (a one-line error must stay one line).
_STARTUP_NOISE = re.compile(
    r"All log messages before absl::InitializeLog|^[IW]\d{4} |cuInit|cuda drivers|"
    r"To enable the following instructions|rebuild TensorFlow with the appropriate")


def _start_tensorflow_quietly():
  """Imports TensorFlow and initialises its devices with start-up noise filtered
  from stderr. A TF_CPP_MIN_LOG_LEVEL the user set is kept for later logs;
  otherwise later C++ logs are errors only."""
  os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
  sys.stderr.flush()
  saved = os.dup(2)
  with tempfile.TemporaryFile() as captured:
    os.dup2(captured.fileno(), 2)
    try:
      import tensorflow as tf
      tf.config.list_physical_devices()  # device probing (cuInit) happens here
    finally:
      sys.stderr.flush()
      os.dup2(saved, 2)
      os.close(saved)
      captured.seek(0)
      for line in captured.read().decode("utf-8", "replace").splitlines():
        if line.strip() and not _STARTUP_NOISE.search(line):
          print(line, file=sys.stderr)


# ---------------------------------------------------------------------------- train


def _size_flags():
  from tfgen import models
  flags = {}
  for f in models.FAMILIES.values():
    for option in f.sizes:
      flags.setdefault(option.flag, []).append((f.name, option.help))
  return flags


def _stage_flags():
  """``{argument: [(family name, stage family name)]}`` over the registry."""
  from tfgen import models
  flags = {}
  for f in models.FAMILIES.values():
    for arg, stage in f.builds_on.items():
      flags.setdefault(arg, []).append((f.name, stage))
  return flags


def _stage_models(family, args):
  """The trained first-stage models ``family`` is built on, from ``--ARG RUN``
  flags: ``({argument: model}, {argument: run path}, data name of the first)``."""
  from tfgen import runs
  for arg in _stage_flags():
    if getattr(args, arg) is not None and arg not in family.builds_on:
      raise UsageError(f"--{arg} does not apply to {family.name}")
  stages, paths, data_name = {}, {}, None
  for arg, stage_family in family.builds_on.items():
    path = getattr(args, arg)
    if path is None:
      raise UsageError(f"{family.name} is built on a trained {stage_family} run: pass "
                       f"--{arg} RUN (train one with `tfgen train {stage_family}`)")
    model, found, _, config = _user(runs.load_model, path)
    if found.name != stage_family:
      raise UsageError(f"--{arg} {path!r} holds a {found.name} run, not {stage_family}")
    if config.get("status") != "finished":
      raise UsageError(f"--{arg} {path!r} did not finish cleanly (status: "
                       f"{config.get('status', 'unknown')})")
    stages[arg], paths[arg] = model, os.path.abspath(path)
    data_name = data_name or config["data"]
  return stages, paths, data_name


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


def _prepare_out(out, overwrite):
  """A fresh run folder: refuses an existing run unless ``overwrite``."""
  from tfgen import runs
  if os.path.exists(out) and not os.path.isdir(out):
    raise UsageError(f"--out {out!r} is a file, not a folder")
  parent = os.path.dirname(os.path.abspath(out))
  if os.path.exists(parent) and not os.path.isdir(parent):
    raise UsageError(f"--out {out!r} is under {parent!r}, which is a file")
  if os.path.exists(runs.config_path(out)):
    if not overwrite:
      raise UsageError(f"{out!r} already holds a run: pass --resume to continue it, "
                       "--overwrite to start over, or choose another --out")
    shutil.rmtree(out)


def _previous_run(out, family, requested, data_name):
  """The config of the run to resume, checked against what was asked now."""
  from tfgen import runs
  if not os.path.exists(runs.config_path(out)):
    raise UsageError(f"--resume: no run to resume at {out!r}")
  config = _user(runs.read_config, out)
  if config["model"] != family.name:
    raise UsageError(f"--resume: {out!r} holds a {config['model']} run, not {family.name}")
  changed = [k for k, v in requested.items() if config["model_config"].get(k) != v]
  if changed or (data_name and data_name != config["data"]):
    raise UsageError("--resume continues the run as it was configured; "
                     f"{', '.join(changed) or '--data'} cannot change")
  return config


def _sample_fn(model, spec, length, **options):
  """``(n, temperature, seed) → numpy samples``, through the model contract."""
  def sample(n, temperature, seed):
    extra = dict(options, length=length) if model.is_sequence else dict(options)
    return model.sample(n, seed=seed, temperature=temperature, **extra).numpy()
  return sample


def _datasets(config, model):
  from tfgen import data
  common = dict(data_dir=config["data_dir"], window=config.get("window"), seed=config["seed"],
                **_feeding(model))
  train = _user(data.load, config["data"], "train", config["batch_size"], repeat=True, **common)
  test = _user(data.load, config["data"], "test", config["eval_batch_size"], **common)
  return train, test


def _feeding(model):
  """What ``data.load`` must do for ``model``: labels, and a cached encoding."""
  extra = {}
  if model.uses_labels:
    extra["labels"] = True
  if model.data_encoder is not None:
    extra["encode"] = model.data_encoder
  return extra


def _preview_batch(config, n=16):
  """``n`` test examples in data form, for a model's ``preview``."""
  from tfgen import data
  return next(iter(_user(data.load, config["data"], "test", n, data_dir=config["data_dir"],
                         shuffle=False, window=config.get("window"))))


def cmd_train(args):
  import numpy as np
  import tensorflow as tf
  from tfgen import data, models, runs
  from tfgen._keras import keras
  from tfgen.training import (SampleSummaries, TimeBudget, default_optimizer, get_strategy,
                              resumable)
  from tfgen.training.checkpoint import check_backup
  from tfgen.training.precision import slow_bfloat16_reason
  from tfgen.training.render import EXTENSIONS, write_samples

  # Everything the user typed is checked before the run folder is touched.
  if args.resume and args.overwrite:
    raise UsageError("--resume and --overwrite exclude each other: continue the run, or "
                     "start over")
  family = models.family(args.model)
  requested = _size_args(family, args)
  previous = _previous_run(args.out, family, requested, args.data) if args.resume else None
  stages, stage_paths, stage_data = {}, {}, None
  if previous is not None:
    config = dict(previous, epochs=args.epochs, status="training")
    for arg, path in config.get("builds_on", {}).items():
      given = getattr(args, arg, None)
      if given is not None and os.path.abspath(given) != path:
        raise UsageError(f"--resume continues the run as it was configured; it is built on "
                         f"--{arg} {path!r}, which cannot change")
  else:
    stages, stage_paths, stage_data = _stage_models(family, args)
    config = {"model": family.name, "data": args.data or stage_data or family.default_data,
              "builds_on": stage_paths,
              "data_dir": args.data_dir, "window": args.window, "batch_size": args.batch_size,
              "eval_batch_size": 256, "epochs": args.epochs,
              "steps_per_epoch": args.steps_per_epoch, "lr": args.lr, "seed": args.seed,
              "strategy": args.strategy, "mixed_precision": args.mixed_precision,
              "status": "training"}
  spec = _user(data.info, config["data"])
  keras.utils.set_random_seed(config["seed"])
  if config.get("mixed_precision"):
    keras.mixed_precision.set_global_policy("mixed_" + config["mixed_precision"])
  strategy = _user(get_strategy, args.strategy)
  if args.max_minutes and isinstance(strategy, tf.distribute.MultiWorkerMirroredStrategy):
    raise UsageError("--max-minutes reads one process's clock; workers of a multiworker run "
                     "could stop on different steps (use --epochs / --steps-per-epoch)")
  with strategy.scope():
    if previous is not None:
      model = _user(family.from_config, previous["model_config"])
    else:
      model = _user(family.build, spec, requested, stages)
    model.compile(default_optimizer(config["lr"]))
  # After the build, so a model that refuses mixed precision only errs.
  slow = config.get("mixed_precision") == "bfloat16" and slow_bfloat16_reason()
  if slow:
    print(f"tfgen train: warning: --mixed-precision bfloat16: {slow}", file=sys.stderr)
  if model.is_sequence and config["window"] is None:
    config["window"] = model.default_window
  try:
    model.check_window(config["window"])
  except ValueError as e:
    raise UsageError(f"--window {config['window']}: {_one_line(e)}") from None
  config["model_config"] = model.get_config()
  train, test = _datasets(config, model)
  try:
    if previous is None:
      _prepare_out(args.out, args.overwrite)
    else:
      _user(check_backup, args.out)
    runs.write_config(args.out, config)  # before training: a killed run can be resumed
  except OSError as e:
    raise UsageError(f"cannot write the run folder {args.out!r}: {e.strerror or e}") from None

  params = sum(int(np.prod(w.shape)) for w in model.trainable_weights)
  print(f"tfgen: training {family.name} ({params:,} parameters) on "
        f"{config['data']} for {config['epochs']} x {config['steps_per_epoch']} steps, "
        f"batch {config['batch_size']}, {type(strategy).__name__.strip('_')} with "
        f"{strategy.num_replicas_in_sync} replica(s) -> {args.out}"
        + (" (resuming)" if previous else ""), flush=True)
  length = spec.sample_rate if spec.kind == "audio" else min(config.get("window") or 400, 400)
  sample = _sample_fn(model, spec, length)
  n_logged = {"image": 16, "video": 4}.get(spec.kind, 2)
  shown = dict(num_levels=spec.num_levels, sample_rate=spec.sample_rate or 8000)
  callbacks = resumable(args.out) + [
      keras.callbacks.TensorBoard(os.path.join(args.out, "logs"), write_graph=False)]
  budget = TimeBudget(args.max_minutes) if args.max_minutes else None
  if budget:
    callbacks.append(budget)
  if model.can_sample:
    callbacks.append(SampleSummaries(os.path.join(args.out, "logs", "samples"),
                                     lambda epoch: sample(n_logged, 0.7, (config["seed"], epoch)),
                                     spec.kind, **shown))
  preview_x = _preview_batch(config) if spec.kind == "image" else None
  if preview_x is not None and model.preview(preview_x) is not None:
    callbacks.append(SampleSummaries(os.path.join(args.out, "logs", "previews"),
                                     lambda epoch: model.preview(preview_x).numpy(), spec.kind,
                                     tag="originals_and_reconstructions", **shown))
  start = time.time()
  # A small test split may hold fewer batches than asked for: count them (at
  # most validation_steps) rather than let Keras warn that the data ran out.
  validation_steps = max(1, sum(1 for _ in test.take(args.validation_steps)))
  model.fit(train, epochs=config["epochs"], steps_per_epoch=config["steps_per_epoch"],
            validation_data=test, validation_steps=validation_steps, callbacks=callbacks,
            verbose=args.verbose)
  failed = int(model.nonfinite_steps.numpy()) > 0
  config["steps_trained"] = int(model.optimizer.iterations.numpy())
  if budget and budget.stopped_early:
    print(f"tfgen train: --max-minutes {args.max_minutes:g} reached after "
          f"{config['steps_trained']} steps", flush=True)
    config["stopped_by_time_budget"] = True
  if failed:
    print("tfgen train: warning: a non-finite loss or gradient stopped training; the model "
          "keeps the weights of the last good step", file=sys.stderr)
  result = model.evaluate(test, verbose=0, return_dict=True)
  model.save_weights(runs.weights_path(args.out))
  written = []
  if model.can_sample:
    written.append(os.path.join(args.out, "samples" + EXTENSIONS[spec.kind]))
    write_samples(written[-1], sample({"image": 64, "video": 8}.get(spec.kind, 2), 0.7,
                                      (config["seed"], 12345)),
                  spec.kind, spec.num_levels, spec.sample_rate or 8000)
  if preview_x is not None and model.preview(preview_x) is not None:
    written.append(os.path.join(args.out, "reconstructions.png"))
    write_samples(written[-1], model.preview(preview_x).numpy(), spec.kind, spec.num_levels)
  exported = None
  if failed:
    print("tfgen train: no SavedModel is written for a run that met a non-finite step "
          "(`tfgen export RUN --force` writes one anyway)", file=sys.stderr)
  elif not args.no_export:
    from tfgen import export
    shutil.rmtree(os.path.join(args.out, "saved_model"), ignore_errors=True)
    exported = export.save(model, os.path.join(args.out, "saved_model"), version=1,
                           metadata=_export_metadata(family.name, config, model))
  config.update(status="stopped on a non-finite step" if failed else "finished",
                test={k: float(v) for k, v in result.items()},
                train_seconds=round(time.time() - start, 1))
  runs.write_config(args.out, config)
  print(f"tfgen: done in {config['train_seconds']:.0f} s. Test {model.describe(result, spec)}."
        + (f" Wrote {', '.join(written)}." if written else "")
        + (f" SavedModel: {exported}." if exported else "")
        + f" TensorBoard: tensorboard --logdir {os.path.join(args.out, 'logs')}", flush=True)
  return 1 if failed else 0


# ---------------------------------------------------------------------------- other commands


def _load_run(path, exports=True):
  """``(model, family name, dataset spec, config)`` of a run folder, or (if
  ``exports``) of an export: a SavedModel folder with tfgen's metadata, whose
  model is then its served graph, and whose ``config`` holds what the
  metadata say of the data."""
  from tfgen import data, export, runs
  if not os.path.isfile(runs.config_path(path)):
    if export.version_dir(path) is not None and not exports:
      raise UsageError(f"{path!r} is already an export; `tfgen export` takes a run folder")
    if export.version_dir(path) is None:
      raise UsageError(f"{path!r} is neither a tfgen run (RUN/config.json, written by `tfgen "
                       "train`) nor an export (NAME/VERSION/saved_model.pb, written by "
                       "`tfgen export`)")
    model = _user(export.Exported, path)
    config = {"data": model.metadata["data"], "data_dir": None,
              "window": model.metadata.get("window"), "export": model.path}
    return model, model.name, _user(data.info, config["data"]), config
  model, family, spec, config = _user(runs.load_model, path)
  return model, family.name, spec, config


def _export_metadata(family_name, config, model):
  """What an export records of its run (``assets.extra/tfgen.json``)."""
  from tfgen.export import metadata
  return metadata.of_model(model, family_name, config["data"], config.get("window"))


def cmd_sample(args):
  from tfgen.training.render import EXTENSIONS, write_samples
  model, _, spec, config = _load_run(args.run)
  who = f"the {model.name} export" if "export" in config else type(model).__name__
  if not model.can_sample:
    raise UsageError(f"{args.run!r}: {who} does not sample on its own: "
                     f"{model.cannot_sample_reason}")
  # An export's folder belongs to TF Serving: its samples go to the current folder.
  out = args.out or os.path.join("." if "export" in config else args.run,
                                 "sample" + EXTENSIONS[spec.kind])
  if os.path.splitext(out)[1].lower() != EXTENSIONS[spec.kind]:
    raise UsageError(f"{spec.kind} samples are written as {EXTENSIONS[spec.kind]} files, "
                     f"got --out {out!r}")
  length = args.length or (int(args.seconds * spec.sample_rate) if spec.kind == "audio" else 400)
  if model.is_sequence and length > model.max_length:
    raise UsageError(f"at most {model.max_length} steps per sample, got {length} "
                     "(--length / --seconds)")
  options = {}
  if args.prime is not None:
    if "prime" not in model.sample_options():
      raise UsageError(f"--prime: {who} takes no prime")
    options["prime"] = args.prime
  if args.prompt is not None:
    if "prompt" not in model.sample_options():
      raise UsageError(f"--prompt: {who} takes no prompt (a text-to-image "
                       "model does)")
    options["prompt"] = args.prompt
  samples = _user(_sample_fn(model, spec, length, **options), args.n, args.temperature,
                  args.seed)
  write_samples(out, samples, spec.kind, spec.num_levels, spec.sample_rate or 8000)
  if spec.kind == "text":
    from tfgen.training.render import texts_of
    for text in texts_of(samples):
      print(text + "\n")
  print(f"tfgen: wrote {args.n} samples at temperature {args.temperature} to {out}")
  return 0


def cmd_evaluate(args):
  from tfgen import data
  model, _, spec, config = _load_run(args.run)
  ds = _user(data.load, config["data"], args.split, args.batch_size,
             data_dir=args.data_dir or config["data_dir"], window=config.get("window"),
             shuffle=False, **_feeding(model))
  model.compile()
  if args.steps:
    ds = ds.take(args.steps)
  result = _user(model.evaluate, ds, verbose=0, return_dict=True)
  report = f"{args.run} on {config['data']} {args.split}: {model.describe(result, spec)}"
  if not all(math.isfinite(v) for v in result.values()):
    print(f"tfgen evaluate: error: {report}: the result is not finite (the model is "
          "broken; see the run's status in config.json)", file=sys.stderr)
    return 1
  print(f"tfgen: {report}")
  return 0


def cmd_export(args):
  from tfgen import export
  model, family_name, _, config = _load_run(args.run, exports=False)
  if config.get("status") != "finished" and not args.force:
    raise UsageError(f"{args.run!r} did not finish cleanly (status: "
                     f"{config.get('status', 'unknown')}); export it anyway with --force")
  path = _user(export.save, model, args.to, version=args.version,
               metadata=_export_metadata(family_name, config, model))
  print(f"tfgen: exported {family_name} to {path} (signatures: "
        f"{', '.join(model.serving_functions())}); serve with: tensorflow_model_server "
        f"--model_base_path={os.path.abspath(args.to)}")
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


def _positive_int(text, limit=None):
  try:
    value = int(text)
  except ValueError:
    raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}") from None
  if value < 1:
    raise argparse.ArgumentTypeError(f"expected a positive integer, got {value}")
  if limit is not None and value > limit:
    raise argparse.ArgumentTypeError(f"expected at most {limit}, got {value}")
  return value


def _at_most(limit):
  def convert(text):
    return _positive_int(text, limit)
  convert.__name__ = "positive integer"
  return convert


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
    numbers = [v for v in (value if isinstance(value, list) else [value])
               if isinstance(v, (int, float))]
    if any(v <= 0 for v in numbers):
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
  t.add_argument("--max-minutes", type=_positive_float,
                 help="stop training after this many minutes of wall-clock time (the "
                      "epoch in progress ends early; then test, samples and export as usual)")
  t.add_argument("--batch-size", type=_at_most(MAX_BATCH), default=64,
                 help=f"global batch (default 64, at most {MAX_BATCH})")
  t.add_argument("--lr", type=_positive_float, default=1e-3, help="Adam learning rate (1e-3)")
  t.add_argument("--strategy", default="auto", choices=STRATEGIES,
                 help="tf.distribute strategy (default: auto = mirrored over 2+ GPUs)")
  t.add_argument("--out", default=os.path.join("runs", "demo"), help="run folder (runs/demo)")
  t.add_argument("--resume", action="store_true", help="continue the run in --out")
  t.add_argument("--overwrite", action="store_true", help="replace the run in --out")
  t.add_argument("--seed", type=int, default=0)
  t.add_argument("--window", type=_at_most(MAX_WINDOW),
                 help="sequence length for audio/text (default: 4 receptive fields, >= 1024)")
  t.add_argument("--validation-steps", type=_positive_int, default=4,
                 help="test batches evaluated after every epoch (default 4)")
  t.add_argument("--mixed-precision", choices=["float16", "bfloat16"],
                 help="16-bit networks, float32 log-dets, logits and loss (float16 for GPUs, "
                      "with loss scaling; not made)")
  t.add_argument("--no-export", action="store_true", help="skip the SavedModel")
  t.add_argument("--verbose", type=int, default=1, choices=[0, 1, 2],
                 help="Keras progress: 0 silent, 1 bar, 2 one line per epoch")
  for arg, users in _stage_flags().items():
    t.add_argument("--" + arg, metavar="RUN", help="; ".join(
        f"the trained {stage} run {name} is built on" for name, stage in users))
  g = t.add_argument_group("model size (defaults: the demo size of MODEL)")
  for flag, users in _size_flags().items():
    by_help = {}
    for family_name, text in users:  # one help text, the families that share it
      by_help.setdefault(text, []).append(family_name)
    numeric = all(o.type in (int, float) for f in models.FAMILIES.values() for o in f.sizes
                  if o.flag == flag)
    g.add_argument("--" + flag, metavar="N" if numeric else "VALUE",
                   help="; ".join(f"{h} [{', '.join(fams)}]" for h, fams in by_help.items()))
  t.set_defaults(func=cmd_train)

  s = sub.add_parser("sample", help="draw samples from a trained run",
                     description="Sample a trained run: a PNG grid for images, a WAV for audio, "
                                 "a text file for text.")
  s.add_argument("run", metavar="RUN", help="run folder written by `tfgen train`")
  s.add_argument("--n", type=_at_most(MAX_SAMPLES), default=64,
                 help=f"number of samples (64, at most {MAX_SAMPLES})")
  s.add_argument("--temperature", type=_positive_float, default=1.0,
                 help="< 1 for cleaner, less varied samples (1.0)")
  s.add_argument("--seed", type=int, default=0)
  s.add_argument("--seconds", type=_positive_float, default=1.0, help="audio length (1.0)")
  s.add_argument("--length", type=_at_most(MAX_LENGTH),
                 help="sequence length in steps (audio/text)")
  s.add_argument("--prime", help="text (or bytes) every sample starts with (text models)")
  s.add_argument("--prompt", help="the caption to draw images of (text-to-image models)")
  s.add_argument("--out", help="output file (default RUN/sample.png|wav|txt)")
  s.set_defaults(func=cmd_sample)

  e = sub.add_parser("evaluate", help="bits/dim of a trained run on a split",
                     description="Report the exact negative log-likelihood of a split in "
                                 "bits/dim, with nats alongside.")
  e.add_argument("run", metavar="RUN")
  e.add_argument("--split", default="test", choices=["train", "test"])
  e.add_argument("--data-dir", help="read the data from here instead of the run's source")
  e.add_argument("--batch-size", type=_at_most(MAX_BATCH), default=256)
  e.add_argument("--steps", type=_positive_int, help="evaluate only this many batches")
  e.set_defaults(func=cmd_evaluate)

  x = sub.add_parser("export", help="export a trained run as a SavedModel for TF Serving",
                     description="Write RUN's model to TO/VERSION/ with serving signatures.")
  x.add_argument("run", metavar="RUN")
  x.add_argument("--to", required=True, help="model base path, e.g. saved_models/glow")
  x.add_argument("--version", type=_positive_int, help="default: next free version")
  x.add_argument("--force", action="store_true",
                 help="export a run that stopped on a non-finite step or never finished")
  x.set_defaults(func=cmd_export)

  ls = sub.add_parser("list", help="list the models and datasets",
                      description="List the model families and datasets tfgen knows.")
  ls.set_defaults(func=cmd_list)
  return p


def _crash_report(command):
  """Writes the current traceback to a log file and returns its path."""
  fd, path = tempfile.mkstemp(prefix=f"tfgen-{command}-", suffix=".log")
  with os.fdopen(fd, "w") as f:
    traceback.print_exc(file=f)
  return path


def main(argv=None):
  _start_tensorflow_quietly()
  p = parser()
  args = p.parse_args(argv)
  if not getattr(args, "func", None):
    p.print_help()
    return 2
  from tfgen._keras import keras
  policy = keras.mixed_precision.global_policy()
  try:
    return args.func(args)
  except UsageError as e:
    print(f"tfgen {args.command}: error: {_one_line(e)}", file=sys.stderr)
    return 2
  except KeyboardInterrupt:
    print(f"\ntfgen {args.command}: interrupted"
          + ("; continue with --resume" if args.command == "train" else ""), file=sys.stderr)
    return 130
  except Exception as e:  # a bug, not a usage error: say so, keep the traceback
    log = _crash_report(args.command)
    print(f"tfgen {args.command}: internal error: {type(e).__name__}: "
          f"{_one_line(e)[:300]} (traceback in {log}; please report it)", file=sys.stderr)
    return 1
  finally:
    keras.mixed_precision.set_global_policy(policy)  # --mixed-precision is per command


if __name__ == "__main__":
  sys.exit(main())

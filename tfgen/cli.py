"""The ``tfgen`` command line: train, sample, evaluate, export, compress,
decompress, list.

It only calls the public library, and sees every model through the
``tfgen.base.LikelihoodModel`` contract: it never asks a model's type.
User mistakes (bad flags, unknown models or datasets, missing or corrupt
runs, missing data: a :class:`tfgen.errors.UserError`) print one line on
stderr and exit with 2. Anything else is a bug: a short message names a log
file with the traceback, and the exit status is 1. Training itself is
:func:`tfgen.runs.train_run`; this module only parses flags.
"""

import argparse
import dataclasses
import math
import os
import re
import sys
import tempfile
import traceback

import numpy as np

from tfgen.errors import UserError, user_input


# Bounds on what one flag can ask for: beyond them a single argument could
# exhaust memory (a batch of 10^12 aborts with std::bad_alloc).
MAX_BATCH = 65536        # as tfgen.data.load
MAX_WINDOW = 1 << 22     # as tfgen.data.load
MAX_SAMPLES = 4096
MAX_LENGTH = 1_000_000   # as LikelihoodModel.max_length


class _Parser(argparse.ArgumentParser):
  """argparse with one-line errors that point at ``--help``."""

  def error(self, message):
    self.exit(2, f"{self.prog}: error: {message} (see `{self.prog} --help`)\n")


def _one_line(e):
  return " ".join(str(e).split())


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


def _size_args(family, args):
  """The size flags given on the command line, converted for ``family``."""
  size = {}
  options = {o.flag: o for o in family.sizes}
  for flag in _size_flags():
    raw = getattr(args, flag.replace("-", "_"), None)
    if raw is None:
      continue
    if flag not in options:
      accepted = ", ".join("--" + o.flag for o in family.sizes)
      raise UserError(f"--{flag} does not apply to {family.name} "
                      f"(its size options: {accepted})")
    try:
      size[options[flag].arg] = _size_type(options[flag])(raw)
    except argparse.ArgumentTypeError as e:
      raise UserError(f"--{flag}: {e}") from None
  return size


def cmd_train(args):
  """``tfgen train``: the flags, parsed, to :func:`tfgen.runs.train_run`."""
  from tfgen import models, runs
  with user_input():
    family = models.family(args.model)
  stages = {arg: getattr(args, arg) for arg in _stage_flags()
            if getattr(args, arg, None) is not None}
  run = runs.train_run(
      args.out, family.name, data=args.data, data_dir=args.data_dir, epochs=args.epochs,
      steps_per_epoch=args.steps_per_epoch, batch_size=args.batch_size, lr=args.lr,
      strategy=args.strategy, seed=args.seed, window=args.window,
      mixed_precision=args.mixed_precision, max_minutes=args.max_minutes,
      validation_steps=args.validation_steps, sizes=_size_args(family, args), stages=stages,
      resume=args.resume, overwrite=args.overwrite, export=not args.no_export,
      verbose=args.verbose, log=lambda line: print(line, flush=True), columns=args.columns,
      image_size=args.image_size, bits=args.bits, strict=args.strict,
      conditional=args.conditional, init=args.init, jit_compile=args.jit_compile)
  return 0 if run.finished else 1


# ---------------------------------------------------------------------------- other commands


def _load_run(path, exports=True):
  """``(model, family name, dataset spec, config)`` of a run folder, or (if
  ``exports``) of an export: a SavedModel folder with tfgen's metadata, whose
  model is then its served graph, and whose ``config`` holds what the
  metadata say of the data."""
  from tfgen import data, export, runs
  folder = runs.RunFolder(path)
  if not folder.exists():
    if export.version_dir(path) is not None and not exports:
      raise UserError(f"{path!r} is already an export; `tfgen export` takes a run folder")
    if export.version_dir(path) is None:
      raise UserError(f"{path!r} is neither a tfgen run (RUN/config.json, written by `tfgen "
                       "train`) nor an export (NAME/VERSION/saved_model.pb, written by "
                       "`tfgen export`)")
    with user_input():
      model = export.Exported(path)
      config = {"data": model.metadata["data"], "data_dir": None,
                "window": model.metadata.get("window"), "export": model.path}
      spec = (data.DatasetSpec(config["data"], "image") if config["data"].startswith("tfds:")
              else data.info(config["data"]))     # an export needs no TFDS folder
      if model.metadata.get("columns"):
        spec = dataclasses.replace(spec, columns=tuple(model.metadata["columns"]))
      return model, model.name, spec, config
  model, family, spec, config = folder.load_model()
  return model, family.name, spec, config


def _class_names(model, config):
  """The class names a class-conditional run or export takes (``[]`` if none)."""
  names = config.get("class_names") or getattr(model, "metadata", {}).get("class_names")
  if names:
    return list(names)
  k = getattr(model, "num_classes", None)
  return [str(i) for i in range(k)] if k else []


def _listing(names):
  return ", ".join(f"{i}={n!r}" for i, n in enumerate(names))


def _condition_labels(values, names, who):
  """``--condition`` values (names, indices, or ``all``) → class indices."""
  if not names:
    raise UserError(f"--condition: {who} is not class-conditional")
  if "all" in values:
    if len(values) > 1:
      raise UserError("--condition all draws every class; give it alone")
    return list(range(len(names)))
  labels = []
  for v in values:
    if v in names:
      labels.append(names.index(v))
    elif v.isdigit() and int(v) < len(names):
      labels.append(int(v))
    else:
      raise UserError(f"--condition {v!r} is not a class of {who}; its classes: "
                      f"{_listing(names)}")
  return labels


def cmd_sample(args):
  from tfgen import runs
  from tfgen.training.render import EXTENSIONS, write_samples
  model, _, spec, config = _load_run(args.run)
  who = f"the {model.name} export" if "export" in config else type(model).__name__
  if not model.can_sample:
    raise UserError(f"{args.run!r}: {who} does not sample on its own: "
                     f"{model.cannot_sample_reason}")
  # An export's folder belongs to TF Serving: its samples go to the current folder.
  out = args.out or os.path.join("." if "export" in config else args.run,
                                 "sample" + EXTENSIONS[spec.kind])
  if os.path.splitext(out)[1].lower() != EXTENSIONS[spec.kind]:
    raise UserError(f"{spec.kind} samples are written as {EXTENSIONS[spec.kind]} files, "
                     f"got --out {out!r}")
  length = args.length or (int(args.seconds * spec.sample_rate) if spec.kind == "audio" else 400)
  if model.is_sequence and length > model.max_length:
    raise UserError(f"at most {model.max_length} steps per sample, got {length} "
                     "(--length / --seconds)")
  options = {}
  if args.prime is not None:
    if "prime" not in model.sample_options():
      raise UserError(f"--prime: {who} takes no prime")
    options["prime"] = args.prime
  if args.prompt is not None:
    if "prompt" not in model.sample_options():
      raise UserError(f"--prompt: {who} takes no prompt (a text-to-image "
                       "model does)")
    options["prompt"] = args.prompt
  n = args.n
  names = _class_names(model, config)
  if args.condition:
    labels = _condition_labels(args.condition, names, who)
    if args.n * len(labels) > MAX_SAMPLES:
      raise UserError(f"--n {args.n} for each of {len(labels)} conditions is more than "
                      f"{MAX_SAMPLES} samples")
    options["condition"] = np.repeat(np.array(labels, np.int32), args.n)
    n = args.n * len(labels)
  elif names:
    raise UserError(f"{who} is class-conditional: pass --condition NAME|INDEX (repeatable) or "
                    f"--condition all; its classes: {_listing(names)}")
  with user_input():
    samples = runs.sampler(model, length, **options)(n, args.temperature, args.seed)
  write_samples(out, samples, spec.kind, spec.num_levels, spec.sample_rate or 8000,
                spec.columns)
  if spec.kind == "text":
    from tfgen.training.render import texts_of
    for text in texts_of(samples):
      print(text + "\n")
  print(f"tfgen: wrote {n} samples at temperature {args.temperature} to {out}"
        + (f" ({args.n} per condition, one condition after another: "
           f"{', '.join(names[i] for i in labels)})" if args.condition else ""))
  return 0


def cmd_evaluate(args):
  from tfgen import data, runs
  model, _, spec, config = _load_run(args.run)
  with user_input():
    ds = data.load(config["data"], args.split, args.batch_size,
                   data_dir=args.data_dir or config["data_dir"], window=config.get("window"),
                   shuffle=False, **runs.feeding(model), **runs.source_options(config))
  model.compile()
  if args.steps:
    ds = ds.take(args.steps)
  with user_input():
    result = model.evaluate(ds, verbose=0, return_dict=True)
  report = f"{args.run} on {config['data']} {args.split}: {model.describe(result, spec)}"
  if not all(math.isfinite(v) for v in result.values()):
    print(f"tfgen evaluate: error: {report}: the result is not finite (the model is "
          "broken; see the run's status in config.json)", file=sys.stderr)
    return 1
  print(f"tfgen: {report}")
  if args.per_class:
    for name, line in _per_class(model, spec, config, args):
      print(f"  {name:>16s}: {line}")
  return 0


def _per_class(model, spec, config, args):
  """``(class name, describe line)`` of every class of the evaluated split."""
  import tensorflow as tf
  from tfgen import data, runs
  feed = runs.feeding(model)
  if feed.get("encode") is not None or not spec.num_classes:
    raise UserError(f"--per-class: {config['data']!r} has no class labels to group by"
                    if not spec.num_classes else
                    "--per-class: two-stage models score encoded data; evaluate them whole")
  conditional = feed.get("labels", False)
  with user_input():
    labelled = data.load(config["data"], args.split, args.batch_size,
                         data_dir=args.data_dir or config["data_dir"], shuffle=False,
                         **dict(feed, labels=True), **runs.source_options(config))
  names = _class_names(model, config) or list(spec.class_names or [])
  rows = []
  for k in range(spec.num_classes):
    part = labelled.unbatch().filter(lambda x, y: tf.equal(tf.cast(y, tf.int64), k))
    part = part.batch(args.batch_size)
    if not conditional:
      part = part.map(lambda x, y: x)
    if args.steps:
      part = part.take(args.steps)
    with user_input():
      result = model.evaluate(part, verbose=0, return_dict=True) if any(
          True for _ in part.take(1)) else None
    name = names[k] if k < len(names) else str(k)
    rows.append((name, model.describe(result, spec) if result else "no examples"))
  return rows


def cmd_export(args):
  from tfgen import export
  from tfgen.export import metadata
  model, family_name, _, config = _load_run(args.run, exports=False)
  if config.get("status") != "finished" and not args.force:
    raise UserError(f"{args.run!r} did not finish cleanly (status: "
                     f"{config.get('status', 'unknown')}); export it anyway with --force")
  with user_input():
    path = export.save(model, args.to, version=args.version, metadata=metadata.of_model(
        model, family_name, config["data"], config.get("window")))
  print(f"tfgen: exported {family_name} to {path} (signatures: "
        f"{', '.join(model.serving_functions())}); serve with: tensorflow_model_server "
        f"--model_base_path={os.path.abspath(args.to)}")
  return 0


def _coding_model(path):
  """``(Keras model, dataset spec, config)`` for ``tfgen compress``: a run's
  model, or an export's rebuilt around its variables (coding drives the
  model's cached step from Python, so the served graph alone cannot)."""
  from tfgen import data, export, runs
  from tfgen.export.rebuild import keras_model
  folder = runs.RunFolder(path)
  if folder.exists():
    model, _, spec, config = folder.load_model()
    return model, spec, config
  if export.version_dir(path) is None:
    raise UserError(f"{path!r} is neither a tfgen run (RUN/config.json) nor an export "
                    "(NAME/VERSION/saved_model.pb)")
  with user_input(path):
    model, _, meta = keras_model(path)
    spec = (data.DatasetSpec(meta["data"], "image") if meta["data"].startswith("tfds:")
            else data.info(meta["data"]))
  return model, spec, {"window": meta.get("window")}


def _write_atomically(path, data, force):
  if os.path.isdir(path):
    raise UserError(f"{path!r} is a folder; give a file path")
  if os.path.exists(path) and not force:
    raise UserError(f"{path!r} exists; pass --force to overwrite it")
  os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
  tmp = f"{path}.tmp-{os.getpid()}"
  try:
    with open(tmp, "wb") as f:
      f.write(data)
    os.replace(tmp, path)
  finally:
    if os.path.exists(tmp):
      os.remove(tmp)


def cmd_compress(args):
  import time
  from tfgen import compression
  from tfgen.compression import archive
  model, spec, config = _coding_model(args.run)
  out = os.path.abspath(args.out)
  if any(os.path.abspath(f) == out for f in args.files):
    raise UserError(f"--out {args.out!r} is one of the inputs")
  if os.path.exists(out) and not args.force:
    raise UserError(f"{args.out!r} exists; pass --force to overwrite it")
  if model.cannot_code_reason:
    raise UserError(f"{args.run!r}: {model.name} cannot compress: {model.cannot_code_reason}")
  if model.condition_spec is not None:
    raise UserError(f"{args.run!r} is conditional: files carry no condition, so `tfgen "
                    "compress` takes unconditional models (in Python, "
                    "tfgen.compression.compress(model, x, condition) codes with one)")
  rate = spec.sample_rate or getattr(model, "sample_rate", None) or 8000
  start = time.time()
  with user_input():
    data = archive.compress_files(model, spec.kind, args.files, config=config,
                                  sample_rate=rate, batch_size=args.batch_size)
  _, blobs, sequences = archive.read_manifest(data)
  count = sum(compression.num_symbols(b) for b in blobs + ([sequences] if sequences else []))
  _write_atomically(args.out, data, args.force)
  seconds = time.time() - start
  unit = {"image": "pixel", "text": "byte", "audio": "sample"}[spec.kind]
  print(f"tfgen: compressed {len(args.files)} input(s), {count:,} {unit}s, into "
        f"{args.out}: {len(data):,} bytes, {8 * len(data) / count:.4f} bits/{unit} "
        f"in {seconds:.1f} s")
  if spec.kind == "audio":
    print(f"tfgen: lossless on the 8-bit mu-law signal at {rate} Hz, not on the original "
          "16-bit samples: decompress writes 16-bit WAVs of the mu-law signal")
  return 0


def cmd_decompress(args):
  from tfgen.compression import CompressionError, archive
  model, _, _ = _coding_model(args.run)
  try:
    with open(args.archive, "rb") as f:
      data = f.read()
  except OSError as e:
    raise UserError(f"cannot read {args.archive!r}: {e.strerror}") from None
  try:
    files = archive.decompress_files(model, data)
  except CompressionError as e:
    raise UserError(f"{args.archive}: {e}") from None
  targets = [os.path.join(args.to, name) for name, _ in files]
  clash = [t for t in targets if os.path.exists(t)]
  if clash and not args.force:
    raise UserError(f"{clash[0]!r} exists ({len(clash)} of the {len(targets)} files do); "
                    "pass --force to overwrite")
  for target, (_, content) in zip(targets, files):   # everything decoded: now write
    _write_atomically(target, content, True)
  print(f"tfgen: decompressed {len(files)} file(s) into {args.to}")
  return 0


def _table(rows):
  """Rows of cells as lines, each column as wide as its widest cell."""
  widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]) - 1)]
  return ["  " + "  ".join(c.ljust(w) for c, w in zip(r, widths)) + "  " + r[-1] for r in rows]


def cmd_list(args):
  from tfgen import data, models
  print("Models (tfgen train MODEL):")
  for line in _table([[f.name, "/".join(f.data_kinds), "default data " + f.default_data,
                       f.paper] for f in models.FAMILIES.values()]):
    print(line)
  print("\nDatasets (--data NAME):")
  def shape(s):
    if s.shape:
      return "x".join(map(str, s.shape))
    return "per file" if s.kind in ("image", "table") else "sequence"
  for line in _table([[s.name, s.kind, shape(s),
                       f"{s.num_levels} levels" if s.num_levels else "real or levels",
                       s.source] for s in data.DATASETS.values()]
                     + [["tfds:NAME[:CONFIG]", "image/audio/text", "per dataset", "256 levels",
                         "a prepared TFDS dataset: its first Image feature (and ClassLabel), "
                         "else its first Audio (mu-law, 8 kHz) or Text (bytes) feature "
                         "(data_dir = its TFDS data folder)"]]):
    print(line)
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


def _help_model(argv):
  """The family ``tfgen train MODEL --help`` asks about, or None."""
  argv = [str(a) for a in (sys.argv[1:] if argv is None else argv)]
  if "train" not in argv or not {"-h", "--help"} & set(argv):
    return None
  from tfgen import models
  rest = [a for a in argv[argv.index("train") + 1:] if not a.startswith("-")]
  return rest[0] if rest and rest[0] in models.FAMILIES else None


def parser(argv=None):
  """The argument parser. ``tfgen train MODEL --help`` (``argv``) lists only
  MODEL's size and stage flags; otherwise every family's, tagged with the
  families each applies to."""
  from tfgen import models
  only = _help_model(argv)
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
  t.add_argument("--data-dir", help="folder (or text file) with the dataset's files; for "
                                    "--data table, the .csv/.npy/.npz file")
  t.add_argument("--columns", help="--data table: the CSV columns to model, comma-separated "
                                   "(default: all)")
  t.add_argument("--image-size", metavar="HxW",
                 help="--data images: resize (shorter side, keeping the aspect ratio) and "
                      "centre-crop every image to HxW (default: all must have one size)")
  t.add_argument("--bits", type=int, default=8, choices=range(1, 9), metavar="N",
                 help="--data images: keep N bits per value, 2^N levels (default 8)")
  t.add_argument("--conditional", action="store_true",
                 help="train a class-conditional model on the data's labels (families that "
                      "take num_classes); sample it with `tfgen sample --condition`")
  t.add_argument("--strict", action="store_true",
                 help="--data images: refuse an unreadable image instead of skipping it")
  t.add_argument("--init", metavar="RUN_OR_EXPORT",
                 help="fine-tune: start from this run's or export's model and weights "
                      "(e.g. saved_models/fashion_mnist_glow); its data by default")
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
  t.add_argument("--jit-compile", action="store_true",
                 help="XLA-compile the training step (every family compiles; the first step "
                      "takes longer, the rest are faster on a GPU)")
  t.add_argument("--no-export", action="store_true", help="skip the SavedModel")
  t.add_argument("--verbose", type=int, default=1, choices=[0, 1, 2],
                 help="Keras progress: 0 silent, 1 bar, 2 one line per epoch")
  for arg, users in _stage_flags().items():
    if only and arg not in models.FAMILIES[only].builds_on:
      continue
    t.add_argument("--" + arg, metavar="RUN", help="; ".join(
        f"the trained {stage} run {name} is built on" for name, stage in users
        if not only or name == only))
  if only:
    family = models.FAMILIES[only]
    demo = ", ".join(f"{k}={v}" for k, v in family.demo.items()) or "none"
    g = t.add_argument_group(f"{only} size (demo defaults: {demo})")
    for option in family.sizes:
      g.add_argument("--" + option.flag, metavar="N" if option.type in (int, float) else "VALUE",
                     help=option.help)
    t.set_defaults(func=cmd_train)
  g = t.add_argument_group("model size (defaults: the demo size of MODEL)")
  for flag, users in ({} if only else _size_flags()).items():
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
  s.add_argument("--condition", action="append", metavar="NAME|INDEX",
                 help="class-conditional models: draw --n samples of this class (a name or "
                      "an index; repeatable), or `all` for every class in turn")
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
  e.add_argument("--per-class", action="store_true",
                 help="also report each class of the data on its own (a table)")
  e.set_defaults(func=cmd_evaluate)

  x = sub.add_parser("export", help="export a trained run as a SavedModel for TF Serving",
                     description="Write RUN's model to TO/VERSION/ with serving signatures.")
  x.add_argument("run", metavar="RUN")
  x.add_argument("--to", required=True, help="model base path, e.g. saved_models/glow")
  x.add_argument("--version", type=_positive_int, help="default: next free version")
  x.add_argument("--force", action="store_true",
                 help="export a run that stopped on a non-finite step or never finished")
  x.set_defaults(func=cmd_export)

  c = sub.add_parser("compress", help="compress files losslessly with a trained model",
                     description="Code FILES (images: a folder, image files or an IDX file; "
                                 "text files; WAV files as 8-bit mu-law) with RUN's "
                                 "likelihood into one archive, OUT.")
  c.add_argument("run", metavar="RUN_OR_EXPORT")
  c.add_argument("files", nargs="+", metavar="FILES")
  c.add_argument("--out", required=True, help="the archive to write")
  c.add_argument("--force", action="store_true", help="overwrite --out if it exists")
  c.add_argument("--batch-size", type=_at_most(4096), default=None,
                 help="examples coded per step (default 64; decoding uses the same)")
  c.set_defaults(func=cmd_compress)

  d = sub.add_parser("decompress", help="restore the files of a tfgen archive",
                     description="Decode ARCHIVE with the model that made it and write its "
                                 "files into --to.")
  d.add_argument("run", metavar="RUN_OR_EXPORT")
  d.add_argument("archive", metavar="ARCHIVE")
  d.add_argument("--to", required=True, help="folder to write the files into")
  d.add_argument("--force", action="store_true", help="overwrite files that exist")
  d.set_defaults(func=cmd_decompress)

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
  p = parser(argv)
  args = p.parse_args(argv)
  if not getattr(args, "func", None):
    p.print_help()
    return 2
  from tfgen._keras import keras
  policy = keras.mixed_precision.global_policy()
  try:
    return args.func(args)
  except UserError as e:
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

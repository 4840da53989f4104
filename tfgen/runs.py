"""A training run and its folder: what ``tfgen train`` writes and ``sample``,
``evaluate`` and ``export`` read. A notebook trains the same way with
:func:`train_run`.

Layout of ``RUN/`` (:class:`RunFolder` owns every path)::

    config.json          model family, model config, data, training settings,
                         status and results
    checkpoint/weights*  final model weights (tf_keras ``save_weights``)
    backup/              per-epoch model + optimizer state, for ``resume``
    logs/                TensorBoard: train/ and validation/ scalars, samples/
    samples.png|wav|txt  samples at the end of training
    reconstructions.png  originals beside reconstructions (autoencoders)
    saved_model/1/       the SavedModel for TF Serving

This module sits above the models (it looks families up in
``tfgen.models``); the library layers below it know nothing of run folders.
"""

import dataclasses
import json
import os
import shutil
import sys
import time

import numpy as np
import tensorflow as tf

from tfgen import data as datasets
from tfgen import models
from tfgen._keras import keras
from tfgen.errors import UserError, user_input
from tfgen.export import metadata as export_metadata
from tfgen.export.saved_model import save as save_export
from tfgen.training import (SampleSummaries, TimeBudget, default_optimizer, get_strategy,
                            resumable)
from tfgen.training.checkpoint import check_backup
from tfgen.training import precision
from tfgen.training.render import EXTENSIONS, write_samples

_REQUIRED = ("model", "model_config", "data")


class RunFolder:
  """The folder of one training run, and every path in it.

  ``RunFolder(path)`` does not touch the disk; :meth:`create` makes a fresh
  one (refusing to replace a run unless asked), :meth:`read_config` and
  :meth:`load_model` read a trained one. Mistakes raise
  :class:`tfgen.errors.UserError` naming the folder.
  """

  CONFIG = "config.json"

  def __init__(self, path):
    self.path = os.fspath(path)

  def __repr__(self):
    return f"RunFolder({self.path!r})"

  def _join(self, *parts):
    return os.path.join(self.path, *parts)

  @property
  def config_path(self):
    return self._join(self.CONFIG)

  @property
  def weights(self):
    """Prefix of the final weights (``save_weights`` / ``load_weights``)."""
    return self._join("checkpoint", "weights")

  @property
  def backup(self):
    """Per-epoch state for resuming (``keras.callbacks.BackupAndRestore``)."""
    return self._join("backup")

  @property
  def logs(self):
    return self._join("logs")

  @property
  def saved_model(self):
    return self._join("saved_model")

  def samples(self, kind):
    """The file of the run's final samples of data ``kind``."""
    return self._join("samples" + EXTENSIONS[kind])

  @property
  def reconstructions(self):
    return self._join("reconstructions.png")

  def exists(self):
    """Whether a run lives here (it has a ``config.json``)."""
    return os.path.isfile(self.config_path)

  def create(self, overwrite=False):
    """Makes sure the folder can hold a new run: refuses a file, a folder
    under a file, and an existing run unless ``overwrite`` (then removes it)."""
    if os.path.exists(self.path) and not os.path.isdir(self.path):
      raise UserError(f"--out {self.path!r} is a file, not a folder")
    parent = os.path.dirname(os.path.abspath(self.path))
    if os.path.exists(parent) and not os.path.isdir(parent):
      raise UserError(f"--out {self.path!r} is under {parent!r}, which is a file")
    if self.exists():
      if not overwrite:
        raise UserError(f"{self.path!r} already holds a run: pass --resume to continue it, "
                        "--overwrite to start over, or choose another --out")
      shutil.rmtree(self.path)

  def write_config(self, config):
    """Writes ``config.json`` atomically (a crash never leaves half a file)."""
    try:
      os.makedirs(self.path, exist_ok=True)
      tmp = self.config_path + ".tmp"
      with open(tmp, "w") as f:
        json.dump(config, f, indent=2)
      os.replace(tmp, self.config_path)
    except OSError as e:
      raise UserError(f"cannot write the run folder {self.path!r}: {e.strerror or e}") from None

  def read_config(self):
    """The run's ``config.json`` as a dict; UserError if there is no run or
    the file is not a tfgen run config."""
    path = self.config_path
    if not os.path.isfile(path):
      raise UserError(f"No tfgen run at {self.path!r} (no {self.CONFIG}); train one with "
                      "`tfgen train MODEL --out RUN`.")
    try:
      with open(path, encoding="utf-8") as f:
        config = json.load(f)
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as e:
      raise UserError(f"{path} is not a readable tfgen run config: {e}") from None
    if not isinstance(config, dict) or any(k not in config for k in _REQUIRED):
      raise UserError(f"{path} is not a tfgen run config: expected a JSON object with "
                      f"{', '.join(_REQUIRED)}.")
    if not isinstance(config["model_config"], dict):
      raise UserError(f"{path}: `model_config` must be a JSON object.")
    return config

  def load_model(self):
    """Rebuilds the trained model of the run and loads its final weights.

    Returns:
      ``(model, family, dataset_spec, config)``.

    Raises:
      UserError: not a run, training never finished, or a config or weights
        file that cannot be used (named in the message).
    """
    config = self.read_config()
    with user_input():
      family = models.family(config["model"])
    try:
      model = family.from_config(config["model_config"])
    except (TypeError, ValueError) as e:
      raise UserError(f"{self.config_path}: the model config does not build a "
                      f"{family.name}: {' '.join(str(e).split())}") from None
    if not os.path.exists(self.weights + ".index"):
      raise UserError(
          f"Run {self.path!r} has no final weights: training did not finish. Continue it "
          f"with `tfgen train {config['model']} --out {self.path} --resume`.")
    try:
      model.load_weights(self.weights).expect_partial()
    except Exception as e:  # truncated or foreign checkpoints raise several TF error types
      raise UserError(f"The weights in {os.path.dirname(self.weights)} cannot be read "
                      f"({type(e).__name__}): {str(e).splitlines()[0][:200]}") from None
    with user_input():
      spec = datasets.info(config["data"], config.get("data_dir"), **source_options(config))
    return model, family, spec, config


@dataclasses.dataclass
class TrainedRun:
  """What :func:`train_run` made: the trained ``model``, the run's final
  ``config`` (status, test results, ``steps_trained``...), the ``folder``,
  the files it ``wrote`` and the ``exported`` SavedModel (or None)."""
  model: object
  config: dict
  folder: RunFolder
  wrote: list
  exported: str = None

  @property
  def finished(self):
    return self.config.get("status") == "finished"


def _stage_models(family, stages):
  """The trained first-stage models ``family`` is built on: ``stages`` maps
  each ``builds_on`` argument to a run folder. Returns ``({argument: model},
  {argument: absolute path}, data name of the first stage)``."""
  stages = dict(stages or {})
  for arg in stages:
    if arg not in family.builds_on:
      raise UserError(f"--{arg} does not apply to {family.name}")
  models_, paths, data_name = {}, {}, None
  for arg, stage_family in family.builds_on.items():
    path = stages.get(arg)
    if path is None:
      raise UserError(f"{family.name} is built on a trained {stage_family} run: pass "
                      f"--{arg} RUN (train one with `tfgen train {stage_family}`)")
    model, found, _, config = RunFolder(path).load_model()
    if found.name != stage_family:
      raise UserError(f"--{arg} {os.fspath(path)!r} holds a {found.name} run, not {stage_family}")
    if config.get("status") != "finished":
      raise UserError(f"--{arg} {os.fspath(path)!r} did not finish cleanly (status: "
                      f"{config.get('status', 'unknown')})")
    models_[arg], paths[arg] = model, os.path.abspath(path)
    data_name = data_name or config["data"]
  return models_, paths, data_name


def _previous_config(folder, family, sizes, data_name, stages):
  """The config of the run to resume, checked against what was asked now."""
  if not folder.exists():
    raise UserError(f"--resume: no run to resume at {folder.path!r}")
  config = folder.read_config()
  if config["model"] != family.name:
    raise UserError(f"--resume: {folder.path!r} holds a {config['model']} run, not "
                    f"{family.name}")
  changed = [k for k, v in sizes.items() if config["model_config"].get(k) != v]
  if changed or (data_name and data_name != config["data"]):
    raise UserError("--resume continues the run as it was configured; "
                    f"{', '.join(changed) or '--data'} cannot change")
  for arg, path in config.get("builds_on", {}).items():
    given = (stages or {}).get(arg)
    if given is not None and os.path.abspath(given) != path:
      raise UserError(f"--resume continues the run as it was configured; it is built on "
                      f"--{arg} {path!r}, which cannot change")
  return config


def feeding(model):
  """What ``data.load`` must do for ``model``: labels, and a cached encoding."""
  extra = {}
  if model.uses_labels or getattr(model, "num_classes", None):
    extra["labels"] = True     # a class-conditional model trains on (x, label)
  if model.data_encoder is not None:
    extra["encode"] = model.data_encoder
  return extra


def sampler(model, length, **options):
  """``(n, temperature, seed) → numpy samples`` of ``model``, with ``length``
  for sequence models (a class-conditional model without a ``condition``
  option draws every class in turn); through the model contract only."""
  def sample(n, temperature, seed):
    extra = dict(options, length=length) if model.is_sequence else dict(options)
    if "condition" not in extra and getattr(model, "num_classes", None):
      extra["condition"] = np.arange(n, dtype=np.int32) % model.num_classes  # each class in turn
    return model.sample(n, seed=seed, temperature=temperature, **extra).numpy()
  return sample


def _check_settings(*, epochs, steps_per_epoch, batch_size, eval_batch_size, validation_steps,
                    lr, max_minutes, seed, window, mixed_precision, sizes, stages,
                    jit_compile):
  """UserError naming the first setting of :func:`train_run` that is out of range."""
  from tfgen import _validation
  from tfgen.data.catalog import MAX_BATCH, MAX_WINDOW  # data.load's bounds
  with user_input():
    for name, value in (("epochs", epochs), ("steps_per_epoch", steps_per_epoch),
                        ("validation_steps", validation_steps)):
      _validation.positive_int(value, name)
    for name, value in (("batch_size", batch_size), ("eval_batch_size", eval_batch_size)):
      if _validation.positive_int(value, name) > MAX_BATCH:
        raise ValueError(f"`{name}` must be at most {MAX_BATCH}, got {value}.")
    if window is not None and _validation.positive_int(window, "window") > MAX_WINDOW:
      raise ValueError(f"`window` must be at most {MAX_WINDOW}, got {window}.")
    if isinstance(seed, bool) or not isinstance(seed, int):
      raise ValueError(f"`seed` must be an integer, got {seed!r}.")
    for name, value in (("lr", lr), ("max_minutes", max_minutes)):
      positive = (not isinstance(value, bool) and isinstance(value, (int, float))
                  and 0 < value < float("inf"))
      if not positive and not (name == "max_minutes" and value is None):
        raise ValueError(f"`{name}` must be a positive number, got {value!r}.")
    if mixed_precision not in (None, "float16", "bfloat16"):
      raise ValueError(f"`mixed_precision` must be None, 'float16' or 'bfloat16', got "
                       f"{mixed_precision!r}.")
    _validation.boolean(jit_compile, "jit_compile")
    for name, value in (("sizes", sizes), ("stages", stages)):
      if value is not None and not isinstance(value, dict):
        raise ValueError(f"`{name}` must be a dict, got {type(value).__name__}.")


def _classes(family, spec):
  """The number of classes a --conditional run of ``family`` on ``spec`` takes."""
  import inspect
  if "num_classes" not in inspect.signature(family.model.__init__).parameters:
    raise UserError(f"--conditional: {family.name} takes no class condition")
  if not spec.num_classes:
    raise UserError(f"--conditional: dataset {spec.name!r} has no class labels (an image "
                    "folder needs one subfolder per class)")
  return spec.num_classes


def source_options(config):
  """How a run reads its files, as ``datasets.info`` and ``datasets.load``
  take it: a table's ``columns``; an image folder's ``image_size``, ``bits``
  and ``strict``."""
  return dict(config.get("source") or {})


def _stderr(line):
  print(line, file=sys.stderr, flush=True)


def train_run(out, model="glow", *, data=None, data_dir=None, epochs=3, steps_per_epoch=200,
              batch_size=64, eval_batch_size=256, lr=1e-3, strategy="auto", seed=0,
              window=None, mixed_precision=None, max_minutes=None, validation_steps=4,
              sizes=None, stages=None, resume=False, overwrite=False, export=True, verbose=1,
              log=print, warn=_stderr, columns=None, image_size=None, bits=8, strict=False,
              conditional=False, init=None, jit_compile=False):
  """Trains family ``model`` into run folder ``out``, as ``tfgen train`` does.

  Everything given is checked before the folder is touched. The run writes
  ``config.json`` first (so a killed run can be resumed), a backup every
  epoch, TensorBoard logs with samples, then the final weights, samples, a
  SavedModel (unless ``export=False``, or a non-finite step stopped
  training) and the test results.

  Args:
    out: the run folder (a path or :class:`RunFolder`).
    model: a registered family name (``tfgen list``).
    data, data_dir: dataset name (default: the family's, or its first
      stage's) and where its files are.
    columns: for a table, the CSV columns to model (names, or a
      comma-separated string; default: all).
    conditional: train a class-conditional model on the data's labels
      (``num_classes`` = the dataset's classes; their names are kept in the
      run and its export, and ``tfgen sample --condition`` takes them).
    image_size, bits, strict: for an image folder (``data='images'``),
      ``(H, W)`` to resize and centre-crop to, the bits kept per value, and
      whether an unreadable file stops the run (else it is skipped and
      counted).
    sizes: the family's size arguments (``{constructor arg: value}``).
    stages: ``{argument: run folder}`` for a family built on other runs.
    resume / overwrite: continue the run in ``out`` / replace it.
    mixed_precision: ``'float16'`` or ``'bfloat16'`` (the global Keras policy
      is set for the run and restored after it).
    max_minutes: a wall-clock budget (refused under a multi-worker strategy).
    jit_compile: XLA-compile the training step (``compile(jit_compile=True)``;
      every family compiles). A choice of this process, not of the model: a
      resumed run takes the flag it is given.
    init: a run or an export (``saved_models/NAME``) of this family to start
      from: its architecture and weights are fine-tuned on ``data`` (no
      ``sizes``; ``conditional`` as the model was trained).
    log, warn: where progress lines and warnings go.

  Returns:
    a :class:`TrainedRun`.

  Raises:
    tfgen.errors.UserError: a bad argument, data that do not fit, or a
      folder that cannot take the run (one line, naming what).
  """
  folder = out if isinstance(out, RunFolder) else RunFolder(out)
  if data_dir is not None:
    if not isinstance(data_dir, (str, os.PathLike)):
      raise UserError(f"`data_dir` must be a path, got {type(data_dir).__name__}")
    data_dir = os.fspath(data_dir)      # a pathlib.Path too: the config is JSON
  _check_settings(epochs=epochs, steps_per_epoch=steps_per_epoch, batch_size=batch_size,
                  eval_batch_size=eval_batch_size, validation_steps=validation_steps, lr=lr,
                  max_minutes=max_minutes, seed=seed, window=window,
                  mixed_precision=mixed_precision, sizes=sizes, stages=stages,
                  jit_compile=jit_compile)
  sizes = dict(sizes or {})
  if resume and overwrite:
    raise UserError("--resume and --overwrite exclude each other: continue the run, or "
                    "start over")
  with user_input():
    family = models.family(model)
  start_from = None
  if init is not None:
    if resume:
      raise UserError("--init starts a new run; --resume continues one from its own weights")
    if sizes or stages:
      raise UserError("--init takes the architecture of the model it starts from: drop the "
                      "size flags")
    from tfgen.zoo import data_of, load
    with user_input(f"--init {os.fspath(init)}"):
      start_from = load(init)
      data = data or data_of(init)     # by default, the data it was trained on
    if type(start_from) is not family.model:
      raise UserError(f"--init {os.fspath(init)} is a {type(start_from).__name__}, not a "
                      f"{family.name} ({family.model.__name__})")
    if bool(conditional) != (getattr(start_from, "num_classes", None) is not None):
      raise UserError(f"--init {os.fspath(init)} is " + (
          "class-conditional: pass --conditional" if not conditional else
          "unconditional: drop --conditional"))
  stage_models = {}
  if resume:
    previous = _previous_config(folder, family, sizes, data, stages)
    config = dict(previous, epochs=epochs, status="training")
  else:
    previous = None
    stage_models, stage_paths, stage_data = _stage_models(family, stages)
    config = {"model": family.name, "data": data or stage_data or family.default_data,
              "builds_on": stage_paths, "data_dir": data_dir, "window": window,
              "batch_size": batch_size, "eval_batch_size": eval_batch_size, "epochs": epochs,
              "steps_per_epoch": steps_per_epoch, "lr": lr, "seed": seed,
              "strategy": strategy, "mixed_precision": mixed_precision, "status": "training"}
    config["conditional"] = bool(conditional)
    source = dict(columns=columns, image_size=image_size, bits=bits, strict=strict)
    defaults = dict(columns=None, image_size=None, bits=8, strict=False)
    config["source"] = {k: v for k, v in source.items() if v != defaults[k]}
  config["jit_compile"] = jit_compile
  with user_input():
    static = datasets.DATASETS.get(config["data"])
    if static is not None and static.needs_data_dir and not config["data_dir"]:
      raise UserError(f"Dataset {config['data']!r} needs --data-dir: {static.source}")
    spec = datasets.info(config["data"], config["data_dir"], **source_options(config))
  if start_from is not None:
    config["init"] = os.fspath(init)
    shape = getattr(spec, "shape", None)
    if spec.kind == "image" and shape and tuple(start_from.event_shape) != tuple(shape):
      raise UserError(f"--init {os.fspath(init)} models {list(start_from.event_shape)} images; "
                      f"{config['data']!r} holds {list(shape)}")
    if spec.num_levels != start_from.num_levels:
      raise UserError(f"--init {os.fspath(init)} models {start_from.num_levels} levels; "
                      f"{config['data']!r} holds {spec.num_levels}")
  if config.get("conditional") and previous is None and start_from is None:
    sizes["num_classes"] = _classes(family, spec)
    config["class_names"] = list(spec.class_names or map(str, range(spec.num_classes)))
  if spec.skipped:
    path, reason = spec.skipped[0]
    warn(f"tfgen train: skipped {len(spec.skipped)} unreadable image file(s) (first: {path}: "
         f"{reason}); --strict refuses them instead")
  policy = keras.mixed_precision.global_policy()
  try:
    keras.utils.set_random_seed(config["seed"])
    if config.get("mixed_precision"):
      keras.mixed_precision.set_global_policy("mixed_" + config["mixed_precision"])
    with user_input():
      strategy_obj = get_strategy(strategy)
    if max_minutes and isinstance(strategy_obj, tf.distribute.MultiWorkerMirroredStrategy):
      raise UserError("--max-minutes reads one process's clock; workers of a multiworker run "
                      "could stop on different steps (use --epochs / --steps-per-epoch)")
    with strategy_obj.scope(), user_input():
      if previous is not None:
        built = family.from_config(previous["model_config"])
      elif start_from is not None:
        built = family.from_config(start_from.get_config())
        for target, value in zip(built.variables, start_from.variables):
          target.assign(value)
      else:
        built = family.build(spec, sizes, stage_models)
      built.compile(default_optimizer(config["lr"]), jit_compile=jit_compile)
    # After the build, so a model that cannot be built does not warn first.
    slow = config.get("mixed_precision") == "bfloat16" and precision.slow_bfloat16_reason()
    if slow:
      warn(f"tfgen train: warning: --mixed-precision bfloat16: {slow}")
    if built.is_sequence and config["window"] is None:
      config["window"] = built.default_window
    with user_input(f"--window {config['window']}"):
      built.check_window(config["window"])
    config["model_config"] = built.get_config()
    common = dict(data_dir=config["data_dir"], window=config.get("window"),
                  seed=config["seed"], **feeding(built))
    common.update(source_options(config))
    with user_input():
      train = datasets.load(config["data"], "train", config["batch_size"], repeat=True,
                            **common)
      test = datasets.load(config["data"], "test", config["eval_batch_size"], **common)
      preview_x = (next(iter(datasets.load(config["data"], "test", 16,
                                           data_dir=config["data_dir"], shuffle=False,
                                           window=config.get("window"),
                                           **source_options(config))))
                   if spec.kind == "image" else None)
    if previous is None:
      folder.create(overwrite)
    else:
      with user_input():
        check_backup(folder.path)
    folder.write_config(config)  # before training: a killed run can be resumed
    return _train(built, family, spec, config, folder, strategy_obj, preview_x, train, test,
                  resume=previous is not None, max_minutes=max_minutes,
                  validation_steps=validation_steps, export=export, verbose=verbose,
                  log=log, warn=warn)
  finally:
    keras.mixed_precision.set_global_policy(policy)


def _train(model, family, spec, config, folder, strategy, preview_x, train, test, *, resume,
           max_minutes, validation_steps, export, verbose, log, warn):
  """The run itself, once everything given has been checked."""
  params = sum(int(np.prod(w.shape)) for w in model.trainable_weights)
  log(f"tfgen: training {family.name} ({params:,} parameters) on "
      f"{config['data']} for {config['epochs']} x {config['steps_per_epoch']} steps, "
      f"batch {config['batch_size']}, {type(strategy).__name__.strip('_')} with "
      f"{strategy.num_replicas_in_sync} replica(s) -> {folder.path}"
      + (" (resuming)" if resume else ""))
  length = spec.sample_rate if spec.kind == "audio" else min(config.get("window") or 400, 400)
  sample = sampler(model, length)
  n_logged = {"image": 16, "video": 4}.get(spec.kind, 2)
  shown = dict(num_levels=spec.num_levels, sample_rate=spec.sample_rate or 8000)
  callbacks = resumable(folder.path) + [
      keras.callbacks.TensorBoard(folder.logs, write_graph=False)]
  budget = TimeBudget(max_minutes) if max_minutes else None
  if budget:
    callbacks.append(budget)
  if model.can_sample and spec.kind != "table":
    callbacks.append(SampleSummaries(os.path.join(folder.logs, "samples"),
                                     lambda epoch: sample(n_logged, 0.7, (config["seed"], epoch)),
                                     spec.kind, **shown))
  previewed = preview_x is not None and model.preview(preview_x) is not None
  if previewed:
    callbacks.append(SampleSummaries(os.path.join(folder.logs, "previews"),
                                     lambda epoch: model.preview(preview_x).numpy(), spec.kind,
                                     tag="originals_and_reconstructions", **shown))
  start = time.time()
  # A small test split may hold fewer batches than asked for: count them (at
  # most validation_steps) rather than let Keras warn that the data ran out.
  validation_steps = max(1, sum(1 for _ in test.take(validation_steps)))
  model.fit(train, epochs=config["epochs"], steps_per_epoch=config["steps_per_epoch"],
            validation_data=test, validation_steps=validation_steps, callbacks=callbacks,
            verbose=verbose)
  failed = int(model.nonfinite_steps.numpy()) > 0
  config["steps_trained"] = int(model.optimizer.iterations.numpy())
  if budget and budget.stopped_early:
    log(f"tfgen train: --max-minutes {max_minutes:g} reached after "
        f"{config['steps_trained']} steps")
    config["stopped_by_time_budget"] = True
  if failed:
    warn("tfgen train: warning: a non-finite loss or gradient stopped training; the model "
         "keeps the weights of the last good step")
  result = model.evaluate(test, verbose=0, return_dict=True)
  model.save_weights(folder.weights)
  wrote = []
  if model.can_sample:
    wrote.append(folder.samples(spec.kind))
    write_samples(wrote[-1], sample({"image": 64, "video": 8}.get(spec.kind, 2), 0.7,
                                    (config["seed"], 12345)),
                  spec.kind, spec.num_levels, spec.sample_rate or 8000, spec.columns)
  if previewed:
    wrote.append(folder.reconstructions)
    write_samples(wrote[-1], model.preview(preview_x).numpy(), spec.kind, spec.num_levels)
  exported = None
  if failed:
    warn("tfgen train: no SavedModel is written for a run that met a non-finite step "
         "(`tfgen export RUN --force` writes one anyway)")
  elif export:
    shutil.rmtree(folder.saved_model, ignore_errors=True)
    extra = {"columns": list(spec.columns)} if spec.columns else {}
    if config.get("class_names") and getattr(model, "num_classes", None):
      extra["class_names"] = config["class_names"]
    exported = save_export(model, folder.saved_model, version=1, metadata=export_metadata.of_model(
        model, family.name, config["data"], config.get("window"), **extra))
  config.update(status="stopped on a non-finite step" if failed else "finished",
                test={k: float(v) for k, v in result.items()},
                train_seconds=round(time.time() - start, 1))
  folder.write_config(config)
  log(f"tfgen: done in {config['train_seconds']:.0f} s. Test {model.describe(result, spec)}."
      + (f" Wrote {', '.join(wrote)}." if wrote else "")
      + (f" SavedModel: {exported}." if exported else "")
      + f" TensorBoard: tensorboard --logdir {folder.logs}")
  return TrainedRun(model, config, folder, wrote, exported)

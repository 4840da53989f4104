"""Trains, exports and documents the pretrained models in saved_models/.

Run: .venv/bin/python bench/zoo.py [--only NAME[,NAME]] [--parallel]   (or `make zoo`)

Every model is made with the command line alone, so its card's command is
exactly what ran:

1. ``tfgen train ...`` into ``runs/zoo/NAME`` (wall time measured around it);
2. ``tfgen export runs/zoo/NAME --to saved_models/NAME``: the next free
   version, so a shipped version is never replaced;
3. ``tfgen evaluate saved_models/NAME`` on the whole test split, and on the
   check subset the tests repeat (the first batches of the unshuffled test
   split), both through the export;
4. ``tfgen sample saved_models/NAME`` writes ``sample_vVERSION.png|wav``
   from the export.

``saved_models/NAME/card.json`` keeps every version's numbers;
``MODEL_CARD.md`` and the README's table of pretrained models are written
from it. ``--parallel`` trains the chosen
models at once, each TensorFlow limited to one core's threads (on a 2-core
machine, two models in the time of one).
"""

import argparse
import json
import os
import re
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, HERE)

from common import machine  # noqa: E402

TFGEN = os.path.join(ROOT, ".venv", "bin", "tfgen")
ZOO = os.path.join(ROOT, "saved_models")
RUNS = os.path.join(ROOT, "runs", "zoo")

#: name → what to train, how to check it, how to sample it, and what it is.
ENTRIES = {
    "fashion_mnist_glow": {
        "train": ["glow", "--data", "fashion_mnist", "--levels", "2", "--steps-per-level", "12",
                  "--hidden-channels", "96", "--batch-size", "64", "--epochs", "100",
                  "--steps-per-epoch", "500", "--max-minutes", "80"],
        "check": {"batch_size": 200, "steps": 5},          # the first 1,000 test images
        "sample": ["--n", "64", "--temperature", "0.7"], "extension": ".png",
        "about": "Glow (Kingma & Dhariwal 2018) on Fashion-MNIST, 256 levels; exact "
                 "log-likelihood, sampling, encode/decode.",
        "reference": "Published Glow reaches about 3.14 bits/dim on Fashion-MNIST after about "
                     "150 GPU epochs (the figure issue 19 of this project cites).",
        "published": 3.14},
    "fashion_mnist_gated_pixelcnn": {
        "train": ["gated_pixelcnn", "--data", "fashion_mnist", "--filters", "64",
                  "--num-layers", "8", "--batch-size", "32", "--epochs", "100",
                  "--steps-per-epoch", "200", "--max-minutes", "80"],
        "check": {"batch_size": 200, "steps": 5},
        "sample": ["--n", "64"], "extension": ".png",
        "about": "Gated PixelCNN (van den Oord et al. 2016) on Fashion-MNIST, 256-way softmax "
                 "per pixel; exact log-likelihood, cached sampling.",
        "reference": "For scale within this project: at a 10-minute budget a larger tfgen Gated "
                     "PixelCNN reached 3.507 bits/dim and `tfd.PixelCNN` 3.518 (README "
                     "results). No published number for this architecture on Fashion-MNIST is "
                     "cited here."},
    "speech_wavenet": {
        "train": ["wavenet", "--data", "speech", "--layers-per-stack", "10", "--stacks", "2",
                  "--channels", "32", "--skip-channels", "64", "--batch-size", "8",
                  "--epochs", "100", "--steps-per-epoch", "100", "--max-minutes", "30"],
        "check": {"batch_size": 8, "steps": 4},
        "sample": ["--n", "2", "--seconds", "2", "--temperature", "0.9"], "extension": ".wav",
        "about": "WaveNet (van den Oord et al. 2016) on the Asterisk speech prompts (one "
                 "speaker, 8 kHz, 8-bit mu-law); exact log-likelihood, Fast-WaveNet "
                 "generation.",
        "reference": "Bits per sample are over 256 mu-law levels: 8 bits is a uniform model. "
                     "No published number for this corpus is cited here."},
}


def tfgen(args, threads=None):
  """Runs ``tfgen ARGS``; returns its stdout (raises with its stderr on failure)."""
  env = dict(os.environ)
  if threads:
    env.update(TF_NUM_INTRAOP_THREADS=str(threads), TF_NUM_INTEROP_THREADS="1",
               OMP_NUM_THREADS=str(threads))
  done = subprocess.run([TFGEN, *args], capture_output=True, text=True, env=env, cwd=ROOT)
  if done.returncode != 0:
    raise RuntimeError(f"tfgen {' '.join(args)} failed ({done.returncode}): "
                       f"{done.stderr.strip()[-2000:]}")
  return done.stdout


def _bits(evaluate_output):
  """The bits/dim (or bits/sample) figure of a ``tfgen evaluate`` line."""
  return float(re.search(r": ([0-9.]+) bits/", evaluate_output).group(1))


def train(name, threads=None):
  """Trains ``name`` into runs/zoo/NAME; returns (command, wall seconds)."""
  entry = ENTRIES[name]
  command = ["train", *entry["train"], "--out", os.path.join("runs", "zoo", name),
             "--overwrite", "--verbose", "2"]
  start = time.time()
  log = tfgen(command, threads)
  seconds = time.time() - start
  with open(os.path.join(RUNS, name + ".log"), "w") as f:
    f.write(log)
  return ["tfgen", *command], seconds


def publish(name, command, seconds):
  """Exports the trained run, measures the export, samples it, writes the card."""
  entry = ENTRIES[name]
  run = os.path.join("runs", "zoo", name)
  base = os.path.join("saved_models", name)
  exported = re.search(r"exported \w+ to (\S+) ", tfgen(["export", run, "--to", base]))
  version = int(os.path.basename(exported.group(1)))
  full = _bits(tfgen(["evaluate", base, "--split", "test"]))
  check = entry["check"]
  subset = _bits(tfgen(["evaluate", base, "--split", "test", "--batch-size",
                        str(check["batch_size"]), "--steps", str(check["steps"])]))
  sample = f"sample_v{version}{entry['extension']}"
  tfgen(["sample", base, *entry["sample"], "--out", os.path.join(base, sample)])
  with open(os.path.join(RUNS, name + ".log")) as f:
    params = int(re.search(r"\(([\d,]+) parameters\)", f.read()).group(1).replace(",", ""))
  with open(os.path.join(ROOT, run, "config.json")) as f:
    steps = json.load(f).get("steps_trained")
  card_path = os.path.join(ZOO, name, "card.json")
  card = {"name": name, "versions": {}}
  if os.path.exists(card_path):
    with open(card_path) as f:
      card = json.load(f)
  card["versions"][str(version)] = {
      "command": " ".join(command), "train_seconds": round(seconds),
      "machine": machine(), "date": time.strftime("%Y-%m-%d"),
      "params": params, "steps": steps, "test_bits": full,
      "check": {**check, "bits": subset}, "sample": sample,
      "sample_command": " ".join(["tfgen", "sample", base, *entry["sample"]])}
  with open(card_path, "w") as f:
    json.dump(card, f, indent=2)
  with open(os.path.join(ZOO, name, "MODEL_CARD.md"), "w") as f:
    f.write(model_card(name, card))
  print(name, card["versions"][str(version)], flush=True)


def model_card(name, card):
  """MODEL_CARD.md of ``name`` from its card.json (newest version first)."""
  entry = ENTRIES[name]
  unit = "bits/sample" if entry["extension"] == ".wav" else "bits/dim"
  lines = [f"# {name}", "", entry["about"], "",
           f"Serve: `tensorflow_model_server --model_name={name} "
           f"--model_base_path=$PWD/saved_models/{name}`; sample: "
           f"`tfgen sample saved_models/{name}`.", ""]
  for version in sorted(card["versions"], key=int, reverse=True):
    v = card["versions"][version]
    m = v["machine"]
    cpu = f"{m.get('cpu_count')} CPU cores ({m.get('cpu_model') or 'unknown CPU'})"
    params = f"{v['params']:,}" if isinstance(v.get("params"), int) else "see the run"
    lines += [f"## Version {version} ({v['date']})", "",
              f"- Trained by: `{v['command']}`",
              f"- Wall time: {v['train_seconds'] / 60:.0f} min on {cpu}",
              f"- Parameters: {params}; training steps: {v.get('steps', 'not recorded')}",
              *([f"- Conditions: {v['conditions']}"] if v.get("conditions") else []),
              *([f"- Looked at / listened to: {v['notes']}"] if v.get("notes") else []),
              f"- Test {unit}, whole test split, through the export: **{v['test_bits']:.4f}**",
              f"- Check subset (`tfgen evaluate saved_models/{name} --batch-size "
              f"{v['check']['batch_size']} --steps {v['check']['steps']}`, what the tests "
              f"repeat): {v['check']['bits']:.4f}",
              f"- Sample from the export: [{v['sample']}]({v['sample']}), made by "
              f"`{v['sample_command']}`", ""]
  lines += ["## How far from published numbers", "", entry["reference"]]
  if "published" in entry:
    newest = card["versions"][max(card["versions"], key=int)]
    lines.append(f"The newest version is {newest['test_bits'] - entry['published']:+.2f} "
                 f"{unit} from it.")
  lines.append("")
  return "\n".join(lines)


README = os.path.join(ROOT, "README.md")
_MARKS = ("<!-- zoo:start -->", "<!-- zoo:end -->")


def readme_table():
  """The README's table of shipped models, from every card.json (newest versions)."""
  lines = ["| model | what | trained | test (whole split, through the export) |",
           "|---|---|---|---|"]
  for name in ENTRIES:
    path = os.path.join(ZOO, name, "card.json")
    if not os.path.exists(path):
      continue
    with open(path) as f:
      card = json.load(f)
    version = max(card["versions"], key=int)
    v = card["versions"][version]
    unit = "bits/sample" if ENTRIES[name]["extension"] == ".wav" else "bits/dim"
    lines.append(f"| [`saved_models/{name}`](saved_models/{name}/MODEL_CARD.md) (v{version}) | "
                 f"{ENTRIES[name]['about'].split(';')[0]}, {v['params'] / 1e6:.2f}M params | "
                 f"{v['train_seconds'] / 60:.0f} min on {v['machine']['cpu_count']} CPU cores | "
                 f"{v['test_bits']:.3f} {unit} |")
  return "\n".join(lines) + "\n"


def update_readme():
  with open(README) as f:
    text = f.read()
  start, end = text.index(_MARKS[0]) + len(_MARKS[0]), text.index(_MARKS[1])
  with open(README, "w") as f:
    f.write(text[:start] + "\n" + readme_table() + text[end:])


def main(argv=None):
  p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
  p.add_argument("--only", help="comma-separated names (default: all): " + ", ".join(ENTRIES))
  p.add_argument("--parallel", action="store_true",
                 help="train the models at once, one core's threads each")
  p.add_argument("--publish-only", action="store_true",
                 help="skip training: export and document the runs already in runs/zoo")
  args = p.parse_args(argv)
  names = args.only.split(",") if args.only else list(ENTRIES)
  unknown = [n for n in names if n not in ENTRIES]
  if unknown:
    p.error(f"unknown zoo entries {unknown}; choose from {', '.join(ENTRIES)}")
  os.makedirs(RUNS, exist_ok=True)
  trained = {}
  if args.publish_only:
    for name in names:
      with open(os.path.join(RUNS, name + ".json")) as f:
        trained[name] = json.load(f)
  elif args.parallel:
    from concurrent.futures import ThreadPoolExecutor
    with ThreadPoolExecutor(len(names)) as pool:
      futures = {n: pool.submit(train, n, 1) for n in names}
      trained = {n: f.result() for n, f in futures.items()}
  else:
    trained = {n: train(n) for n in names}
  for name, (command, seconds) in trained.items():
    with open(os.path.join(RUNS, name + ".json"), "w") as f:
      json.dump([command, seconds], f)
    publish(name, command, seconds)
  update_readme()


if __name__ == "__main__":
  main()

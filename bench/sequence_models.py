"""Sequence-model benchmarks (issue: sequence models), into bench/results.json.

Run: .venv/bin/python bench/sequence_models.py [--part throughput|sampling|quality|all]
                                               [--minutes 3]

- throughput: training tokens/s, peak RSS and MFU (6·N FLOPs per token
  over the measured float32 matmul peak) of tfgen's Transformer
  against a plain tf_keras GPT built from
  ``keras.layers.MultiHeadAttention(use_causal_mask=True)`` at matched
  parameters (bench/peers.py), dense at n = 256 and sparse (strided) at
  n = 4096. Each model trains in its own process (its own peak RSS).
- sampling: key/value-cached against naive Transformer sampling at 1,024
  tokens; CharRNN state-cached against naive.
- quality: held-out fortunes bits/char after a fixed wall-clock budget for
  CharRNN (LSTM, GRU, LSTM + scheduled sampling), Transformer dense and
  strided at matched parameters, with the share of words in a 2,000-byte
  sample that occur in the training text; and Fashion-MNIST (binarized)
  bits/dim of the image Transformer and PixelRNN beside the Gated PixelCNN.
"""

import argparse
import json
import os
import re
import resource
import subprocess
import sys
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)


# ----------------------------------------------------------------------------- throughput

def _train_speed(name, length, batch, steps):
  """Runs in a child process: tokens/s, peak RSS, FLOPs of one model."""
  import numpy as np
  import tensorflow as tf
  import peers
  from tfgen._keras import keras
  keras.utils.set_random_seed(0)
  model, params = peers.sequence_model(name, length)
  x = np.random.default_rng(0).integers(0, 256, size=(batch * (steps + 3), length))
  ds = tf.data.Dataset.from_tensor_slices(x).batch(batch).repeat()
  if name.startswith("keras"):
    ds = ds.map(lambda t: (t, t))
  times = []
  before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # runtime, model, data

  class Clock(keras.callbacks.Callback):
    def on_train_batch_begin(self, b, logs=None):
      self.start = time.perf_counter()

    def on_train_batch_end(self, b, logs=None):
      times.append(time.perf_counter() - self.start)

  model.fit(ds, steps_per_epoch=steps + 3, epochs=1, verbose=0, callbacks=[Clock()])
  step = float(np.median(times[3:]))
  flops = peers.sequence_flops(params, batch, length)
  rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
  return {"params": params, "tokens_per_s": batch * length / step, "step_s": step,
          "peak_rss_mb": rss, "training_mb": rss - before, "train_flops": 3 * flops,
          "length": length, "batch": batch}


def _child(name, length, batch, steps):
  out = subprocess.run([sys.executable, __file__, "--child", name, str(length), str(batch),
                        str(steps)], capture_output=True, text=True, timeout=3600)
  if out.returncode:
    raise RuntimeError(out.stderr[-3000:])
  return json.loads(out.stdout.strip().splitlines()[-1])


def throughput(args):
  from common import record
  from common import matmul_peak
  peak = matmul_peak()
  result = {"matmul_peak_gflops": peak / 1e9, "models": {}}
  for name, length, batch in (("tfgen_transformer_dense", 256, 16),
                              ("keras_mha_gpt", 256, 16),
                              ("tfgen_transformer_strided", 4096, 1),
                              ("keras_mha_gpt", 4096, 1)):
    key = f"{name}@{length}"
    m = _child(name, length, batch, args.steps)
    m["mfu"] = m["train_flops"] / m["step_s"] / peak
    result["models"][key] = m
    print(f"{key}: {m['params']:,} params, {m['tokens_per_s']:.0f} tokens/s, "
          f"peak RSS {m['peak_rss_mb']:.0f} MB (+{m['training_mb']:.0f} MB training), "
          f"MFU {100 * m['mfu']:.1f}%", flush=True)
  r = result["models"]
  result["dense_speedup"] = (r["tfgen_transformer_dense@256"]["tokens_per_s"]
                             / r["keras_mha_gpt@256"]["tokens_per_s"])
  result["sparse_speedup"] = (r["tfgen_transformer_strided@4096"]["tokens_per_s"]
                              / r["keras_mha_gpt@4096"]["tokens_per_s"])
  result["sparse_memory_ratio"] = (r["keras_mha_gpt@4096"]["peak_rss_mb"]
                                   / r["tfgen_transformer_strided@4096"]["peak_rss_mb"])
  result["sparse_training_memory_ratio"] = (r["keras_mha_gpt@4096"]["training_mb"]
                                            / r["tfgen_transformer_strided@4096"]["training_mb"])
  print(f"dense {result['dense_speedup']:.2f}x, sparse at 4096 {result['sparse_speedup']:.2f}x "
        f"the tokens/s with {result['sparse_memory_ratio']:.2f}x less peak RSS "
        f"({result['sparse_training_memory_ratio']:.2f}x less memory added by training)")
  record("sequence_throughput", result)


# ----------------------------------------------------------------------------- sampling

def sampling(args):
  from common import record, timed
  from tfgen.autoregressive import CharRNN, Transformer
  tr = Transformer(context_length=1024, num_layers=2, d_model=64, num_heads=4)
  cached = timed(lambda: tr.sample(1, length=1024, seed=1).numpy())
  naive = timed(lambda: tr.sample(1, length=1024, seed=1, method="naive").numpy())
  rnn = CharRNN(units=256, num_layers=2)
  rnn_cached = timed(lambda: rnn.sample(4, length=400, seed=1).numpy())
  rnn_naive = timed(lambda: rnn.sample(4, length=400, seed=1, method="naive").numpy())
  result = {"transformer": {"tokens": 1024, "params": tr.count_params(), "cached_s": cached,
                            "naive_s": naive, "speedup": naive / cached},
            "char_rnn": {"tokens": 400, "batch": 4, "params": rnn.count_params(),
                         "cached_s": rnn_cached, "naive_s": rnn_naive,
                         "speedup": rnn_naive / rnn_cached}}
  for k, v in result.items():
    print(f"{k}: cached {v['cached_s']:.3f} s, naive {v['naive_s']:.2f} s, "
          f"{v['speedup']:.0f}x", flush=True)
  record("sequence_sampling", result)


# ----------------------------------------------------------------------------- quality

def _words(text):
  return re.findall(r"[a-z]+", text.lower())


def _budget_fit(model, train, seconds, steps_per_call=50):
  from tfgen.training import default_optimizer
  model.compile(default_optimizer(2e-3))
  start, steps, finite = time.perf_counter(), 0, True
  while time.perf_counter() - start < seconds:
    model.fit(train, steps_per_epoch=steps_per_call, epochs=1, verbose=0)
    steps += steps_per_call
    finite &= int(model.nonfinite_steps.numpy()) == 0
  return steps, finite


def quality(args):
  import numpy as np
  from common import record
  from tfgen import data
  from tfgen._keras import keras
  from tfgen.autoregressive import CharRNN, ImageTransformer, PixelCNN, PixelRNN, Transformer
  seconds = args.minutes * 60
  vocab = set(_words(bytes(np.concatenate(data.read_fortunes())).decode("utf-8", "replace")))
  text_models = {
      "char_rnn_lstm": lambda: CharRNN(units=256, num_layers=2),
      "char_rnn_gru": lambda: CharRNN(cell="gru", units=296, num_layers=2),
      "char_rnn_lstm_scheduled": lambda: CharRNN(units=256, num_layers=2,
                                                 scheduled_sampling=dict(decay="inverse_sigmoid",
                                                                         k=300.)),
      "transformer_dense": lambda: Transformer(context_length=256, num_layers=4, d_model=128,
                                               num_heads=4),
      "transformer_strided": lambda: Transformer(context_length=256, num_layers=4, d_model=128,
                                                 num_heads=4, attention="strided"),
  }
  result = {"minutes": args.minutes, "text": {}, "images": {}}
  train = data.load("fortunes", "train", 32, window=256, seed=0)
  test = data.load("fortunes", "test", 64, window=256)
  for name, build in text_models.items():
    if args.only and name not in args.only:
      continue
    keras.utils.set_random_seed(0)
    model = build()
    steps, finite = _budget_fit(model, train, seconds)
    bpc = model.evaluate(test, verbose=0, return_dict=True)["bits_per_dim"]
    sample = bytes(model.sample(8, length=256, seed=1, temperature=0.8).numpy()
                   .astype(np.uint8).ravel()).decode("utf-8", "replace")
    words = _words(sample)
    hit = float(np.mean([w in vocab for w in words])) if words else 0.
    result["text"][name] = {"params": model.count_params(), "steps": steps,
                            "test_bits_per_char": bpc, "word_hit_rate": hit,
                            "all_steps_finite": bool(finite), "sample": sample[:300]}
    print(f"{name}: {model.count_params():,} params, {steps} steps, {bpc:.3f} bits/char, "
          f"{100 * hit:.0f}% of sampled words are real words", flush=True)
  itrain = data.load("binarized_fashion_mnist", "train", 32, repeat=True, seed=0)
  itest = data.load("binarized_fashion_mnist", "test", 500)
  image_models = {
      "gated_pixelcnn": lambda: PixelCNN((28, 28, 1), num_levels=2, filters=32, num_layers=6,
                                         gated=True),
      "pixelrnn_diagonal": lambda: PixelRNN((28, 28, 1), num_levels=2, units=32, num_layers=2),
      "image_transformer_strided": lambda: ImageTransformer((28, 28, 1), num_levels=2,
                                                            num_layers=3, d_model=64,
                                                            num_heads=4),
  }
  for name, build in image_models.items():
    if args.only and name not in args.only:
      continue
    keras.utils.set_random_seed(0)
    model = build()
    steps, finite = _budget_fit(model, itrain, seconds, steps_per_call=20)
    bpd = model.evaluate(itest, verbose=0, return_dict=True)["bits_per_dim"]
    result["images"][name] = {"params": model.count_params(), "steps": steps,
                              "test_bits_per_dim": bpd, "all_steps_finite": bool(finite)}
    print(f"{name}: {model.count_params():,} params, {steps} steps, {bpd:.4f} bits/dim "
          f"({bpd * 784 * 0.6931:.1f} nats/image)", flush=True)
  record("sequence_quality", result)


def main():
  p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
  p.add_argument("--part", default="all", choices=["all", "throughput", "sampling", "quality"])
  p.add_argument("--minutes", type=float, default=3.)
  p.add_argument("--steps", type=int, default=10)
  p.add_argument("--only", nargs="*", help="quality: only these models")
  p.add_argument("--child", nargs=4, help=argparse.SUPPRESS)
  args = p.parse_args()
  if args.child:
    name, length, batch, steps = args.child
    print(json.dumps(_train_speed(name, int(length), int(batch), int(steps))))
    return
  for part, fn in (("throughput", throughput), ("sampling", sampling), ("quality", quality)):
    if args.part in ("all", part):
      fn(args)


if __name__ == "__main__":
  main()

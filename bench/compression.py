"""Lossless compression with tfgen's likelihoods against the standard tools,
into bench/results.json (section ``compression``).

Run: .venv/bin/python bench/compression.py [--only fashion,fortunes,speech]
                                            [--minutes 6] [--images 10000]

- fashion: the Fashion-MNIST test images (raw 28×28 uint8 pixels) through
  the shipped Gated PixelCNN export (``saved_models/fashion_mnist_gated_pixelcnn``).
- fortunes: the fortunes test files (every tenth file) through a byte-level
  CharRNN (GRU, 2 × 296) trained here for ``--minutes`` on the other files,
  as ``bench/sequence_models.py`` trains it; rows of its 256-byte window.
- speech: the 8-bit μ-law codes of the Asterisk test clips (every tenth WAV,
  8 kHz) through the shipped WaveNet export, rows of its 8,188-sample window.

For each: the model's own −log₂ p of the data (its conditionals as the coder
sees them; for images also ``log_prob``), the compressed size (payload and
header), encode and decode throughput and the coder's share of the time,
a decode check, and gzip -9, bzip2 -9, xz -9e and zstd -19 on the same
bytes, with PNG (images), FLAC (the μ-law signal as 16-bit PCM: what FLAC
would be given) and PPMd (text, ``pyppmd`` order 6) where installed.
"""

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
ROOT = os.path.dirname(HERE)

from common import machine, record, recorded  # noqa: E402

TOOLS = {"gzip -9": ["gzip", "-9", "-c"], "bzip2 -9": ["bzip2", "-9", "-c"],
         "xz -9e": ["xz", "-9e", "-c"], "zstd -19": ["zstd", "-19", "-c", "-q"]}


def _tool_sizes(raw):
  """Bytes each standard tool makes of ``raw`` (bytes); tools not installed are left out."""
  sizes = {}
  for name, argv in TOOLS.items():
    if shutil.which(argv[0]):
      sizes[name] = len(subprocess.run(argv, input=raw, capture_output=True, check=True).stdout)
  return sizes


def _code(model, x, symbols, batch_size):
  """Compress and decompress ``x``: sizes, speeds, shares, exactness."""
  import numpy as np
  from tfgen import compression
  enc, dec = {}, {}
  blob = compression.compress(model, x, batch_size=batch_size, stats=enc)
  back = compression.decompress(model, blob, stats=dec)
  exact = (all(np.array_equal(a, b) for a, b in zip(back, x)) if isinstance(x, list)
           else bool(np.array_equal(back, x)))
  header = compression.read_header(blob)
  payload = 4 * header["payload_words"]
  return {"symbols": symbols, "model_bits": header["ideal_bits"],
          "model_bits_per_symbol": header["ideal_bits"] / symbols,
          "payload_bytes": payload, "blob_bytes": len(blob),
          "header_bytes": len(blob) - payload,
          "bits_per_symbol": 8 * len(blob) / symbols,
          "size_over_model_bits": 8 * len(blob) / header["ideal_bits"],
          "payload_over_model_bits": 8 * payload / header["ideal_bits"],
          "decoded_exactly": exact, "batch_size": header["batch_size"],
          "encode_seconds": enc["seconds"], "decode_seconds": dec["seconds"],
          "encode_coder_share": enc["coder_seconds"] / enc["seconds"],
          "decode_coder_share": dec["coder_seconds"] / dec["seconds"]}


def _report(name, result, unit, per_second):
  print(f"{name}: model {result['model_bits_per_symbol']:.4f} bits/{unit}, file "
        f"{result['bits_per_symbol']:.4f} ({result['size_over_model_bits']:.5f}× the model's "
        f"bits, header {result['header_bytes']} B), exact={result['decoded_exactly']}; "
        f"encode {per_second(result['encode_seconds'])}, decode "
        f"{per_second(result['decode_seconds'])}, coder {100 * result['decode_coder_share']:.1f}% "
        "of decode", flush=True)
  for tool, size in result["tools"].items():
    print(f"  {tool:>10}: {8 * size / result['symbols']:.4f} bits/{unit}")


def fashion(args):
  import numpy as np
  import tensorflow as tf
  from tfgen.data.fashion import load_fashion_mnist
  from tfgen.export.rebuild import keras_model
  model, _, _ = keras_model(os.path.join(ROOT, "saved_models", "fashion_mnist_gated_pixelcnn"))
  x = np.asarray(load_fashion_mnist("test")[0])[:args.images]
  result = _code(model, x, x.size, 512)
  log_prob = sum(float(-np.sum(model.log_prob(x[i:i + 500]).numpy()))
                 for i in range(0, len(x), 500))
  result["log_prob_bits_per_dim"] = log_prob / np.log(2) / x.size
  result["images"] = len(x)
  result["images_per_second"] = {"encode": len(x) / result["encode_seconds"],
                                 "decode": len(x) / result["decode_seconds"]}
  raw = x.tobytes()
  result["tools"] = _tool_sizes(raw)
  result["tools"]["PNG (per image, level 9)"] = int(sum(
      len(tf.io.encode_png(image, compression=9).numpy()) for image in x))
  _report("fashion", result, "pixel", lambda s: f"{len(x) / s:.1f} images/s")
  return result


def fortunes(args):
  import numpy as np
  from tfgen import data
  from tfgen.autoregressive import CharRNN
  from tfgen.compression import archive
  from tfgen._keras import keras
  from common import fit_for
  keras.utils.set_random_seed(0)
  model = CharRNN(cell="gru", units=296, num_layers=2)
  train = data.load("fortunes", "train", 32, window=256, seed=0)
  test_ds = data.load("fortunes", "test", 64, window=256)
  steps = fit_for(model, train, 60 * args.minutes, lr=2e-3, steps_per_call=50)
  test_bits = model.evaluate(test_ds, verbose=0, return_dict=True)["bits_per_dim"]
  texts = data.catalog._sequences(data.info("fortunes"), "test", None, None)
  rows = [r for t in texts for r in archive._rows(np.asarray(t, np.int32), 256)]
  symbols = int(sum(len(t) for t in texts))
  result = _code(model, rows, symbols, 512)
  result.update(train_minutes=args.minutes, train_steps=steps, files=len(texts),
                evaluate_bits_per_char=test_bits,
                kilobytes_per_second={"encode": symbols / 1e3 / result["encode_seconds"],
                                      "decode": symbols / 1e3 / result["decode_seconds"]})
  raw = b"".join(bytes(t) for t in texts)
  result["tools"] = _tool_sizes(raw)
  try:
    import pyppmd
    result["tools"]["PPMd (order 6, 16 MB)"] = len(pyppmd.compress(raw, max_order=6,
                                                                   mem_size=16 << 20))
  except ImportError:
    result["tools_missing"] = ["PPMd: pip install pyppmd"]
  _report("fortunes", result, "byte", lambda s: f"{symbols / 1e3 / s:.1f} kB/s")
  return result


def speech(args):
  import numpy as np
  from tfgen import audio, data
  from tfgen.compression import archive
  from tfgen.export.rebuild import keras_model
  model, _, meta = keras_model(os.path.join(ROOT, "saved_models", "speech_wavenet"))
  clips = data.catalog._sequences(data.info("speech"), "test", None, 8000)
  window = int(meta["window"])
  rows = [r for c in clips for r in archive._rows(np.asarray(c, np.int32), window)]
  symbols = int(sum(len(c) for c in clips))
  result = _code(model, rows, symbols, 64)
  result.update(clips=len(clips), seconds_of_audio=symbols / 8000, window=window,
                real_time_factor={"encode": result["encode_seconds"] / (symbols / 8000),
                                  "decode": result["decode_seconds"] / (symbols / 8000)})
  raw = np.concatenate(clips).astype(np.uint8).tobytes()
  result["tools"] = _tool_sizes(raw)
  if shutil.which("flac"):
    pcm = audio.mu_law_decode(np.concatenate(clips)).numpy()
    with tempfile.TemporaryDirectory() as tmp:
      path = os.path.join(tmp, "speech.wav")
      audio.write_wav(path, np.clip(pcm, -1, 1), 8000)
      subprocess.run(["flac", "-8", "-s", "-f", path, "-o", path + ".flac"], check=True)
      result["tools"]["FLAC -8 (mu-law signal as 16-bit PCM)"] = os.path.getsize(
          path + ".flac")
  else:
    result["tools_missing"] = ["FLAC: apt-get install flac"]
  _report("speech", result, "sample", lambda s: f"{symbols / 8000 / s:.2f} s of audio/s")
  return result


PARTS = {"fashion": fashion, "fortunes": fortunes, "speech": speech}


def main():
  parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
  parser.add_argument("--only", default=",".join(PARTS))
  parser.add_argument("--minutes", type=float, default=6.0, help="byte model training")
  parser.add_argument("--images", type=int, default=10000, help="Fashion-MNIST test images")
  args = parser.parse_args()
  results = {k: v for k, v in recorded("compression").items() if k in PARTS}
  for name in args.only.split(","):
    start = time.time()
    results[name] = PARTS[name](args)
    results[name]["bench_seconds"] = time.time() - start
    record("compression", results)
  results["machine"] = machine()
  record("compression", results)


if __name__ == "__main__":
  main()

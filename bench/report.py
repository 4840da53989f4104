"""Renders bench/results.json as a Markdown table and writes it into the README.

    .venv/bin/python bench/report.py            # print the table
    .venv/bin/python bench/report.py --readme   # replace the README's results section

Every benchmark script records its numbers in results.json; this is the only
way numbers reach the README, so the table can never drift from a run.
"""

import argparse
import json
import os
import re
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
RESULTS = os.path.join(HERE, "results.json")
README = os.path.join(os.path.dirname(HERE), "README.md")
START, END = "<!-- bench:results:start -->", "<!-- bench:results:end -->"
CSTART, CEND = "<!-- bench:compression:start -->", "<!-- bench:compression:end -->"


def _pixelcnn(r):
  return [("PixelCNN sampling, %d images %s" % (r["images"], "×".join(map(str, r["image_shape"]))),
           "Gated PixelCNN (%.2fM params), cached: %.2f s" % (r["tfgen_params"] / 1e6,
                                                             r["tfgen_cached_s"])
           + ("; `downsample=2` (%.2fM params), cached: %.2f s (naive %.1f s)" % (
               r["tfgen_unet_params"] / 1e6, r["tfgen_unet_cached_s"], r["tfgen_unet_naive_s"])
              if "tfgen_unet_cached_s" in r else ""),
           "`tfd.PixelCNN` (%.2fM params): %.1f s" % (r["tfp_params"] / 1e6, r["tfp_s"]),
           "%.0f× faster" % r["speedup_vs_tfp"], "`bench/pixelcnn_sampling.py`", r)]


def _wavenet(r):
  return [("WaveNet generation, %d samples, receptive field %d" % (r["samples"],
                                                                   r["receptive_field"]),
           "cached (Fast WaveNet): %.3f s" % r["cached_s"],
           "naive (whole receptive field per step): %.2f s" % r["naive_s"],
           "%.0f× faster" % r["speedup"], "`bench/wavenet_generation.py`", r),
          ("WaveNet real-time factor, %s" % r["rtf_model"],
           "%.1f s of 8 kHz audio in %.2f s" % (r["rtf_seconds_of_audio"], r["rtf_generation_s"]),
           "real time", "RTF %.2f" % r["real_time_factor"], "`bench/wavenet_generation.py`", r)]


LABELS = {"tfgen_glow": "tfgen `Glow`", "tfgen_glow_bf16": "tfgen `Glow`, `mixed_bfloat16`",
          "tfp_glow": "`tfb.Glow`", "tfgen_realnvp":
          "tfgen `RealNVP`", "tfgen_gated_pixelcnn": "tfgen Gated `PixelCNN`",
          "tfgen_gated_pixelcnn_bf16": "tfgen Gated `PixelCNN`, `mixed_bfloat16`",
          "tfgen_gated_pixelcnn_unet": "tfgen Gated `PixelCNN(downsample=2)`",
          "tfp_pixelcnn": "`tfd.PixelCNN`"}


def _speed(m):
  mfu = "n/a (FLOPs not countable)" if m.get("mfu") is None else "%.1f%%" % (100 * m["mfu"])
  return ("%s (%.2fM params): %.1f images/s, peak RSS %.0f MB, MFU %s%s" % (
      LABELS.get(m["name"], m["name"]), m["params"] / 1e6, m["images_per_s"], m["peak_rss_mb"],
      mfu, "" if m["all_steps_finite"] else ", **loss went NaN/Inf**"))


def _throughput(r):
  rows = []
  for ours, theirs in (("tfgen_glow", "tfp_glow"), ("tfgen_glow_bf16", "tfp_glow"),
                       ("tfgen_gated_pixelcnn", "tfp_pixelcnn"),
                       ("tfgen_gated_pixelcnn_bf16", "tfp_pixelcnn"),
                       ("tfgen_gated_pixelcnn_unet", "tfp_pixelcnn")):
    if ours in r["models"] and theirs in r["models"]:
      a = dict(r["models"][ours], name=ours)
      b = dict(r["models"][theirs], name=theirs)
      bf16 = ours.endswith("_bf16")
      rows.append(("Training throughput, batch %d, Adam 1e-3%s%s (%s matmul peak %.0f GFLOP/s)" % (
          a["batch"], ", XLA" if a["jit_compile"] else "",
          ", **AVX2-only CPU emulated** (oneDNN capped at AVX2, TF's oneDNN rewrites off)"
          if r.get("isa") == "avx2" else "", "bfloat16" if bf16 else "float32",
          r["matmul_peak_gflops" + ("_bf16" if bf16 else "")]),
          _speed(a), _speed(b), "%.2f× the images/s" % r[f"{ours}_vs_{theirs}"],
          "`bench/training_throughput.py`", r))
  return rows


def _quality(r):
  rows = []
  for name, m in r["models"].items():
    text = "%s (%.2fM params): %.3f bits/dim after %d steps%s" % (
        LABELS.get(name, name), m["params"] / 1e6, m["test_bits_per_dim"], m["steps"],
        "" if m["all_steps_finite"] else ", **loss went NaN/Inf**")
    ours = name.startswith("tfgen")
    # Rows re-run on their own (--only) carry their own date: a shared VM's
    # speed changes between days, so only rows of one date compare steps.
    rows.append(("Test bits/dim after %g min of training (%d test images)" % (
        r["minutes"], m["test_images"]), text if ours else "", "" if ours else text,
        "%.3f" % m["test_bits_per_dim"], "`bench/quality_budget.py`",
        dict(r, date=m.get("date", r["date"]))))
  return rows


def _seq_speed(m, label):
  return ("%s (%.2fM params), n = %d, batch %d: %.0f tokens/s, peak RSS %.0f MB "
          "(+%.0f MB in training), MFU %.1f%%" % (
              label, m["params"] / 1e6, m["length"], m["batch"], m["tokens_per_s"],
              m["peak_rss_mb"], m["training_mb"], 100 * m["mfu"]))


def _sequence_throughput(r):
  m = r["models"]
  return [
      ("Transformer training throughput, dense attention (6·N FLOPs/token, float32 peak %.0f "
       "GFLOP/s)" % r["matmul_peak_gflops"],
       _seq_speed(m["tfgen_transformer_dense@256"], "tfgen `Transformer`, dense"),
       _seq_speed(m["keras_mha_gpt@256"], "tf_keras `MultiHeadAttention` GPT"),
       "%.2f× the tokens/s" % r["dense_speedup"], "`bench/sequence_models.py`", r),
      ("Transformer training at n = 4096, sparse against dense attention",
       _seq_speed(m["tfgen_transformer_strided@4096"], "tfgen `Transformer`, strided"),
       _seq_speed(m["keras_mha_gpt@4096"], "tf_keras `MultiHeadAttention` GPT"),
       "%.2f× the tokens/s, %.2f× less peak RSS (%.1f× less training memory)" % (
           r["sparse_speedup"], r["sparse_memory_ratio"], r["sparse_training_memory_ratio"]),
       "`bench/sequence_models.py`", r)]


def _sequence_sampling(r):
  t, c = r["transformer"], r["char_rnn"]
  return [("Transformer sampling, %d tokens (%.2fM params)" % (t["tokens"], t["params"] / 1e6),
           "key/value cache: %.2f s" % t["cached_s"], "naive (whole network per token): %.1f s"
           % t["naive_s"], "%.0f× faster" % t["speedup"], "`bench/sequence_models.py`", r),
          ("CharRNN sampling, %d × %d tokens (%.2fM params)" % (c["batch"], c["tokens"],
                                                              c["params"] / 1e6),
           "recurrent state: %.2f s" % c["cached_s"], "naive (rerun the prefix): %.1f s"
           % c["naive_s"], "%.0f× faster" % c["speedup"], "`bench/sequence_models.py`", r)]


SEQUENCE_LABELS = {"char_rnn_lstm": "`CharRNN` LSTM", "char_rnn_gru": "`CharRNN` GRU",
                   "char_rnn_lstm_scheduled": "`CharRNN` LSTM + scheduled sampling",
                   "transformer_dense": "`Transformer` dense",
                   "transformer_strided": "`Transformer` strided",
                   "gated_pixelcnn": "Gated `PixelCNN`", "pixelrnn_diagonal":
                   "`PixelRNN` Diagonal BiLSTM", "image_transformer_strided":
                   "`ImageTransformer` strided"}


def _sequence_quality(r):
  rows = []
  for name, m in r["text"].items():
    rows.append(("Fortunes test bits/char after %g min of training" % r["minutes"],
                 "%s (%.2fM params): %.3f bits/char after %d steps; %.0f%% of sampled words are "
                 "real" % (SEQUENCE_LABELS.get(name, name), m["params"] / 1e6,
                           m["test_bits_per_char"], m["steps"], 100 * m["word_hit_rate"]),
                 "", "%.3f" % m["test_bits_per_char"], "`bench/sequence_models.py`", r))
  for name, m in r["images"].items():
    rows.append(("Binarized Fashion-MNIST test bits/dim after %g min" % r["minutes"],
                 "%s (%.2fM params): %.4f bits/dim (%.1f nats/image) after %d steps" % (
                     SEQUENCE_LABELS.get(name, name), m["params"] / 1e6, m["test_bits_per_dim"],
                     m["test_bits_per_dim"] * 784 * 0.693147, m["steps"]),
                 "", "%.4f" % m["test_bits_per_dim"], "`bench/sequence_models.py`", r))
  return rows


def _vqvae(r):
  rows = []
  labels = {"vqvae": "VQ-VAE (7×7 codes)", "vqvae2": "VQ-VAE-2 (7×7 + 14×14 codes)"}
  for name, m in r["vqvae"].items():
    usage = ", ".join("%s%.0f%% of %d codes used (perplexity %.0f)" % (
        k[len("usage"):].lstrip("_") + " " if k != "usage" else "", 100 * m[k], m["num_codes"],
        m["perplexity" + k[len("usage"):]]) for k in m if k.startswith("usage"))
    rows.append(("Fashion-MNIST reconstruction after %g min" % r["minutes"],
                 "`VQVAE` %s, %.2fM params: test MSE %.4f on [0, 1] pixels; %s"
                 % (labels[name], m["params"] / 1e6, m["mse"], usage), "",
                 "MSE %.4f" % m["mse"], "`bench/vqvae.py`", r))
  plabels = {"pixelcnn": "Gated PixelCNN prior on the VQ-VAE",
             "transformer": "Transformer prior on the VQ-VAE",
             "pixelcnn_vqvae2": "Gated PixelCNN top + conditional bottom prior on VQ-VAE-2",
             "text_to_image": "text-to-image Transformer (bits per code given the caption)"}
  for name, m in r["priors"].items():
    rows.append(("Fashion-MNIST test bits per code after %g min" % r["minutes"],
                 "%s (%.2fM params): %.3f bits/code after %d steps" % (
                     plabels[name], m["params"] / 1e6, m["test_bits_per_code"], m["steps"]), "",
                 "%.3f bits/code" % m["test_bits_per_code"], "`bench/vqvae.py`", r))
  s = r["sampling"]
  rows.append(("Sampling %d Fashion-MNIST images" % s["n"],
               "VQ-VAE code prior (49 codes, then decode): %.2f s; VQ-VAE-2 (245 codes): %.2f s"
               % (s["code_prior_s"], s["vqvae2_prior_s"]),
               "pixel-level Gated PixelCNN (784 pixels, same network size): %.1f s"
               % s["pixel_gated_pixelcnn_s"],
               "%.0f× faster (VQ-VAE-2: %.0f×)" % (s["speedup"], s["vqvae2_speedup"]),
               "`bench/vqvae.py`", r))
  t = r["text_to_image"]
  rows.append(("Prompted samples recognised as the prompted class",
               "`TextToImage`: %.0f%% of 160 samples (16 per class)" % (
                   100 * t["mean_agreement"]),
               "chance: 10%%; the judge is a CNN with %.1f%% test accuracy" % (
                   100 * t["classifier_test_accuracy"]),
               "%.0f%%" % (100 * t["mean_agreement"]), "`bench/vqvae.py`", r))
  return rows


def _autoregressive_flows(r):
  rows = []
  d = r["directions"]
  for name, one, many, what in (("MAF", "log_prob_s", "sample_s", "density one pass"),
                                ("IAF", "sample_s", "log_prob_s", "sampling one pass")):
    m = d[name]
    rows.append(("%s on 28×28 images (D = 784), 64 examples, 2 layers" % name,
                 "%s: %.3f s" % (what, m[one]),
                 "the other direction (784 passes in one while loop): %.1f s" % m[many],
                 "%.0f× apart" % (m[many] / m[one]), "`bench/autoregressive_flows.py`", r))
  n = r["nade_vs_made"]
  for name, label in (("nade", "`NADE` (500 hidden)"), ("made", "`MADE` (500 hidden)"),
                      ("made_8_masks", "`MADE(num_masks=8)` ensemble")):
    m = n[name]
    extra = ("; one mask alone %.1f nats (ensemble gain %.1f nats)" % (
        m["one_mask_test_nats"], m["ensemble_gain_nats"]) if "ensemble_gain_nats" in m else "")
    took = " in %.0f s" % m["train_s"] if "train_s" in m else ""
    rows.append(("Binarized Fashion-MNIST test nats/image after %d steps (batch 64)" % m["steps"],
                 "%s, %.2fM params: %.1f nats%s%s" % (
                     label, m["params"] / 1e6, m["test_nats"], took, extra), "",
                 "%.1f nats" % m["test_nats"], "`bench/autoregressive_flows.py`", r))
  a = r.get("revnet_accuracy")
  if a:
    rows.append(("Fashion-MNIST test accuracy after %g min (stages 3,3; 32 channels)"
                 % r["minutes"],
                 "RevNet: %.2f%% (%d steps, %d params)" % (
                     100 * a["revnet"]["test_accuracy"], a["revnet"]["steps"],
                     a["revnet"]["params"]),
                 "same-depth ResNet: %.2f%% (%d steps, %d params)" % (
                     100 * a["resnet"]["test_accuracy"], a["resnet"]["steps"],
                     a["resnet"]["params"]),
                 "%+.2f points" % (100 * (a["revnet"]["test_accuracy"]
                                          - a["resnet"]["test_accuracy"])),
                 "`bench/autoregressive_flows.py`", r))
  f = r.get("flows_at_budget")
  if f:
    fmt = lambda k: "%s %.3f (%d steps, %.2fM params)" % (
        k, f[k]["test_bits_per_dim"], f[k]["steps"], f[k]["params"] / 1e6)
    rows.append(("Fashion-MNIST test bits/dim after %g min each, batch 64" % r["minutes"],
                 fmt("maf"), "; ".join(fmt(k) for k in f if k != "maf"),
                 "MAF %+.3f bits/dim vs the best coupling flow" % (
                     f["maf"]["test_bits_per_dim"]
                     - min(f[k]["test_bits_per_dim"] for k in f if k != "maf")),
                 "`bench/autoregressive_flows.py`", r))
  mem = r["revnet_memory"]
  depths = sorted(mem["revnet"], key=int)
  curve = lambda label: ", ".join("%s: %.0f MB" % (k, mem[label][k]["step_mb"]) for k in depths)
  rows.append(("Memory a training step needs (allocator peak above weights and optimizer "
               "state) against depth (blocks), batch 64, 28×28, 32 channels",
               "RevNet, memory-saving gradients: " + curve("revnet"),
               "same-depth ResNet: %s; RevNet with ordinary backprop: %s" % (
                   curve("resnet"), curve("revnet_plain_backprop")),
               "growth %d→%s blocks: %.1f MB vs %.0f MB" % (
                   int(depths[0]), depths[-1],
                   mem["revnet"][depths[-1]]["step_mb"] - mem["revnet"][depths[0]]["step_mb"],
                   mem["resnet"][depths[-1]]["step_mb"] - mem["resnet"][depths[0]]["step_mb"]),
               "`bench/autoregressive_flows.py`", r))
  g = r.get("glow_memory")
  if g:
    steps = sorted(g["default"], key=int)
    fmt = lambda label: ", ".join("%s steps/level: %.0f MB, %.2f s/step" % (
        k, g[label][k]["step_mb"], g[label][k]["step_s"]) for k in steps)
    rows.append(("Glow training-step memory (allocator peak; 2 levels, 32 channels, batch 32)",
                 "`Glow(memory_efficient=True)`: " + fmt("memory_efficient"),
                 "default backprop: " + fmt("default"),
                 "%.2f× the default's memory at %s steps/level, %.2f× its step time" % (
                     g["memory_efficient"][steps[-1]]["step_mb"]
                     / g["default"][steps[-1]]["step_mb"], steps[-1],
                     g["memory_efficient"][steps[-1]]["step_s"]
                     / g["default"][steps[-1]]["step_s"]),
                 "`bench/autoregressive_flows.py`", r))
  return rows


def _parallel_and_video(r):
  rows, script = [], "`bench/parallel_and_video.py`"
  p = r.get("parallel_wavenet")
  for name, st in sorted((p or {}).get("students", {}).items(), reverse=True):
    rows.append(("Parallel WaveNet: 1 s of 8 kHz speech, one sequence, compiled",
                 "%s (flows of %s layers, %.0fk params, %d steps distilled): %.3f s, "
                 "real-time factor %.3f; KL to the teacher %.3f → %.3f bits/sample" % (
                     name.replace("_", " "), "+".join(map(str, st["flow_layers"])),
                     st["params"] / 1e3, st["steps"], st["generation_s"],
                     st["generation_s"] / p["seconds_generated"], st["kl_bits_before"],
                     st["kl_bits_after"]),
                 "teacher WaveNet's cached generation (%.0fk params, %d steps, %.3f test "
                 "bits/sample): %.3f s" % (
                     p["teacher_params"] / 1e3, p["teacher_steps"],
                     p["teacher_test_bits_per_sample"], p["teacher_generation_s"]),
                 "%.1f× faster as timed after training (see the next rows); the teacher's "
                 "bits/sample on its own samples %.3f, on the student's %.3f" % (
                     st["speedup"], p["teacher_bits_on_teacher_samples"],
                     st["teacher_bits_on_student_samples"]), script, r))
  q = r.get("parallel_wavenet_speed")
  for name, st in sorted((q or {}).get("students", {}).items(), reverse=True):
    rows.append(("Parallel WaveNet generation alone: 1 s at 8 kHz, sizes as above, untrained "
                 "weights, best of 5",
                 "%s (flows of %s layers): %.4f s" % (
                     name.replace("_", " "), "+".join(map(str, st["flow_layers"])),
                     st["generation_s"]),
                 "teacher's cached generation: %.4f s" % q["teacher_generation_s"],
                 "%.1f× faster (target 10×)" % st["speedup"], script, r))
  m = r.get("multiscale")
  if m:
    a, b = m["multiscale_pixelcnn"], m["gated_pixelcnn"]
    rows.append(("Fashion-MNIST: test bits/dim after %g min, and sample(16) at 28×28 / 64×64"
                 % r["minutes"],
                 "MultiscalePixelCNN (%.2fM params): %.3f bits/dim; %.2f s (%d network "
                 "evaluations) / %.2f s (%d)" % (
                     a["params"] / 1e6, a["test_bits_per_dim"], a["sample_28_s"],
                     a["network_evaluations_28"], a["sample_64_s"], a["network_evaluations_64"]),
                 "Gated PixelCNN, cached sampler (%.2fM params): %.3f bits/dim; %.2f s (%d) / "
                 "%.2f s (%d)" % (
                     b["params"] / 1e6, b["test_bits_per_dim"], b["sample_28_s"],
                     b["network_evaluations_28"], b["sample_64_s"], b["network_evaluations_64"]),
                 "%.1f× / %.1f× faster sampling for %+.3f bits/dim" % (
                     b["sample_28_s"] / a["sample_28_s"], b["sample_64_s"] / a["sample_64_s"],
                     a["test_bits_per_dim"] - b["test_bits_per_dim"]), script, r))
  v = r.get("video")
  if v:
    rows.append(("Video Pixel Network on %s (%d frames of %d×%d) after %g min" % (
        v["data"], v["frames"], v["frame_size"], v["frame_size"], r["minutes"]),
                 "%.4f test bits/dim (%.2fM params, %d steps); 4 videos sampled in %.1f s" % (
                     v["test_bits_per_dim"], v["params"] / 1e6, v["steps"],
                     v["sample_4_videos_s"]), "", "%.4f bits/dim" % v["test_bits_per_dim"],
                 script, r))
  return rows


def _stock_optimizer(r):
  runs = r["runs"]
  seeds = sorted(runs["adam"], key=int)
  fmt = lambda k: ", ".join("seed %s: %.3f" % (s, runs[k][s]["test_bits_per_dim"]) for s in seeds)
  gap = max(runs["adam"][s]["test_bits_per_dim"] - runs["default"][s]["test_bits_per_dim"]
            for s in seeds)
  return [("Glow (2 levels × 4 steps, 64 channels) test bits/dim after %d steps, batch 64"
           % r["steps"], "`tf_keras.optimizers.Adam(1e-3)`: " + fmt("adam"),
           "`default_optimizer(1e-3)` (clipnorm 50): " + fmt("default"),
           "worst gap %+.3f bits/dim (target ≤ 0.15)" % gap, "`bench/stock_optimizer.py`", r)]


def _step_profile(r):
  rows = []
  for name, m in r["models"].items():
    top = ", ".join("%s %.0f%%" % (op, 100 * t["share"])
                    for op, t in list(m["by_op_type"].items())[:4])
    text = "%s: %.2f s/step profiled; op time by type: %s" % (LABELS.get(name, name), m["step_s"], top)
    ours = name.startswith("tfgen")
    rows.append(("Where a Glow training step's time goes, batch 64 (TF profiler)%s" % (
        ", AVX2-only CPU emulated" if r.get("isa") == "avx2" else ""),
        text if ours else "", "" if ours else text, "", "`bench/step_profile.py`", r))
  return rows


def _first_step(r):
  fams = r["families"]
  ok = {n: f for n, f in fams.items() if "first_step_s" in f}
  glow = ok.get("glow")
  others = ", ".join("%s %.1f" % (n, f["first_step_s"]) for n, f in ok.items() if n != "glow")
  return [("Time to the first training step: demo size, batch 16, a fresh process (tracing, "
           "graph optimisation and the step)",
           "`Glow` (demo): %.1f s%s (a warm step: %.3f s)" % (
               glow["first_step_s"], " median of %s" % ", ".join(
                   "%.1f" % t for t in glow["first_step_s_runs"])
               if glow.get("first_step_s_runs") else "", glow["warm_step_s"]) if glow else "",
           "other families, s: " + others,
           "Glow %s the 5 s target" % ("meets" if glow and glow["first_step_s"] <= 5 else
                                       "misses"), "`bench/first_step.py`", r)]


def _distribution_overhead(r):
  cells = []
  for name in ("glow", "gated_pixelcnn"):
    m = r[name]
    cells.append("%s %+.1f%% (graph: %.1f → %.1f ms), %+.1f%% eager" % (
        LABELS.get(name, name), 100 * m["graph"]["overhead"], m["graph"]["model_ms"],
        m["graph"]["distribution_ms"], 100 * m["eager"]["overhead"]))
  worst = max(r[n][mode]["overhead"] for n in ("glow", "gated_pixelcnn")
              for mode in ("graph", "eager"))
  return [("`model.distribution.log_prob` against `model.log_prob`, demo sizes, batch %d" %
           r["batch"], "; ".join(cells), "`model.log_prob`",
           "worst %+.1f%% (target ≤ +5%%)" % (100 * worst), "`bench/distribution_overhead.py`",
           r)]


def _icons(r):
  cells = "; ".join("%s %.3f (%d steps)" % (LABELS.get("tfgen_" + n, n), m["test_bits_per_dim"],
                                           m["steps"]) for n, m in r["models"].items())
  return [("Test bits/dim on real colour images: the 32×32 Oxygen icons (1528 RGBA PNGs, "
           "alpha over white), %g min of training each" % r["minutes"], cells, "", "",
           "`bench/icons.py`", r)]


def _conditional_samples(r):
  def cell(n, m):
    scores = ", ".join("%.0f%% at T=%s" % (100 * v, k.split("_T")[1]) for k, v in m.items()
                       if k.startswith("correct_at"))
    budget = "%d steps" % m["steps"] + (", %g min" % m["minutes"] if "minutes" in m else "")
    return "%s: %s (%s)" % (LABELS.get("tfgen_" + n, n), scores, budget)
  cells = "; ".join(cell(n, m) for n, m in r["models"].items())
  return [("Class-conditional samples (`--conditional`, Fashion-MNIST, demo sizes) assigned "
           "the requested class by a CNN with %.1f%% test accuracy on real "
           "images" % (100 * r["classifier_test_accuracy"]), cells,
           "chance 10%", "", "`bench/conditional_samples.py`", r)]


_PARTS = {"fashion": ("Fashion-MNIST test images", "shipped Gated PixelCNN", "pixel"),
          "fortunes": ("fortunes test files", "CharRNN (GRU) trained %(train_minutes)g min",
                       "byte"),
          "speech": ("Asterisk speech test clips, 8-bit mu-law", "shipped WaveNet", "sample")}


def _compression(r):
  rows = []
  for key, (data, model, unit) in _PARTS.items():
    if key not in r:
      continue
    m = r[key]
    best = min(m["tools"].items(), key=lambda kv: kv[1])
    speed = ("decode %.1f images/s" % m["images_per_second"]["decode"] if key == "fashion"
             else "decode %.1f kB/s" % m["kilobytes_per_second"]["decode"] if key == "fortunes"
             else "decode at %.1f× real time" % m["real_time_factor"]["decode"])
    rows.append(("Lossless compression: %s through the %s" % (data, model % m),
                 "%.4f bits/%s with the %d-byte header; payload %.5f× the model's %.4f "
                 "(%s; %.0f%% of it in the coder)" % (
                     m["bits_per_symbol"], unit, m["header_bytes"],
                     m["payload_over_model_bits"], m["model_bits_per_symbol"], speed,
                     100 * m["decode_coder_share"]),
                 "best standard tool: %s %.4f" % (best[0], 8 * best[1] / m["symbols"]),
                 "%s (target: payload ≤ 1.01× the model's bits, plus the header)%s" % (
                     "met" if m["payload_over_model_bits"] <= 1.01 else "missed",
                     "" if m["decoded_exactly"] else "; DECODE MISMATCH"),
                 "`bench/compression.py`", r))
  return rows


def compression_table(r):
  """Bits per symbol of tfgen's archives against the standard tools, one column per data set."""
  parts = [k for k in _PARTS if k in r]
  tools = []
  for k in parts:
    tools += [t for t in r[k]["tools"] if t not in tools]
  head = ["| | " + " | ".join("%s (bits/%s)" % (_PARTS[k][0], _PARTS[k][2]) for k in parts)
          + " |", "|---" * (len(parts) + 1) + "|"]
  lines = ["| tfgen (%s) | " % ", ".join(_PARTS[k][1] % r[k] for k in parts)
           + " | ".join("**%.3f**" % r[k]["bits_per_symbol"] for k in parts) + " |",
           "| the model's own −log₂ p | " + " | ".join(
               "%.3f" % r[k]["model_bits_per_symbol"] for k in parts) + " |"]
  for t in tools:
    lines.append("| %s | " % t + " | ".join(
        "%.3f" % (8 * r[k]["tools"][t] / r[k]["symbols"]) if t in r[k]["tools"] else "—"
        for k in parts) + " |")
  return "\n".join(head + lines) + "\n"


def _sample_quality(r):
  rows = []
  for name, m in r["models"].items():
    cells = "; ".join("T=%s: %.1f%% confident, class entropy %.2f, Fréchet %.1f" % (
        k[1:], 100 * v["confident"], v["class_entropy"], v["frechet"])
        for k, v in m.items() if k.startswith("T"))
    rows.append(("Sample quality, %d Fashion-MNIST samples of `%s`, scored by a CNN (%.1f%% "
                 "test accuracy on real images): share classified with confidence ≥ 0.9, "
                 "entropy of the class histogram (log 10 = %.2f), Fréchet distance in the "
                 "CNN's features (not Inception FID)" % (
                     r["n"], name,
                     100 * r["classifier_test_accuracy"], r["log_10"]),
                 cells, "real training images: Fréchet %.1f" % r["frechet_real"], "",
                 "`bench/sample_quality.py`", r))
  return rows


def _device(d):
  if d["kind"] == "GPU":
    return "%d× %s (%s peak %.0f / %.0f TFLOP/s float32 / mixed)" % (
        d["count"], d["name"], d["peak_source"], d["peak"]["float32"] / 1e12,
        d["peak"]["mixed"] / 1e12)
  return "CPU (measured matmul peak %.0f / %.0f GFLOP/s float32 / bfloat16)" % (
      d["peak"]["float32"] / 1e9, d["peak"]["mixed"] / 1e9)


def _accelerator(r):
  if r.get("smoke"):
    return []
  rows = []
  for name, f in r["families"].items():
    done = {k: c for k, c in f["configs"].items() if "examples_per_s" in c}
    if not done:
      continue
    best = max(done, key=lambda k: done[k]["examples_per_s"])
    cells = "; ".join("%s %.1f ex/s (MFU %.1f%%)" % (k, c["examples_per_s"], 100 * c["mfu"])
                      for k, c in done.items())
    memory = done[best].get("peak_memory_mb")
    sample = f.get("sampling")
    rows.append(("Training at a realistic size on %s: `%s` (%.1fM params, batch %d%s)" % (
        _device(r["device"]), name, f["params"] / 1e6, f["batch"],
        ", %d positions" % f["window"] if f.get("window") else ""),
        cells + ("" if memory is None else "; peak memory %.0f MB" % memory)
        + ("" if not sample else "; sampling %.2f examples/s" % sample["examples_per_s"]),
        "", "best: %s" % best, "`bench/accelerator.py`", r))
  rows.append(("Accelerator targets (%s)" % _device(r["device"]),
               "; ".join("%s: %s" % kv for kv in r["targets"].items()),
               "", "skipped: %s" % (", ".join(r["skipped"]) or "nothing"),
               "`bench/accelerator.py`", r))
  return rows


def _input_pipeline(r):
  rows = []
  for name, d in r["datasets"].items():
    rows.append(("Input pipeline alone, `%s` (batch %d%s), against what it feeds" % (
        name, d["batch"], ", window %d" % d["window"] if d["window"] else ""),
        "%.0f examples/s (first batch after %.1f s)" % (d["pipeline_examples_per_s"],
                                                        d["first_batch_s"]),
        "`%s` demo step here: %.1f ex/s; an H100 at %.0f%% MFU on the `%s` case "
        "(%.2f GFLOP/example forward): %.0f ex/s" % (
            d["model"], d["demo_step_examples_per_s_here"], 100 * r["mfu"], d["gpu_case"],
            d["gpu_forward_flops_per_example"] / 1e9, d["h100_examples_per_s_at_40pct"]),
        "%.1f× the H100's need (%s; target %.0f×)" % (
            d["pipeline_over_gpu"], "met" if d["met"] else "missed", r["target"]),
        "`bench/input_pipeline.py`", r))
  return rows


RENDERERS = {"training_throughput": _throughput, "training_throughput_jit": _throughput,
             "training_throughput_avx2": _throughput, "step_profile": _step_profile,
             "step_profile_avx2": _step_profile,
             "quality_budget": _quality, "pixelcnn_sampling": _pixelcnn,
             "wavenet_generation": _wavenet, "sequence_throughput": _sequence_throughput,
             "sequence_sampling": _sequence_sampling, "sequence_quality": _sequence_quality,
             "vqvae": _vqvae, "autoregressive_flows": _autoregressive_flows,
             "parallel_and_video": _parallel_and_video, "stock_optimizer": _stock_optimizer,
             "first_step": _first_step, "distribution_overhead": _distribution_overhead,
             "icons": _icons, "conditional_samples": _conditional_samples,
             "compression": _compression, "accelerator": _accelerator,
             "input_pipeline": _input_pipeline, "sample_quality": _sample_quality}


def describe_machine(m):
  """'2 CPU cores' plus, where recorded, the CPU model and its vector ISA."""
  where = "%d CPU cores" % m["cpu_count"]
  if m.get("cpu_model"):
    isa = [f.upper().replace("_", "-") for f in m.get("isa", [])]
    where += " (%s%s)" % (m["cpu_model"], ", " + " ".join(isa) if isa else "")
  return where


def table(results):
  """The Markdown table for a results dict (the parsed results.json)."""
  lines = ["| benchmark | tfgen | baseline | result | script | machine, date |",
           "|---|---|---|---|---|---|"]
  for key, render in RENDERERS.items():
    if key not in results:
      continue
    for name, ours, baseline, verdict, script, r in render(results[key]):
      where = "%s, %s" % (describe_machine(r["machine"]), r["date"])
      lines.append(f"| {name} | {ours} | {baseline} | {verdict} | {script} | {where} |")
  unknown = sorted(set(results) - set(RENDERERS))
  if unknown:
    raise ValueError(f"results.json has sections with no renderer: {unknown}")
  return "\n".join(lines) + "\n"


def section(results):
  return f"{START}\n{table(results)}{END}"


def update_readme(readme_text, results):
  """``readme_text`` with its results section replaced by the current table."""
  pattern = re.compile(re.escape(START) + ".*?" + re.escape(END), re.S)
  if not pattern.search(readme_text):
    raise ValueError(f"README has no {START} ... {END} section")
  text = pattern.sub(lambda _: section(results), readme_text)
  compression = re.compile(re.escape(CSTART) + ".*?" + re.escape(CEND), re.S)
  if "compression" in results and compression.search(text):
    text = compression.sub(lambda _: f"{CSTART}\n{compression_table(results['compression'])}"
                           f"{CEND}", text)
  return text


def main(argv=None):
  p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
  p.add_argument("--readme", action="store_true", help="rewrite the README's results table")
  args = p.parse_args(argv)
  with open(RESULTS) as f:
    results = json.load(f)
  if not args.readme:
    sys.stdout.write(table(results))
    return 0
  with open(README) as f:
    text = f.read()
  updated = update_readme(text, results)   # before opening for writing: an error keeps the file
  with open(README, "w") as f:
    f.write(updated)
  print(f"updated {README}")
  return 0


if __name__ == "__main__":
  sys.exit(main())

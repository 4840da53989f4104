"""The benchmark scripts (bench/) are run by hand, not by CI: check at least
that each one compiles under this Python, and that every model the bench
names has a builder."""

import ast
import pathlib
import py_compile

import pytest

BENCH = pathlib.Path(__file__).resolve().parent.parent / "bench"


@pytest.mark.parametrize("script", sorted(p.name for p in BENCH.glob("*.py")))
def test_script_compiles(script, tmp_path):
  # doraise: a syntax error raises PyCompileError and fails the test.
  out = py_compile.compile(str(BENCH / script), cfile=str(tmp_path / "out.pyc"), doraise=True)
  assert pathlib.Path(out).stat().st_size > 0


def test_every_benchmarked_model_has_a_builder():
  tree = ast.parse((BENCH / "peers.py").read_text())
  models = next(ast.literal_eval(node.value) for node in tree.body
                if isinstance(node, ast.Assign)
                and getattr(node.targets[0], "id", None) == "MODELS")
  peer = next(n for n in tree.body if isinstance(n, ast.ClassDef) and n.name == "Peer")
  builders = {f.name for f in peer.body if isinstance(f, ast.FunctionDef)}
  assert "tfgen_glow_bf16" in models
  assert not [m for m in models if "_" + m not in builders]


def _bench_module(name):
  import importlib.util
  spec = importlib.util.spec_from_file_location("bench_" + name, BENCH / (name + ".py"))
  module = importlib.util.module_from_spec(spec)
  spec.loader.exec_module(module)
  return module


def test_machine_records_cpu_model_and_bf16_features(tmp_path):
  common = _bench_module("common")
  cpuinfo = tmp_path / "cpuinfo"
  cpuinfo.write_text("processor\t: 0\nmodel name\t: Intel(R) Xeon(R) Platinum 8480C\n"
                     "flags\t\t: fpu sse2 avx2 avx512f avx512_bf16 amx_tile amx_bf16\n"
                     "processor\t: 1\nmodel name\t: Intel(R) Xeon(R) Platinum 8480C\n")
  assert common.cpu_info(str(cpuinfo)) == ("Intel(R) Xeon(R) Platinum 8480C",
                                           ["avx2", "avx512f", "avx512_bf16", "amx_bf16"])
  assert common.cpu_info(str(tmp_path / "missing")) == (None, [])
  report = _bench_module("report")
  assert report.describe_machine({"cpu_count": 2, "cpu_model": "AMD EPYC", "isa": ["avx2"]}) \
      == "2 CPU cores (AMD EPYC, AVX2)"
  # Results recorded before the model was: the old label, unchanged.
  assert report.describe_machine({"cpu_count": 2}) == "2 CPU cores"


def test_the_keras_gpt_baseline_matches_tfgen_transformer_parameters():
  import sys
  sys.path.insert(0, str(BENCH))
  peers = _bench_module("peers")
  ours, n_ours = peers.sequence_model("tfgen_transformer_dense", 16)
  theirs, n_theirs = peers.sequence_model("keras_mha_gpt", 16)
  assert n_ours == n_theirs > 800_000
  import numpy as np
  x = np.random.default_rng(0).integers(0, 256, size=(2, 16))
  assert theirs(x).shape == (2, 16, 256) and ours.log_prob(x).shape == (2,)


def test_step_profile_sums_the_traced_ops_by_type(tmp_path):
  import tensorflow as tf
  profile = _bench_module("step_profile")
  a = tf.random.normal([256, 256])
  f = tf.function(lambda a: tf.reduce_sum(tf.sin(a @ a)))
  f(a)
  tf.profiler.experimental.start(str(tmp_path))
  for _ in range(3):
    f(a).numpy()
  tf.profiler.experimental.stop()
  times = profile.op_times(str(tmp_path))
  # oneDNN's graph rewrite (on by default on x86) names it _MklMatMul.
  matmul = sum(t for op, t in times.items() if op.endswith("MatMul"))
  assert matmul > 0 and times["Sin"] > 0
  assert matmul > times["Sin"]                   # 256³ multiply-adds against 256² sines
  assert not [op for op in times if "::" in op or op.startswith("__")]  # executor spans left out


def test_accelerator_measures_every_registered_family():
  """A family added to the registry needs a realistic size in CASES."""
  from tfgen import models
  acc = _bench_module("accelerator")
  assert {c.family for c in acc.CASES.values()} == set(models.FAMILIES)
  assert set(acc.SMOKE) <= set(acc.CASES) and set(acc.MIRRORED) <= set(acc.CASES)


def test_accelerator_knows_the_gpus_and_judges_the_targets():
  acc = _bench_module("accelerator")
  assert acc.datasheet_peak("NVIDIA H100 80GB HBM3")["mixed"] == 989.4e12
  assert acc.datasheet_peak("NVIDIA H100 PCIe")["mixed"] == 756e12
  assert acc.datasheet_peak("NVIDIA L40S")["mixed"] == 362e12     # not the L4's
  assert acc.datasheet_peak("NVIDIA A100-SXM4-40GB")["float32"] == 156e12  # not the A10's
  assert acc.datasheet_peak("Some New Accelerator") is None
  gpu = {"kind": "GPU", "mixed_policy": "mixed_float16"}
  rows = lambda g, t: {"glow": {"configs": {"mixed_float16+xla": {"mfu": g}}},
                       "transformer": {"configs": {"mixed_float16+xla": {"mfu": t}}}}
  verdict = acc.targets({"device": gpu, "smoke": False, "families": rows(0.45, 0.41),
                         "tfd_pixelcnn": {"speedup_of_cached": 140.}})
  assert verdict["mfu_40pct_transformer_glow_mixed_xla"].startswith("met")
  assert verdict["pixelcnn_cached_100x_tfd"] == "met, 140x"
  verdict = acc.targets({"device": gpu, "smoke": False, "families": rows(0.45, 0.3)})
  assert verdict["mfu_40pct_transformer_glow_mixed_xla"].startswith("missed")
  assert verdict["pixelcnn_cached_100x_tfd"].startswith("not measured")
  cpu = acc.targets({"device": {"kind": "CPU"}, "smoke": False, "families": {}})
  assert set(cpu.values()) == {"not measured: no GPU"}


def _check_smoke(r, names, mirrored):
  assert r["device"]["kind"] == "CPU" and r["device"]["mixed_policy"] == "mixed_bfloat16"
  assert r["device"]["peak_source"] == "measured matmul" and r["device"]["peak"]["float32"] > 1e9
  assert r["skipped"] == [] and set(r["families"]) == set(names)
  for name, f in r["families"].items():
    assert set(f["configs"]) == {"float32", "float32+xla", "mixed_bfloat16",
                                 "mixed_bfloat16+xla"}, name
    assert f["forward_flops_per_example"] > 0 and f["params"] > 0
    for label, c in f["configs"].items():
      assert c["finite"] and c["examples_per_s"] > 0 and 0 < c["mfu"] < 1, (name, label)
      assert not c["loss_scaled"]                       # bfloat16 needs no loss scaling
      if label.endswith("+xla"):
        assert c["peak_memory_mb"] is None              # XLA's buffers are its own on a CPU
      elif mirrored:                                    # the BFC allocator: statistics
        assert c["peak_memory_mb"] > 0
    assert f["sampling"]["examples_per_s"] > 0
  assert set(r["targets"].values()) == {"not measured: no GPU"}
  if "gated_pixelcnn" in names:
    assert r["tfd_pixelcnn"]["speedup_of_cached"] > 0
  if mirrored:
    assert r["mirrored"]["replicas"] == 2 and r["mirrored"]["glow"]["batch"] == 8
    assert r["mirrored"]["glow"]["scaling_efficiency"] > 0
  else:
    assert "mirrored" not in r


def test_accelerator_smoke_run_measures_every_config(tmp_path, capsys):
  """The one-command GPU benchmark at tiny sizes, in this process: the four
  precision/XLA configs, FLOPs and MFU, sampling against tfd.PixelCNN."""
  import json
  acc = _bench_module("accelerator")
  out = tmp_path / "results.json"
  acc.main(["--smoke", "--only", "gated_pixelcnn", "--results", str(out)])
  _check_smoke(json.loads(out.read_text())["accelerator"], ["gated_pixelcnn"], mirrored=False)
  printed = capsys.readouterr().out
  assert "gated_pixelcnn" in printed and "tfd.PixelCNN" in printed and "target" in printed


@pytest.mark.slow  # a fresh process with two logical CPUs
def test_accelerator_smoke_run_with_two_replicas_and_allocator_statistics(tmp_path):
  import json
  import os
  import subprocess
  import sys
  out = tmp_path / "results.json"
  env = {k: v for k, v in os.environ.items() if k != "TF_CPU_ALLOCATOR_USE_BFC"}
  run = subprocess.run([sys.executable, str(BENCH / "accelerator.py"), "--smoke", "--only",
                        "glow", "gated_pixelcnn", "--replicas", "2", "--results", str(out)],
                       capture_output=True, text=True, timeout=600, env=env)
  assert run.returncode == 0, run.stderr[-3000:]
  _check_smoke(json.loads(out.read_text())["accelerator"], ["glow", "gated_pixelcnn"],
               mirrored=True)
  assert "2 replicas" in run.stdout

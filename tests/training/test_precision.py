"""slow_bfloat16_reason reads the CPU's flags: native bfloat16 or not."""

from tfgen.training import precision

AMX = ("processor\t: 0\nmodel name\t: Intel(R) Xeon(R) Platinum 8480C\n"
       "flags\t\t: fpu sse2 avx2 avx512f avx512_bf16 amx_tile amx_bf16\n")
AVX2 = "processor\t: 0\nmodel name\t: AMD EPYC\nflags\t\t: fpu sse2 avx avx2 fma\n"


def test_cpu_features_reads_model_and_flags(tmp_path):
  path = tmp_path / "cpuinfo"
  path.write_text(AMX)
  model, flags = precision.cpu_features(str(path))
  assert model == "Intel(R) Xeon(R) Platinum 8480C"
  assert {"avx2", "avx512_bf16", "amx_bf16"} <= flags and "fma" not in flags
  assert precision.cpu_features(str(tmp_path / "missing")) == (None, None)


def test_bfloat16_is_slow_only_without_native_support(tmp_path, monkeypatch):
  monkeypatch.setattr(precision.tf.config, "list_physical_devices", lambda kind=None: [])
  amx, avx2 = tmp_path / "amx", tmp_path / "avx2"
  amx.write_text(AMX)
  avx2.write_text(AVX2)
  assert precision.slow_bfloat16_reason(str(amx)) is None
  reason = precision.slow_bfloat16_reason(str(avx2))
  assert "AMD EPYC" in reason and "no AVX512-BF16 or AMX" in reason
  assert precision.slow_bfloat16_reason(str(tmp_path / "missing")) is None  # unknown: no warning
  # A GPU does bfloat16 itself, whatever the CPU.
  monkeypatch.setattr(precision.tf.config, "list_physical_devices", lambda kind=None: ["gpu"])
  assert precision.slow_bfloat16_reason(str(avx2)) is None

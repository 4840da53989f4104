"""The README's Python examples run as written."""

import pathlib
import re

import pytest

README = pathlib.Path(__file__).resolve().parents[1] / "README.md"


def _blocks():
  return re.findall(r"```python\n(.*?)```", README.read_text(), flags=re.S)


@pytest.mark.slow  # real data or a fresh process: CI runs it (pytest -m slow)
def test_readme_has_examples_and_they_run(capsys):
  blocks = _blocks()
  assert len(blocks) >= 2
  for code in blocks:
    exec(compile(code, str(README), "exec"), {})
  out = capsys.readouterr().out
  assert "(256,)" in out and "2\n" in out and "True" in out and "bits_per_dim" in out and "(64,)" in out and "64\n" in out and "glow/1" in out
  assert "(2, 3, 4, 4, 1)" in out and "(5, 3)" in out   # the distributions section
  assert "(2, 3, 4, 4, 1)" in out and "(5, 3)" in out   # the distributions section


def test_readme_commands_match_ci():
  ci = (README.parent / ".ci" / "run").read_text()
  assert "bash scripts/setup.sh && .venv/bin/python -m pytest" in README.read_text()
  assert "bash scripts/setup.sh && .venv/bin/python -m pytest" in ci


def test_readme_results_table_is_generated_from_bench_results():
  import importlib.util
  import json
  spec = importlib.util.spec_from_file_location("bench_report", README.parent / "bench" / "report.py")
  report = importlib.util.module_from_spec(spec)
  spec.loader.exec_module(report)
  results = json.loads((README.parent / "bench" / "results.json").read_text())
  text = README.read_text()
  assert report.section(results) in text, "run: .venv/bin/python bench/report.py --readme"
  assert report.update_readme(text, results) == text
  assert "| PixelCNN sampling" in report.table(results)

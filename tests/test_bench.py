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

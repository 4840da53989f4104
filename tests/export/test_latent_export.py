"""Two-stage exports (VQ-VAE + prior, text-to-image) load without tfgen and match Python."""

import json

import numpy as np
import pytest

from tests.conftest import perturb, run_tensorflow_only
from tfgen import export
from tfgen.latent import VQVAE, CodePrior, TextToImage

SCRIPT = r"""
import numpy as np
import tensorflow as tf
m = tf.saved_model.load(@PATH@)
x = tf.constant(np.load(@X@).astype(np.int32))
result = {"signatures": sorted(m.signatures)}
result["codes"] = {k: v.numpy().tolist() for k, v in m.signatures["encode"](x=x).items()}
maps = {k: tf.constant(v) for k, v in result["codes"].items()}
result["decoded"] = m.signatures["decode"](**maps)["images"].numpy().tolist()
result["reconstructed"] = m.signatures["reconstruct"](x=x)["reconstructions"].numpy().tolist()
result["log_prob"] = m.signatures["serving_default"](x=x, **@EXTRA@)["log_prob"].numpy().tolist()
s = m.signatures["sample"](num_samples=tf.constant(2), seed=tf.constant([3, 4]),
                           temperature=tf.constant(0.9), **@SAMPLE_EXTRA@)["samples"]
result["samples"], result["dtype"] = s.numpy().tolist(), s.dtype.name
bad = {k: tf.fill(tf.shape(v), 99) for k, v in maps.items()}
try:
  m.signatures["decode"](**bad)
  result["bad_codes"] = "accepted"
except tf.errors.InvalidArgumentError as e:
  result["bad_codes"] = str(e)
"""


def _vq(levels):
  vq = VQVAE((8, 8, 1), levels=levels, num_codes=6, code_dim=3, hidden_channels=4,
             num_residual_blocks=1)
  perturb(vq, 0.3)
  return vq


def _prior():
  m = CodePrior(_vq(2), filters=4, num_layers=1, num_classes=3)
  perturb(m, 0.3)
  extra, sample_extra = "{'condition': tf.constant([0, 2])}", "{'condition': tf.constant([1, 1])}"
  return m, [0, 2], extra, sample_extra, lambda: m.sample(2, seed=[3, 4], temperature=0.9,
                                                           condition=[1, 1])


def _text_to_image():
  m = TextToImage(_vq(1), text_length=24, num_layers=1, d_model=8, num_heads=2)
  perturb(m, 0.3)
  captions = m.captions_of([0, 2])
  extra = "{'condition': tf.constant(%s)}" % json.dumps(captions.tolist())
  sample_extra = "{'prompt': tf.constant(%s)}" % json.dumps(list(b"bag"))
  return m, captions, extra, sample_extra, lambda: m.sample(2, seed=[3, 4], temperature=0.9,
                                                            prompt="bag")


@pytest.mark.parametrize("build", [_prior, _text_to_image], ids=["code_prior", "text_to_image"])
def test_served_two_stage_model_matches_python(build, tmp_path):
  model, condition, extra, sample_extra, sample = build()
  x = np.random.default_rng(0).integers(0, 256, size=(2, 8, 8, 1))
  np.save(tmp_path / "x.npy", x)
  path = export.save(model, tmp_path / "m")
  script = (SCRIPT.replace("@PATH@", repr(path)).replace("@X@", repr(str(tmp_path / "x.npy")))
            .replace("@SAMPLE_EXTRA@", sample_extra).replace("@EXTRA@", extra))
  result = run_tensorflow_only(script)
  assert result["mods"] == []
  assert result["signatures"] == ["decode", "encode", "reconstruct", "sample", "serving_default"]
  codes = model.vqvae.encode(x)
  assert result["codes"] == {name: c.numpy().tolist()
                             for name, c in zip(model.vqvae.code_names, codes)}
  np.testing.assert_array_equal(result["decoded"], model.vqvae.decode(codes))
  np.testing.assert_array_equal(result["reconstructed"], model.vqvae.reconstruct(x))
  np.testing.assert_allclose(result["log_prob"], model.log_prob(x, condition), rtol=1e-4)
  assert result["dtype"] == "uint8"
  np.testing.assert_array_equal(result["samples"], sample())
  assert "[0, 5]" in result["bad_codes"]


def test_served_prompts_are_checked_in_the_graph(tmp_path):
  model = _text_to_image()[0]
  path = export.save(model, tmp_path / "m")
  script = """
import tensorflow as tf
m = tf.saved_model.load(%r)
result = {}
for name, prompt in [("empty", []), ("zero byte", [0, 65]), ("not a byte", [300]),
                     ("too long", [65] * 25), ("good", [98, 97, 103])]:
  try:
    s = m.signatures["sample"](num_samples=tf.constant(1), seed=tf.constant([1, 2]),
                               temperature=tf.constant(1.0), prompt=tf.constant(prompt, tf.int32))
    result[name] = "ok %%s" %% s["samples"].dtype.name
  except tf.errors.InvalidArgumentError as e:
    result[name] = str(e)
""" % path
  result = run_tensorflow_only(script)
  assert "`prompt` is empty" in result["empty"]
  assert "[1, 255]" in result["zero byte"]
  assert "[0, 255]" in result["not a byte"]
  assert "1 to 24 bytes" in result["too long"]
  assert result["good"] == "ok uint8"

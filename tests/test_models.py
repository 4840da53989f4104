"""The family registry (tfgen.models): families from other packages arrive
through the ``tfgen.families`` entry-point group, in a fresh process."""

import json
import os
import subprocess
import sys
import textwrap

import pytest

from tfgen import models

PLUGIN = textwrap.dedent('''
    import tensorflow as tf
    from tfgen import base
    from tfgen.autoregressive import sampling
    from tfgen.family import ModelFamily


    class Histogram(base.LikelihoodModel):
      """p(x) = prod_d Categorical(x_d | softmax(w_d))."""

      def __init__(self, image_shape, num_levels=256, name="histogram", **kwargs):
        super().__init__(name=name, **kwargs)
        self.event_shape, self.num_levels = tuple(image_shape), num_levels
        self.w = tf.Variable(tf.zeros(list(image_shape) + [num_levels]), name="w")

      def _log_prob(self, x, condition, training=False):
        log_p = tf.nn.log_softmax(self.w)
        return tf.reduce_sum(tf.one_hot(x, self.num_levels) * log_p, axis=[1, 2, 3, 4])

      def _sample(self, n, seed, temperature, condition):
        noise = sampling.gumbel_noise(tf.concat([[n], tf.shape(self.w)], 0), seed)
        return sampling.gumbel_argmax(self.w, noise, temperature)

      def get_config(self):
        return {**super().get_config(), "image_shape": self.event_shape,
                "num_levels": self.num_levels}


    FAMILY = ModelFamily("plugin_histogram", Histogram, "a plug-in family", "fashion_mnist",
                         demo={}, tiny={"image_shape": (2, 2, 1), "num_levels": 4})


    def broken():
      raise RuntimeError("this plug-in is broken")
''')


def _install(site, entry_points):
  """A distribution in folder ``site`` whose entry points are ``entry_points``."""
  (site / "tfgen_plugin.py").write_text(PLUGIN)
  info = site / "tfgen_plugin-0.1.dist-info"
  info.mkdir()
  (info / "METADATA").write_text("Metadata-Version: 2.1\nName: tfgen-plugin\nVersion: 0.1\n")
  (info / "entry_points.txt").write_text("[tfgen.families]\n" + entry_points)


def test_a_family_from_another_package_is_found_in_a_fresh_process(tmp_path):
  _install(tmp_path, "histogram = tfgen_plugin:FAMILY\nbroken = tfgen_plugin:broken\n")
  script = textwrap.dedent("""
      import json
      from tfgen import models
      family = models.FAMILIES["plugin_histogram"]
      model = family.build_tiny()
      print(json.dumps({"names": sorted(models.FAMILIES), "dims": model.num_dims,
                        "sample": model.sample(2, seed=1).numpy().tolist()}))
  """)
  env = dict(os.environ, PYTHONPATH=f"{tmp_path}{os.pathsep}{os.environ.get('PYTHONPATH', '')}",
             TF_CPP_MIN_LOG_LEVEL="3")
  out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                       env=env, timeout=300)
  assert out.returncode == 0, out.stderr[-2000:]
  result = json.loads(out.stdout.strip().splitlines()[-1])
  assert "plugin_histogram" in result["names"] and "glow" in result["names"]
  assert result["dims"] == 4 and len(result["sample"]) == 2
  # The broken entry point is skipped, named, and breaks nothing else.
  assert "skipped model family 'broken'" in out.stderr and "this plug-in is broken" in out.stderr


def test_register_refuses_a_taken_name_and_a_non_family():
  with pytest.raises(ValueError, match="already registered"):
    models.register(models.ModelFamily("glow", object, "", "fashion_mnist", demo={}))
  with pytest.raises(ValueError, match="ModelFamily"):
    models.register("glow")

"""tfgen.export.Exported: an export read back with TensorFlow's loader, used
by `tfgen sample` / `evaluate` on saved_models/NAME[/VERSION]."""

import json
import os

import numpy as np
import pytest

from tfgen import export
from tfgen.autoregressive import WaveNet
from tfgen.flows import Glow


@pytest.fixture(scope="module")
def glow_export(tmp_path_factory):
  model = Glow((4, 4, 1), levels=1, steps_per_level=2, hidden_channels=8)
  x = np.random.default_rng(0).integers(0, 256, size=(6, 4, 4, 1)).astype(np.uint8)
  model.log_prob(x)                                     # ActNorm's data-dependent init
  base = tmp_path_factory.mktemp("zoo") / "glow"
  export.save(model, base, version=1, metadata={"model": "glow", "data": "fashion_mnist"})
  export.save(model, base, version=3, metadata={"model": "glow", "data": "fashion_mnist"})
  return model, base, x


def test_the_newest_version_is_taken_and_behaves_as_the_model(glow_export):
  model, base, x = glow_export
  loaded = export.Exported(base)
  assert loaded.path == os.path.join(str(base), "3") and export.version_dir(base / "1") == \
      os.path.join(str(base), "1")
  assert loaded.can_sample and not loaded.is_sequence and loaded.sample_options() == set()
  np.testing.assert_array_equal(loaded.sample(5, seed=7, temperature=0.6).numpy(),
                                model.sample(5, seed=7, temperature=0.6).numpy())
  result = loaded.evaluate([x[:4], x[4:]])
  lp = model._fixed_log_prob(model._check_data(x), None).numpy()   # served: fixed noise
  np.testing.assert_allclose(result["loss"], -lp.mean(), rtol=1e-4)
  np.testing.assert_allclose(result["bits_per_dim"], -lp.mean() / (16 * np.log(2)), rtol=1e-4)
  assert "bits/dim" in loaded.describe(result)


def test_bad_requests_are_value_errors(glow_export):
  loaded = export.Exported(glow_export[1])
  with pytest.raises(ValueError, match="num_samples"):
    loaded.sample(0, seed=1)
  with pytest.raises(ValueError, match=r"\[0, 255\]|\[0, 256\)"):
    loaded.evaluate([np.full((2, 4, 4, 1), 300, np.int32)])
  with pytest.raises(ValueError, match="empty"):
    loaded.evaluate([])


def test_sequence_exports_take_a_length(tmp_path):
  model = WaveNet(2, 1, 4, 4, 4, num_levels=8)
  export.save(model, tmp_path / "w", metadata={"model": "wavenet", "data": "speech"})
  loaded = export.Exported(tmp_path / "w")
  assert loaded.is_sequence
  np.testing.assert_array_equal(loaded.sample(2, seed=3, length=20).numpy(),
                                model.sample(2, seed=3, length=20).numpy())


def test_folders_that_are_not_tfgen_exports_are_refused(glow_export, tmp_path):
  _, base, _ = glow_export
  with pytest.raises(FileNotFoundError, match="No SavedModel"):
    export.Exported(tmp_path)
  assert export.version_dir(tmp_path / "missing") is None
  bare = tmp_path / "bare"
  export.save(glow_export[0], bare, version=1)                     # no metadata
  with pytest.raises(ValueError, match="without tfgen's metadata"):
    export.Exported(bare)
  (bare / "1" / "assets.extra" / "tfgen.json").write_text("{not json")
  with pytest.raises(ValueError, match="not readable tfgen metadata"):
    export.Exported(bare)
  (bare / "1" / "assets.extra" / "tfgen.json").write_text(json.dumps(["fashion_mnist"]))
  with pytest.raises(ValueError, match="expected a JSON object with `data`"):
    export.Exported(bare)
  (bare / "1" / "saved_model.pb").write_bytes(b"garbage")
  (bare / "1" / "assets.extra" / "tfgen.json").write_text(json.dumps({"data": "x"}))
  with pytest.raises(ValueError, match="cannot be loaded"):
    export.Exported(bare)
  with pytest.raises(ValueError, match="metadata"):
    export.save(glow_export[0], tmp_path / "m", metadata={"bad": object()})
  assert not (tmp_path / "m").exists()

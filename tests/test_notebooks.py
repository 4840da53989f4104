"""The notebooks run top to bottom (at small sizes) and are stored without outputs."""

import os
import pathlib

import nbformat
import pytest
from nbclient import NotebookClient

NOTEBOOKS = pathlib.Path(__file__).resolve().parents[1] / "notebooks"
SMALL = {
    "flows.ipynb": ("STEPS_2D = 30\nGLOW_STEPS = 2\nBATCH = 16\n"
                    "GLOW_SIZE = dict(levels=1, steps_per_level=2, hidden_channels=8)\n"
                    "TEST_IMAGES = 100"),
    "pixelcnn.ipynb": "TRAIN_STEPS = 3\nFILTERS = 8\nLAYERS = 2",
    "wavenet.ipynb": ("TRAIN_STEPS = 3\nLAYERS_PER_STACK = 4\nSTACKS = 1\nCHANNELS = 8\n"
                      "SECONDS = 0.05"),
    "sequence_models.ipynb": ("TRAIN_STEPS = 4\nUNITS = 16\nCONTEXT = 32\nIMAGE_STEPS = 2\n"
                              "SAMPLE_TOKENS = 32"),
    "vqvae.ipynb": "VQ_STEPS = 5\nPRIOR_STEPS = 3\nT2I_STEPS = 3\nNUM_CODES = 16\nHIDDEN = 8",
    "autoregressive_flows.ipynb": ("STEPS_2D = 5\nSIZES = [4, 8]\nNADE_D = 16\nVAE_STEPS = 5\n"
                                   "VAE_TEST = 100\nVAE_K = 4"),
    "parallel_and_video.ipynb": ("TEACHER_STEPS = 2\nSTUDENT_STEPS = 2\nIMAGE_STEPS = 2\n"
                                 "VIDEO_STEPS = 2\nSIZES = [8, 16]\nWINDOW = 256"),
}


def _parameters_cell(nb):
  cells = [c for c in nb.cells if "parameters" in c.metadata.get("tags", [])]
  assert len(cells) == 1, "each notebook has one cell tagged 'parameters'"
  return cells[0]


def test_every_notebook_is_listed_and_stored_without_outputs():
  assert sorted(p.name for p in NOTEBOOKS.glob("*.ipynb")) == sorted(SMALL)
  for path in NOTEBOOKS.glob("*.ipynb"):
    nb = nbformat.read(path, as_version=4)
    for cell in nb.cells:
      if cell.cell_type == "code":
        assert cell.outputs == [] and cell.execution_count is None, f"{path.name}: strip outputs"


# Each notebook takes 30 s or more on 2 cores: they run with -m slow (and in CI).
@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(SMALL))
def test_notebook_runs_top_to_bottom(name, tmp_path, fmnist_available):
  nb = nbformat.read(NOTEBOOKS / name, as_version=4)
  _parameters_cell(nb).source = SMALL[name]
  if name in ("wavenet.ipynb", "parallel_and_video.ipynb") and not os.path.isdir(
      "/usr/share/asterisk/sounds/en_US_f_Allison"):
    pytest.skip("asterisk-core-sounds-en-wav not installed")
  if name == "sequence_models.ipynb" and not os.path.isdir("/usr/share/games/fortunes"):
    pytest.skip("fortunes not installed")
  NotebookClient(nb, timeout=600, kernel_name="python3",
                 resources={"metadata": {"path": str(tmp_path)}}).execute()
  outputs = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs]
  assert not [o for o in outputs if o.output_type == "error"]
  assert any("image/png" in o.get("data", {}) for o in outputs), "the notebook draws pictures"

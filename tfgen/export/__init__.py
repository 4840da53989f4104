"""SavedModel export for TensorFlow Serving, and exports read back."""

from tfgen.export.loaded import Exported, version_dir
from tfgen.export.saved_model import save

__all__ = ["Exported", "save", "version_dir"]

"""SavedModel export for TensorFlow Serving."""

from tfgen.export.saved_model import save

__all__ = ["save"]

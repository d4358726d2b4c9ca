"""DL Explorer core: data, models, training, evaluation and tracking, without a UI.

Nothing here imports streamlit, and TensorFlow/Keras are imported lazily (see ``backend``).
"""

from dl_core.errors import ConfigError, DataError, DLExplorerError, TrackingError, TrainingError

__all__ = ["ConfigError", "DLExplorerError", "DataError", "TrackingError", "TrainingError"]
__version__ = "0.1.0"

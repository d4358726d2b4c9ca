"""Model zoo. Importing this package registers every built-in architecture."""

from dl_core.models import cnn, cnn1d, fnn, recurrent  # noqa: F401
from dl_core.models import copula, tvae, ctgan  # noqa: F401,E402  (generators after predictors)
from dl_core.models import conv_vae, dcgan  # noqa: F401,E402  (image generators)
from dl_core.models import image_kde  # noqa: F401,E402  (their non-neural yardstick)
from dl_core.models.registry import (
    ModelEntry,
    get_model,
    list_models,
    register_model,
    unregister_model,
)

__all__ = ["ModelEntry", "get_model", "list_models", "register_model", "unregister_model"]

"""MLflow "models from code" definition of the pyfunc wrapper (logged by ``tracking``).

MLflow copies this file into every logged model; loading it builds a :class:`Predictor` from
the model's artifacts, so ``mlflow.pyfunc.load_model(uri).predict(raw_dataframe)`` works on raw
CSV rows without pickling any Python object.
"""

import mlflow
from mlflow.pyfunc import PythonModel


class DLExplorerModel(PythonModel):
    """Keras model + fitted preprocessing, predicting raw rows."""

    def load_context(self, context):
        from dl_core.predictor import Predictor

        a = context.artifacts
        self.predictor = Predictor.load(a["keras_model"], a["preprocessor"], a["meta"])

    def predict(self, context, model_input, params=None):
        # Binary: the threshold saved with the run (in meta.json, which saving a threshold on
        # the Evaluate page rewrites), unless the caller passes one.
        threshold = (params or {}).get("threshold")
        return self.predictor.predict(
            model_input, threshold=None if threshold is None else float(threshold))


mlflow.models.set_model(DLExplorerModel())

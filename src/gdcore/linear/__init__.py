"""Linear models trained by gdcore's fused mini-batch epoch loops.

:class:`SGDClassifier` and :class:`SGDRegressor` follow scikit-learn's API
(parameter names, attributes, methods; they pass scikit-learn's
``check_estimator`` but for the two sample-weight-equivalence checks that
scikit-learn's own SGD estimators fail too) and add ``optimizer=``, ``optimizer_params=``,
``batch_size=``, ``schedule=``, ``shuffle="block"`` (and the default
``shuffle="auto"``), ``progress=`` and a
``loss_curve_``.  scikit-learn is optional: without it the estimators still
fit and predict dense numpy data.

>>> import numpy as np
>>> from gdcore.linear import SGDClassifier
>>> rng = np.random.default_rng(0)
>>> X = rng.standard_normal((500, 4))
>>> y = (X[:, 0] - X[:, 1] > 0).astype(int)
>>> clf = SGDClassifier(loss="log_loss", random_state=0).fit(X, y)
>>> clf.score(X, y) > 0.97
True
"""

from ._classifier import SGDClassifier
from ._regressor import SGDRegressor

__all__ = ["SGDClassifier", "SGDRegressor"]

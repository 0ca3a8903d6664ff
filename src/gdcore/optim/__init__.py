"""Optimizers with torch.optim's names, defaults, update rules and state_dict."""

from ._adadelta import Adadelta
from ._adagrad import Adagrad
from ._adam import Adam, AdamW
from ._adamax import Adamax
from ._clip import NonFiniteNormError, clip_grad_norm_, clip_grad_value_, total_norm
from ._lion import Lion
from ._nadam import NAdam
from ._optimizer import Optimizer
from ._radam import RAdam
from ._rmsprop import RMSprop
from ._sgd import SGD

__all__ = [
    "Adadelta",
    "Adagrad",
    "Adam",
    "AdamW",
    "Adamax",
    "Lion",
    "NAdam",
    "NonFiniteNormError",
    "Optimizer",
    "RAdam",
    "RMSprop",
    "SGD",
    "clip_grad_norm_",
    "clip_grad_value_",
    "total_norm",
]

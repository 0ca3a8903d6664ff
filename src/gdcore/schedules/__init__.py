"""Learning-rate schedules: plain callables from step number to learning rate.

A schedule ``s`` maps the step ``k`` -- the number of optimizer steps taken
before the current one -- to a rate; pass it as ``lr`` to any gdcore
optimizer, which calls ``s(0)``, ``s(1)``, ... on successive steps::

    >>> import numpy as np, gdcore.optim
    >>> from gdcore.schedules import cosine, warmup
    >>> s = warmup(cosine(0.1, T_max=100), warmup_steps=10)
    >>> opt = gdcore.optim.SGD([np.zeros(3)], lr=s)
    >>> s(10), s(np.arange(3))
    (0.1, array([0.  , 0.01, 0.02]))

Step ``k`` is the rate torch's matching scheduler has set after ``k`` calls of
``scheduler.step()``; schedules are closed forms of ``k`` (no hidden state), so
``s(np.arange(n))`` evaluates a whole schedule at once.

==========================  ===============================================
schedule                    counterpart
==========================  ===============================================
:class:`constant`           torch ``ConstantLR`` with factor 1
:class:`step`               torch ``StepLR``
:class:`multistep`          torch ``MultiStepLR``
:class:`exponential`        torch ``ExponentialLR``
:class:`polynomial`         torch ``PolynomialLR``
:class:`linear`             torch ``LinearLR``
:class:`cosine`             torch ``CosineAnnealingLR``
:class:`cosine_restarts`    torch ``CosineAnnealingWarmRestarts`` (SGDR)
:class:`cyclic`             torch ``CyclicLR``
:class:`one_cycle`          torch ``OneCycleLR``
:class:`inverse_sqrt`       "Attention is all you need", fairseq ``inverse_sqrt``
:class:`invscaling`         scikit-learn SGD ``learning_rate='invscaling'``
:class:`optimal`            scikit-learn SGD ``learning_rate='optimal'``
:class:`warmup`             linear warm-up before a (shifted) schedule
:class:`join`               optax ``join_schedules``
``factor * s``              scaled schedule
:class:`ReduceLROnPlateau`  torch ``ReduceLROnPlateau`` (acts on an optimizer)
==========================  ===============================================
"""

from ._base import Schedule, constant
from ._compose import join, warmup
from ._cyclic import cosine_restarts, cyclic, one_cycle
from ._decay import cosine, exponential, inverse_sqrt, invscaling, linear, multistep, optimal, polynomial, step
from ._plateau import ReduceLROnPlateau

__all__ = [
    "ReduceLROnPlateau",
    "Schedule",
    "constant",
    "cosine",
    "cosine_restarts",
    "cyclic",
    "exponential",
    "inverse_sqrt",
    "invscaling",
    "join",
    "linear",
    "multistep",
    "one_cycle",
    "optimal",
    "polynomial",
    "step",
    "warmup",
]

"""``tritensor.nn``: modules, parameters, functional ops, init and utilities (``torch.nn``)."""
from . import functional, init, utils  # noqa: F401
from .modules import (BCELoss, BCEWithLogitsLoss, BatchNorm1d, CrossEntropyLoss, Dropout, ELU,  # noqa: F401
                      Embedding, Flatten, GELU, Hardtanh, HuberLoss, Identity, KLDivLoss, L1Loss, LayerNorm,
                      LeakyReLU, Linear, LogSigmoid, LogSoftmax, Module, ModuleDict, ModuleList, MSELoss,
                      NLLLoss, ParameterDict, ParameterList, ReLU, ReLU6, Sequential, SiLU, Sigmoid,
                      SmoothL1Loss, Softmax, Softplus, Tanh, TripletMarginLoss, Unflatten)
from .parameter import Buffer, Parameter  # noqa: F401

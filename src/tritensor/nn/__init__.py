"""``tritensor.nn``: modules, parameters, functional ops, init and utilities (``torch.nn``)."""
from . import functional, init, utils  # noqa: F401
from .modules import (BCELoss, BCEWithLogitsLoss, BatchNorm1d, CELU, CrossEntropyLoss, Dropout,  # noqa: F401
                      ELU, Embedding, Flatten, GELU, GLU, Hardsigmoid, Hardswish, Hardtanh, HuberLoss,
                      Identity, KLDivLoss, L1Loss, LayerNorm, LeakyReLU, Linear, LogSigmoid, LogSoftmax, Mish,
                      Module, ModuleDict, ModuleList, MSELoss, NLLLoss, ParameterDict, ParameterList, ReLU,
                      ReLU6, SELU, Sequential, SiLU, Sigmoid, SmoothL1Loss, Softmax, Softplus, Softsign, Tanh,
                      Tanhshrink, Threshold, TripletMarginLoss, Unflatten)
from .modules import (AdaptiveAvgPool1d, AdaptiveAvgPool2d, AdaptiveMaxPool1d, AdaptiveMaxPool2d,  # noqa: F401
                      AvgPool1d, AvgPool2d, BatchNorm2d, Conv1d, Conv2d, Conv3d, Dropout1d, Dropout2d,
                      MaxPool1d, MaxPool2d)
from .parameter import Buffer, Parameter  # noqa: F401

"""``tritensor.nn``: modules, parameters, functional ops, init and utilities (``torch.nn``)."""
from . import functional, init, parallel, utils  # noqa: F401
from .parallel import DataParallel  # noqa: F401
from .modules import *  # noqa: F401,F403  (every layer class, as torch.nn exports them)
from .parameter import Buffer, Parameter  # noqa: F401
from . import attention  # noqa: E402,F401  (torch.nn.attention: SDPBackend, sdpa_kernel)

"""``torch.nn.modules.batchnorm``: the batch norm layers and their bases under torch's module
path, for code that names them there (``isinstance(m, batchnorm._BatchNorm)``,
``torch.serialization.safe_globals`` lists)."""
from .compat import SyncBatchNorm  # noqa: F401
from .lazy import LazyBatchNorm1d, LazyBatchNorm2d, LazyBatchNorm3d  # noqa: F401
from .normalization import BatchNorm1d, BatchNorm2d, BatchNorm3d, _BatchNorm, _NormBase  # noqa: F401

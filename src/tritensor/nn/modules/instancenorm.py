"""``torch.nn.modules.instancenorm``: the instance norm layers and their base under torch's
module path, for code that names them there (``isinstance`` checks, ``safe_globals`` lists)."""
from .lazy import LazyInstanceNorm1d, LazyInstanceNorm2d, LazyInstanceNorm3d  # noqa: F401
from .normalization import InstanceNorm1d, InstanceNorm2d, InstanceNorm3d, _InstanceNorm, _NormBase  # noqa: F401

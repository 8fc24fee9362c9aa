"""``torch.nn.modules.pixelshuffle``: PixelShuffle and PixelUnshuffle under torch's module path,
for code that names them there (``isinstance`` checks, ``torch.serialization.safe_globals`` lists)."""
from .misc import PixelShuffle, PixelUnshuffle  # noqa: F401

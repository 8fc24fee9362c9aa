"""``torch.nn.modules.fold``: Fold and Unfold under torch's module path, for code that names
them there (``isinstance`` checks, ``torch.serialization.safe_globals`` lists)."""
from .misc import Fold, Unfold  # noqa: F401

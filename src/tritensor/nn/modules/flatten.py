"""``torch.nn.modules.flatten``: Flatten and Unflatten under torch's module path, for code that names
them there (``isinstance`` checks, ``torch.serialization.safe_globals`` lists)."""
from .misc import Flatten, Unflatten  # noqa: F401

"""``torch.nn.modules.sparse``: Embedding and EmbeddingBag under torch's module path, for code that names
them there (``isinstance`` checks, ``torch.serialization.safe_globals`` lists)."""
from .misc import Embedding, EmbeddingBag  # noqa: F401

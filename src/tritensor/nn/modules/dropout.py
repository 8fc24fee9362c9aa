"""``torch.nn.modules.dropout``: the dropout layers under torch's module path, for code that
names them there (``isinstance(m, dropout._DropoutNd)``, ``safe_globals`` lists)."""
from .misc import AlphaDropout, Dropout, Dropout1d, Dropout2d, Dropout3d, FeatureAlphaDropout  # noqa: F401

#: torch's common base of the dropout layers; here every one of them subclasses Dropout
_DropoutNd = Dropout

"""``torch.nn.modules.channelshuffle``: ChannelShuffle under torch's module path, for code that names
them there (``isinstance`` checks, ``torch.serialization.safe_globals`` lists)."""
from .misc import ChannelShuffle  # noqa: F401

"""``tritensor.utils``: data loading (``utils.data``), activation checkpointing and hook handles."""
from . import checkpoint, data, hooks  # noqa: F401

"""``tritensor.utils``: data loading (``utils.data``), activation checkpointing and hook handles."""
from . import checkpoint, data, deterministic, hooks  # noqa: F401

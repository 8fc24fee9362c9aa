"""``tritensor.version``: package and backend versions."""
__version__ = "0.1.0"
cuda = None  # no CUDA backend in this build
git_version = "unknown"

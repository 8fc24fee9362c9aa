"""``torch.backends.mps``: Apple's Metal backend, which tritensor does not have; scripts ask
``torch.backends.mps.is_available()`` when they pick a device."""


def is_available() -> bool:
    return False


def is_built() -> bool:
    return False

"""``Size``: the tuple subclass returned by ``Tensor.size()`` and ``Tensor.shape``."""


class Size(tuple):
    """A tuple of ints that prints as ``torch.Size([2, 3])``, exactly like PyTorch's."""

    __slots__ = ()

    def __new__(cls, sizes=()):
        return tuple.__new__(cls, (_as_int(s) for s in sizes))

    def __repr__(self):
        return f"torch.Size({list(self)})"

    __str__ = __repr__

    def numel(self):
        n = 1
        for s in self:
            n *= s
        return n

    def __getitem__(self, item):
        result = tuple.__getitem__(self, item)
        return Size(result) if isinstance(item, slice) else result

    def __add__(self, other):
        return Size(tuple.__add__(self, tuple(other)))

    def __radd__(self, other):
        return Size(tuple(other) + tuple(self))

    def __mul__(self, n):
        return Size(tuple.__mul__(self, n))

    __rmul__ = __mul__

    def __reduce__(self):
        return (Size, (tuple(self),))


def _as_int(s):
    try:
        return int(s.__index__())
    except AttributeError:
        raise TypeError(f"Size elements must be integers, got {type(s).__name__}") from None

"""Grad-mode switches: no_grad, enable_grad, set_grad_enabled, inference_mode.

The flag lives in a module global read on every op (``grad_mode.enabled``), which is
the cheapest lookup Python offers on the hot path.
"""
import functools

enabled = True


def is_grad_enabled() -> bool:
    return enabled


class _GradModeContext:
    """Base for the grad-mode context managers; each also works as a decorator."""

    _target = True

    def __enter__(self):
        global enabled
        self._prev = enabled
        enabled = self._target

    def __exit__(self, *exc):
        global enabled
        enabled = self._prev
        return False

    def __call__(self, func):
        @functools.wraps(func)
        def wrapper(*args, **kwargs):
            with self.__class__(*self._ctor_args()):
                return func(*args, **kwargs)
        return wrapper

    def _ctor_args(self):
        return ()

    def clone(self):
        return self.__class__(*self._ctor_args())


class no_grad(_GradModeContext):
    """Disable gradient recording inside the block or decorated function."""

    _target = False

    def __init__(self, orig_func=None):
        # ``@no_grad`` without parentheses passes the function here.
        self._orig = orig_func

    def __new__(cls, orig_func=None):
        self = super().__new__(cls)
        if callable(orig_func):
            self.__init__()
            return self(orig_func)
        return self


class enable_grad(_GradModeContext):
    """Re-enable gradient recording inside a no_grad block."""

    _target = True

    def __new__(cls, orig_func=None):
        self = super().__new__(cls)
        if callable(orig_func):
            return self(orig_func)
        return self

    def __init__(self, orig_func=None):
        pass


class set_grad_enabled(_GradModeContext):
    """Set grad mode to ``mode``; takes effect at once (like torch) and in a with block."""

    def __init__(self, mode: bool):
        global enabled
        self._target = bool(mode)
        self._prev = enabled
        enabled = self._target

    def __enter__(self):
        pass

    def __exit__(self, *exc):
        global enabled
        enabled = self._prev
        return False

    def _ctor_args(self):
        return (self._target,)

    def __call__(self, func):
        global enabled
        enabled = self._prev  # decorating must not change the mode now
        target = self._target

        @functools.wraps(func)
        def wrapper(*args, **kwargs):
            with set_grad_enabled(target):
                return func(*args, **kwargs)
        return wrapper


class inference_mode(_GradModeContext):
    """Like no_grad, and tensors made inside are inference tensors (``Tensor.is_inference``):
    outside the mode they cannot be written in place or saved for backward."""

    def __init__(self, mode=True):
        self._target = not mode
        self._mode = mode

    def __new__(cls, mode=True):
        self = super().__new__(cls)
        if callable(mode):
            self.__init__(True)
            return self(mode)
        return self

    def __enter__(self):
        global inference
        super().__enter__()
        self._prev_inference = inference
        inference = bool(self._mode)

    def __exit__(self, *exc):
        global inference
        inference = self._prev_inference
        return super().__exit__(*exc)

    def _ctor_args(self):
        return (self._mode,)


inference = False


def is_inference_mode_enabled() -> bool:
    return inference

"""finfo and iinfo against torch: every limit, the printed text, the errors."""
import pytest
import torch

import tritensor

FLOATS = ["float16", "bfloat16", "float32", "float64"]
INTS = ["uint8", "int8", "int16", "int32", "int64"]


@pytest.mark.parametrize("name", FLOATS)
def test_finfo_matches_torch(name):
    ours, theirs = tritensor.finfo(getattr(tritensor, name)), torch.finfo(getattr(torch, name))
    for field in ("bits", "eps", "max", "min", "tiny", "smallest_normal", "resolution", "dtype"):
        assert getattr(ours, field) == getattr(theirs, field), field
        assert type(getattr(ours, field)) is type(getattr(theirs, field)), field
    assert repr(ours) == repr(theirs)
    assert ours == tritensor.finfo(getattr(tritensor, name))


def test_finfo_defaults_to_the_default_dtype():
    assert repr(tritensor.finfo()) == repr(torch.finfo())
    tritensor.set_default_dtype(tritensor.float64)
    try:
        assert tritensor.finfo().dtype == "float64"
    finally:
        tritensor.set_default_dtype(tritensor.float32)


@pytest.mark.parametrize("name", INTS)
def test_iinfo_matches_torch(name):
    ours, theirs = tritensor.iinfo(getattr(tritensor, name)), torch.iinfo(getattr(torch, name))
    for field in ("bits", "max", "min", "dtype"):
        assert getattr(ours, field) == getattr(theirs, field), field
        assert type(getattr(ours, field)) is type(getattr(theirs, field)), field
    assert repr(ours) == repr(theirs)


@pytest.mark.parametrize("call", [lambda lib: lib.finfo(lib.int32), lambda lib: lib.iinfo(lib.float32),
                                  lambda lib: lib.iinfo(lib.bool), lambda lib: hash(lib.finfo(lib.float32))])
def test_type_info_errors_like_torch(call):
    with pytest.raises(TypeError) as theirs:
        call(torch)
    with pytest.raises(TypeError) as ours:
        call(tritensor)
    if "unhashable" not in str(theirs.value):
        assert str(ours.value) == str(theirs.value)

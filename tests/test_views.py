"""View ops against torch: values, shapes, STRIDES, storage sharing, gradients, errors."""
import numpy as np
import pytest
import torch

import tritensor
from harness import DEVICE, Arg, check, dev, gradcheck

rng = np.random.default_rng(0)


def data(*shape, dtype="float32"):
    return rng.standard_normal(shape).astype(dtype)


def views(fn, *inputs, **kw):
    """check() with strides compared: a view must have torch's geometry."""
    return check(fn, *inputs, check_stride=True, **kw)


X = Arg(data(2, 3, 4))
XG = Arg(data(2, 3, 4, dtype="float64"), requires_grad=True)
XT = Arg(data(4, 3), transpose=True)  # (3, 4) non-contiguous


@pytest.mark.parametrize("shape", [(6, 4), (-1,), (2, -1, 2), (24,), (4, 3, 2), (1, 24, 1), (2, 12)])
def test_view_shapes(shape):
    views(lambda lib, x: x.view(*shape), X)
    views(lambda lib, x: x.view(shape), X)
    views(lambda lib, x: x.reshape(shape), X)
    views(lambda lib, x: x.view(shape), XG)


def test_view_incompatible_strides_and_errors():
    views(lambda lib, x: x.view(12), XT)  # RuntimeError in both
    views(lambda lib, x: x.view(3, 2, 2), XT)
    views(lambda lib, x: x.view(4, 3), XT)
    views(lambda lib, x: x.view(-1, -1), X)
    views(lambda lib, x: x.view(5, -1), X)
    views(lambda lib, x: x.view(7), X)
    views(lambda lib, x: x.reshape(-1, 5), X)
    views(lambda lib, x: x.view(0, -1), Arg(data(0, 3)))


@pytest.mark.parametrize("call", [
    lambda lib, x: x.view(2.5, 2), lambda lib, x: x.view((3.0, 4)), lambda lib, x: x.view(True, 12),
    lambda lib, x: x.view(3, None), lambda lib, x: x.view(lib.tensor(3.0), 4),
    lambda lib, x: x.reshape(2.0, 6),
    lambda lib, x: x.reshape((6, 2.0)), lambda lib, x: x.expand(1.0, 3, 4), lambda lib, x: x.permute(1.0, 0),
    lambda lib, x: x.transpose(0.0, 1), lambda lib, x: x.flatten(1.0), lambda lib, x: x.unsqueeze(True),
    lambda lib, x: x.narrow(0, 1.0, 1), lambda lib, x: x.narrow(1, 0, 2.0), lambda lib, x: x.sum("a"),
    lambda lib, x: x.narrow(1, lib.tensor(1.0), 2), lambda lib, x: x.narrow(1, lib.tensor([1]), 2),
])
def test_sizes_must_be_ints(call):
    """A float, bool or None size, dim or index is torch's TypeError, never truncated to an int
    (narrow's start as a float or 1-d tensor: its RuntimeError)."""
    views(call, X)


def test_sizes_accept_integer_types():
    views(lambda lib, x: x.view(np.int64(4), lib.tensor(3)), X)
    views(lambda lib, x: x.reshape([np.int32(2), -1]), X)
    views(lambda lib, x: x.expand(lib.tensor(2), 3, 4), Arg(data(1, 3, 4)))
    views(lambda lib, x: x.narrow(np.int64(1), lib.tensor(1), np.int64(2)), X)
    check(lambda lib, x: (x.sum(np.int64(1)), x.mean((np.int32(0), 2))), X)


def test_view_of_permuted_and_sliced():
    views(lambda lib, x: x.permute(1, 0, 2).view(3, 2, 2, 2), X)
    views(lambda lib, x: x[:, 1:].view(2, 8), X)
    views(lambda lib, x: x.transpose(0, 1)[1].view(2, 2, 2), X)
    views(lambda lib, x: x[:, :, ::2].view(6, 2), X)
    views(lambda lib, x: x.expand(5, 3, 4).view(5, 12), Arg(data(1, 3, 4)))
    views(lambda lib, x: x.expand(5, 3, 4).reshape(60), Arg(data(1, 3, 4)))
    views(lambda lib, x: x.view(()), Arg(data(1)))
    views(lambda lib, x: x.view(1, 1), Arg(np.array(2.0, np.float32)))


def test_reshape_copies_when_needed():
    def f(lib, x):
        r = x.reshape(12)
        shares = r.data_ptr() == x.data_ptr()
        r2 = x.t().reshape(12)
        return r, r2, shares, r2.data_ptr() == x.data_ptr()
    views(f, Arg(data(3, 4)))
    views(lambda lib, x: (x.reshape(12), x.reshape(2, 6)), XT)
    views(lambda lib, x: x.reshape(2, 6), Arg(data(4, 3, dtype="float64"), transpose=True,
                                              requires_grad=True))


def test_flatten_unflatten_ravel():
    views(lambda lib, x: (x.flatten(), x.flatten(1), x.flatten(0, 1), x.flatten(-2, -1), x.flatten(1, 1),
                          lib.flatten(x, start_dim=1)), X)
    views(lambda lib, x: (x.flatten(), x.ravel()), XT)
    views(lambda lib, x: x.flatten(), Arg(np.array(3.0, np.float32)))
    views(lambda lib, x: x.flatten(2, 1), X)
    views(lambda lib, x: (x.unflatten(1, (3, 1)), x.unflatten(-1, (2, -1)), lib.unflatten(x, 2, (2, 2))), X)
    views(lambda lib, x: x.unflatten(2, (3, 3)), X)
    views(lambda lib, x: x.flatten(1), XG)
    views(lambda lib, x: x.unflatten(1, (3, 1)), XG)


def test_squeeze_unsqueeze():
    y = Arg(data(1, 3, 1, 2))
    views(lambda lib, x: (x.squeeze(), x.squeeze(0), x.squeeze(1), x.squeeze(-2), x.squeeze((0, 2)),
                          lib.squeeze(x, (0, 1, 2))), y)
    views(lambda lib, x: (x.unsqueeze(0), x.unsqueeze(-1), x.unsqueeze(2), x.unsqueeze(4)), y)
    views(lambda lib, x: x.unsqueeze(5), y)
    views(lambda lib, x: x.squeeze(4), y)
    views(lambda lib, x: (x.unsqueeze(0), x.unsqueeze(-1), x.squeeze(), x.squeeze(0)),
          Arg(np.array(2.0, np.float32)))
    views(lambda lib, x: (x.unsqueeze(1), x.unsqueeze(0)), XT)
    views(lambda lib, x: (x.unsqueeze(1), x[:, ::2].unsqueeze(2)), X)
    views(lambda lib, x: (x.squeeze(), x.squeeze(0), x.squeeze((0, 2)), x.unsqueeze(1)),
          Arg(data(1, 3, 1, dtype="float64"), requires_grad=True))


def test_inplace_squeeze_unsqueeze_transpose():
    def f(lib, x):
        y = x.clone()
        y.unsqueeze_(0)
        a = y.shape
        y.squeeze_()
        b = y.shape
        y.t_()
        c = y.stride()
        y.transpose_(0, 1)
        return y, tuple(a), tuple(b), c
    views(f, Arg(data(3, 4)))


def test_transpose_family():
    views(lambda lib, x: (x.transpose(0, 1), x.transpose(-1, 0), lib.transpose(x, 1, 2), x.swapaxes(0, 2),
                          x.swapdims(1, 1), x.permute(2, 0, 1), x.permute((1, 2, 0)), x.permute(-1, 0, 1),
                          x.movedim(0, -1), x.movedim((0, 1), (2, 0)), lib.moveaxis(x, 1, 0), x.mT,
                          x.permute(2, 1, 0)), X)
    views(lambda lib, x: (x.t(), x.T, x.mT, lib.t(x), x.t().t()), Arg(data(3, 4)))
    views(lambda lib, x: (x.t(), x.T), Arg(data(3)))
    views(lambda lib, x: x.t(), Arg(np.array(1.0, np.float32)))
    views(lambda lib, x: x.t(), X)  # RuntimeError
    views(lambda lib, x: x.transpose(0, 3), X)  # IndexError
    views(lambda lib, x: x.permute(0, 1), X)
    views(lambda lib, x: x.permute(0, 1, 1), X)
    views(lambda lib, x: x.movedim((0, 1), (2,)), X)
    views(lambda lib, x: (x.transpose(0, 2), x.permute(1, 2, 0), x.t() if x.dim() == 2 else x.mT,
                          x.movedim(0, 2)), XG)
    views(lambda lib, x: x.t(), Arg(data(3, 4, dtype="float64"), requires_grad=True))


def test_expand_broadcast():
    y = Arg(data(3, 1))
    views(lambda lib, x: (x.expand(3, 4), x.expand(2, 3, 4), x.expand(-1, 5), x.expand((2, 3, 1)),
                          lib.broadcast_to(x, (2, 3, 6)), x.expand_as(lib.zeros(2, 3, 2, device=x.device)),
                          x.expand(3, 1)), y)
    views(lambda lib, x: x.expand(4, 4), y)
    views(lambda lib, x: x.expand(3), y)
    views(lambda lib, x: x.expand(-1, 3, 1), y)
    views(lambda lib, x: x.expand(2, -1, -2), y)
    views(lambda lib, x: x.expand(2, 3), Arg(np.array(1.5, np.float32)))
    views(lambda lib, x: lib.broadcast_tensors(x, lib.ones(2, 1, 5, device=x.device)), y)
    views(lambda lib, x: (x.expand(2, 3, 4), x.expand(3, 2)),
          Arg(data(3, 1, dtype="float64"), requires_grad=True))
    views(lambda lib, x: x.expand(2, 3, 4), Arg(data(3, 4), transpose=True))


def test_narrow_select_slicing():
    views(lambda lib, x: (x.narrow(0, 1, 1), x.narrow(2, 1, 2), x.narrow(-1, -2, 2), lib.narrow(x, 1, 0, 0),
                          x.select(0, 1), x.select(-1, -1), lib.select(x, 1, 2), x[1], x[:, 1:3], x[..., ::2],
                          x[1, :, 2], x[:, -1]), X)
    views(lambda lib, x: x.narrow(0, 1, 5), X)
    views(lambda lib, x: x.select(0, 2), X)
    views(lambda lib, x: x.select(3, 0), X)
    views(lambda lib, x: (x.narrow(1, 1, 2), x.select(0, 1), x.select(2, -1), x[:, ::2]), XG)
    views(lambda lib, x: (x.narrow(1, 1, 2), x.select(0, 1)), XT)


def test_splitting():
    x = Arg(data(7, 4))
    views(lambda lib, t: (t.split(3), t.split([2, 5]), t.split(2, 1), lib.split(t, [1, 1, 2], dim=1),
                          t.chunk(3), t.chunk(4, 1), t.chunk(8), t.unbind(), t.unbind(1), lib.unbind(t, -1),
                          t.tensor_split(3), t.tensor_split([1, 5]), t.tensor_split((2, 9), dim=0),
                          t.tensor_split(3, dim=1), lib.tensor_split(t, [3, 1])), x)
    views(lambda lib, t: t.split([2, 2]), x)
    views(lambda lib, t: t.chunk(0), x)
    views(lambda lib, t: t.split(0), x)
    views(lambda lib, t: (t.split(2), t.chunk(2, 1), t.unbind(1), t.tensor_split(2)),
          Arg(data(4, 3, dtype="float64"), requires_grad=True))
    views(lambda lib: (lib.zeros(0, 3, device=dev(lib)).split(2), lib.zeros(0, 3, device=dev(lib)).chunk(3)))


def test_diagonal():
    views(lambda lib, x: (x.diagonal(), x.diagonal(1), x.diagonal(-1), x.diagonal(5), x.diagonal(-4),
                          lib.diagonal(x, 0, 1, 0)), Arg(data(3, 4)))
    views(lambda lib, x: (x.diagonal(0, 0, 2), x.diagonal(1, -1, -2), x.diagonal(dim1=1, dim2=2)), X)
    views(lambda lib, x: x.diagonal(0, 1, 1), X)
    views(lambda lib, x: (x.diagonal(), x.diagonal(1, 1, 2)), XG)
    views(lambda lib, x: x.diagonal(), XT)


def test_as_strided_unfold():
    views(lambda lib, x: (x.as_strided((2, 2), (1, 2)), x.as_strided((3,), (3,), 1),
                          lib.as_strided(x, (2, 3), (3, 1), 2)), Arg(data(12)))
    views(lambda lib, x: (x.unfold(0, 3, 2), x.unfold(1, 2, 1), x.unfold(-1, 4, 4)), Arg(data(5, 4)))
    views(lambda lib, x: x.unfold(0, 6, 1), Arg(data(5, 4)))
    views(lambda lib, x: (x.unfold(0, 2, 1), x.as_strided((2, 2), (1, 1))),
          Arg(data(4, dtype="float64"), requires_grad=True))


def test_as_strided_gradient_follows_storage_positions():
    """as_strided's strides address the input's storage: on a transposed or offset input the
    gradient lands where the storage positions are, not where the input's elements would be
    if it were contiguous; positions outside the input drop out; double backward too."""
    def fn(lib, x):
        return (lib.as_strided(x.t(), (2, 2), (1, 2)), lib.as_strided(x[1:], (3, 3), (1, 1), 4),
                x.t().as_strided((2, 3), (1, 3), 1))
    check(fn, Arg(data(4, 3, dtype="float64"), requires_grad=True))

    def double(lib, x, v):
        y = lib.as_strided(x.t(), (3, 2), (2, 1), 1)
        g, = lib.autograd.grad((y * y).sum(), x, create_graph=True)
        return (g * v).sum()
    check(double, Arg(data(4, 3, dtype="float64"), requires_grad=True),
          Arg(data(4, 3, dtype="float64"), requires_grad=True))
    gradcheck(lambda lib, x: x.t().as_strided((2, 3), (2, 1), 1) ** 2, data(4, 3, dtype="float64"))


def test_view_gradcheck():
    gradcheck(lambda lib, x: x.view(6, 2).t().unsqueeze(0).expand(3, 2, 6).diagonal(0, 1, 2),
              data(3, 4, dtype="float64"))
    gradcheck(lambda lib, x: x.unfold(0, 3, 1).select(1, 2) * x.narrow(0, 0, 4).unsqueeze(1),
              data(6, dtype="float64"))
    gradcheck(lambda lib, x: lib.stack(x.chunk(2, 1)).permute(2, 0, 1).flatten(), data(3, 4, dtype="float64"))


def test_storage_sharing_and_version():
    def f(lib, x):
        x = x.clone()
        v0 = x._version
        y = x.view(12)
        z = x.t()
        s = x[1]
        y[0] = 100.0
        z[3, 2] = -5.0
        s.fill_(7.0)
        d = x.diagonal()
        d.zero_()
        return x, y, z, s, x._version - v0, y._version == x._version, s._version == x._version
    views(f, Arg(data(3, 4)))


def test_contiguity_metadata():
    def f(lib, x):
        t = x.t()
        parts = x[:, ::2]
        return (x.is_contiguous(), t.is_contiguous(), parts.is_contiguous(), t.contiguous().is_contiguous(),
                t.contiguous().stride(), x.stride(), x.stride(0), x.stride(-1), t.stride(), x.size(),
                x.size(1), x.size(-1), x.shape, x.dim(), x.ndim, x.numel(), x.nelement(), x.element_size(),
                x[1:].storage_offset(), x[1, 2:].storage_offset(), x.select(1, 2).storage_offset(),
                len(x), x.expand(2, 3, 4).is_contiguous(), x[:1].is_contiguous(),
                (x[1:].data_ptr() - x.data_ptr()) // x.element_size(),
                x.view(-1)[3:].data_ptr() - x.data_ptr(),
                x.unsqueeze(0).expand(1, 3, 4).is_contiguous())
    views(f, Arg(data(3, 4)))
    views(lambda lib: (lib.zeros(0, 3, device=dev(lib)).is_contiguous(),
                       lib.zeros(0, 3, device=dev(lib)).stride(),
                       lib.zeros(3, 0, device=dev(lib)).t().is_contiguous()))
    views(lambda lib, x: (x.stride(), x.is_contiguous(), x.dim(), x.numel()), Arg(np.array(1.0, np.float32)))
    views(lambda lib, x: x.stride(2), Arg(data(3, 4)))
    views(lambda lib, x: (x.element_size(), x.double().element_size(), x.half().element_size(),
                          x.bool().element_size(), x.long().element_size()), Arg(data(2)))


def test_contiguous_is_identity_when_contiguous():
    x = tritensor.ones(2, 3, device=DEVICE)
    assert x.contiguous() is x
    t = x.t()
    c = t.contiguous()
    assert c is not t and c.is_contiguous() and c.stride() == (2, 1)


def test_size_object():
    x = tritensor.zeros(2, 3, 4, device=DEVICE)
    assert repr(x.shape) == repr(torch.zeros(2, 3, 4).shape) == "torch.Size([2, 3, 4])"
    assert str(x.size()) == "torch.Size([2, 3, 4])"
    assert isinstance(x.shape, tritensor.Size) and isinstance(x.shape, tuple)
    assert x.shape == (2, 3, 4) and x.shape[1:] == (3, 4) and isinstance(x.shape[1:], tritensor.Size)
    assert x.shape.numel() == 24
    assert repr(tritensor.zeros((), device=DEVICE).shape) == "torch.Size([])"
    assert tritensor.Size([2, 3]) + (4,) == (2, 3, 4)
    assert isinstance(tritensor.Size([2, 3]) + (4,), tritensor.Size)
    assert tritensor.zeros(tritensor.Size([2, 5]), device=DEVICE).shape == (2, 5)
    assert tritensor.ones(2, 3, device=DEVICE).view(x.shape[:2]).shape == (2, 3)


def test_view_as_dtype():
    f32 = Arg(np.arange(6, dtype=np.float32).reshape(2, 3))
    i8 = Arg(np.arange(8, dtype=np.int8).reshape(2, 4))
    views(lambda lib,
          x: (x.view(lib.int32), x.view(lib.float16), x.view(lib.uint8), x.view(lib.int16)[:, 1:]), f32)
    views(lambda lib, x: (x.view(lib.int32), x.view(lib.int16), x[:, 2:].view(lib.int16), x.view(lib.bool)),
          i8)
    views(lambda lib, x: x.view(lib.int32).view(lib.float32), f32)
    views(lambda lib, x: x.t().view(lib.float16), f32)
    views(lambda lib, x: x.view(lib.float64), i8)
    views(lambda lib, x: x[:, 1:].view(lib.int16), i8)
    views(lambda lib, x: x[0, 0].view(lib.float16), f32)
    views(lambda lib, x: x[0, 0].view(lib.int32), f32)

    def shares(lib, x):
        v = x.view(lib.int32)
        v[0, 0] = 1065353216  # the bits of 1.0f
        return x
    views(shares, f32)


def test_inplace_views_keep_autograd():
    def f(lib, x):
        y = x * 2
        y.unsqueeze_(0)
        a = y.grad_fn
        y.squeeze_(0)
        b = y.grad_fn
        y.t_()
        c = y.grad_fn
        y.transpose_(0, 1)
        y.unsqueeze_(1).squeeze_((1,))
        z = (x * 1).unsqueeze(0)
        z.squeeze_()
        return y * lib.arange(4.0, dtype=lib.float64, device=x.device), z, type(a).__name__, \
            type(b).__name__, type(c).__name__, type(z.grad_fn).__name__
    views(f, Arg(data(3, 4, dtype="float64"), requires_grad=True))
    views(lambda lib, x: x.t_(), Arg(data(3, 4, dtype="float64"), requires_grad=True))  # leaf: RuntimeError
    views(lambda lib, x: x.unsqueeze_(0), Arg(data(3, 4, dtype="float64"), requires_grad=True))


@pytest.mark.parametrize("dtype", ["float32", "float64", "bfloat16", "int64", "bool"])
@pytest.mark.parametrize("shape,make", [
    ((37, 70), lambda x: x.t()),                      # a matrix
    ((3, 17, 5), lambda x: x.transpose(1, 2)),        # a batch of them
    ((4, 6, 9), lambda x: x.permute(2, 0, 1)),        # merged dims on one side
    ((1, 300), lambda x: x.t()),                      # a vector: nothing to transpose
])
def test_transposing_copies(dtype, shape, make):
    """contiguous() / clone of views contiguous along another axis (on 'cuda': by tiles)."""
    check(lambda lib, x: make(x).contiguous(), Arg(data(*shape), dtype), check_stride=True)
    check(lambda lib, x: make(x).clone(memory_format=lib.contiguous_format), Arg(data(*shape), dtype),
          check_stride=True)


@pytest.mark.parametrize("pieces", [
    lambda lib, t: t.unbind(0),
    lambda lib, t: t.unbind(1),
    lambda lib, t: t.split(2),
    lambda lib, t: lib.split(t, [1, 0, 4, 1], 0),
    lambda lib, t: t.chunk(4, 1),
])
def test_split_pieces_are_one_node(pieces):
    """split/chunk/unbind pieces share one node (torch's SplitBackward0 ...): unused pieces
    give zeros, and the input's gradient is assembled once."""
    def use_some(lib, t):
        parts = pieces(lib, t * 1)
        return parts[0] * 3 + parts[-1] * parts[-1]
    check(use_some, Arg(np.arange(18.0).reshape(6, 3), requires_grad=True))
    check(lambda lib, t: pieces(lib, t), Arg(np.arange(18.0).reshape(6, 3), requires_grad=True))


def test_split_pieces_in_place():
    """Refused while autograd records (torch's multiple-views error), allowed otherwise."""
    check(lambda lib, t: (t * 1).split(2)[0].add_(1), Arg(np.zeros(4), requires_grad=True))
    check(lambda lib, t: (t * 1).unbind(0)[1].mul_(2), Arg(np.zeros((2, 2)), requires_grad=True))

    def under_no_grad(lib, t):
        with lib.no_grad():
            for row in t.unbind(0):
                row.add_(2)
            t.chunk(2, 1)[1].fill_(-1)
        return t
    check(under_no_grad, Arg(np.zeros((2, 4)), requires_grad=True))
    check(lambda lib, t: [p.add_(1) for p in t.split(1)] and t, np.zeros(3))


@pytest.mark.cpu_only  # the CPU's copy loop; millions of elements are too many for the interpreter
@pytest.mark.parametrize("dtype", ["float32", "float64", "float16", "bfloat16", "int8", "bool"])
@pytest.mark.parametrize("shape,perm", [
    ((64, 32, 26, 26), "im2col"), ((1024, 1024), (1, 0)), ((8, 9, 10, 11, 12, 13), (5, 3, 1, 0, 2, 4)),
    ((2, 3, 4, 5, 6, 7, 8, 9), (7, 6, 5, 4, 3, 2, 1, 0)), ((64, 3, 96, 96), (0, 2, 3, 1)),
])
def test_large_strided_copies(shape, perm, dtype):
    """contiguous() of large permuted / windowed tensors (the CPU's Numba loop from 2^20
    elements; ranks it cannot hold after merging dims go to numpy) equals torch's."""
    data = np.random.default_rng(0).standard_normal(shape)

    def copy(lib, x):
        if perm == "im2col":  # the (C, kh, kw, N, oh, ow) columns of a 3x3 convolution
            v = x.as_strided((32, 3, 3, 64, 24, 24), (676, 26, 1, 21632, 26, 1))
        else:
            v = x.permute(perm)
        return v.contiguous()
    check(copy, Arg(data, dtype), check_stride=True)

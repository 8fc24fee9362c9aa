"""``F.grid_sample`` / ``torch.grid_sampler`` and ``F.affine_grid`` / ``torch.affine_grid_generator``.

grid_sample reads an (N, C, *spatial) input at the (N, *out, n) normalised points of ``grid``
(component 0 is x, the last spatial dim). Along each spatial dim a point becomes a few taps
(position, weight): nearest one, bilinear two, bicubic four, so every mode and rank is one
mechanism: the product of the per-dim taps (broadcast, weights multiplied), all read with one
``gather`` of the flattened input and summed weighted per point; taps outside the input read
zero. Coordinates follow torch's CPU kernels: unnormalise (corner pixel centres at -1 and 1
with ``align_corners``, else pixel edges), then pad: 'border' clips to the input,
'reflection' mirrors at the borders (the corner centres, or the edges without
``align_corners``) and clips. Bicubic pads each of its taps
rather than the point, as torch does.

The backward (named like torch's node, ``GridSampler2DBackward0`` / ``3D``) recomputes that
composite under autograd and differentiates it: the input's gradient is the gathers' adjoint
(scatter-adds of the weighted gradient), the grid's comes through the weights; positions from
floor / round / clipping carry none, as in torch's kernels (a clipped coordinate has gradient
zero, a reflected one changes sign).
"""
from __future__ import annotations

import math
import warnings

from .. import autograd, dtypes as _dt, ops
from ..autograd.function import Function
from ..autograd.grad_mode import enable_grad
from ..ops.elementwise import _torch_name, not_implemented_for

#: torch's integer codes of ``torch.grid_sampler``'s mode and padding mode
MODES = ("bilinear", "nearest", "bicubic")
PADDING_MODES = ("zeros", "border", "reflection")
_CUBIC_A = -0.75  # the bicubic convolution's parameter, as torch's kernels
_LOW_PRECISION = (_dt.float16, _dt.bfloat16)
_ALIGN_WARNING = ("Default grid_sample and affine_grid behavior has changed to align_corners=False since "
                  "1.3.0. Please specify align_corners=True if the old behavior is desired. See the "
                  "documentation of grid_sample for details.")


# ---------------------------------------------------------------------------- coordinates
def _unnormalize(coord, size, align_corners):
    """A normalised coordinate in [-1, 1] as a pixel position of a dim of ``size``."""
    if align_corners:
        return (coord + 1) / 2 * (size - 1)
    return ((coord + 1) * size - 1) / 2


def _clip(coord, size):
    """``coord`` clamped into [0, size - 1]; a clamped coordinate has gradient zero, also at
    the bounds themselves (torch's ``clip_coordinates_set_grad``)."""
    inside = (coord > 0) & (coord < size - 1)
    return ops.where(inside, coord, coord.detach().clamp(0, size - 1))


def _reflect(coord, size, align_corners):
    """``coord`` mirrored at the borders (corner centres, or pixel edges without
    ``align_corners``) until it falls between them; the gradient's sign flips per mirror."""
    twice_low, twice_high = (0, 2 * (size - 1)) if align_corners else (-1, 2 * size - 1)
    if twice_low == twice_high:
        return coord.detach() * 0
    low, span = twice_low / 2, (twice_high - twice_low) / 2
    distance = (coord - low).abs()
    extra = ops.fmod(distance, span)
    flips = (distance.detach() / span).floor()
    return ops.where(ops.fmod(flips, 2) == 0, extra + low, span - extra + low)


def _pad(coord, size, padding_mode, align_corners):
    if padding_mode == "border":
        return _clip(coord, size)
    if padding_mode == "reflection":
        return _clip(_reflect(coord, size, align_corners), size)
    return coord


def _cubic_weights(t):
    """The four bicubic convolution weights of taps at -1, 0, 1, 2 for fraction ``t``."""
    a = _CUBIC_A

    def near(x):  # |x| <= 1
        return ((a + 2) * x - (a + 3)) * x * x + 1

    def far(x):  # 1 < |x| < 2
        return ((a * x - 5 * a) * x + 8 * a) * x - 4 * a
    return far(t + 1), near(t), near(1 - t), far(2 - t)


def _dim_taps(coord, size, mode, padding_mode, align_corners):
    """(positions, weights or None), each (N, Q, taps): what ``mode`` reads along one dim for
    the (N, Q) pixel coordinates ``coord`` (positions are float and may lie outside the dim:
    those read zero)."""
    if mode == "bicubic":
        base = coord.floor()
        offsets = ops.arange(-1, 3, dtype=coord.dtype, device=coord.device)
        positions = _pad(base.unsqueeze(-1) + offsets, size, padding_mode, align_corners)
        return positions, ops.stack(_cubic_weights(coord - base), -1)
    coord = _pad(coord, size, padding_mode, align_corners)
    if mode == "nearest":
        return coord.round().unsqueeze(-1), None
    base = coord.floor()
    fraction = coord - base
    return ops.stack([base, base + 1], -1), ops.stack([1 - fraction, fraction], -1)


def _spread(t, d, n):
    """(N, Q, taps_d) viewed as (N, Q, 1, .., taps_d, .., 1): dim d of n tap dims."""
    shape = [t.shape[0], t.shape[1]] + [1] * n
    shape[2 + d] = t.shape[2]
    return t.reshape(shape)


def _sample(input, grid, mode, padding_mode, align_corners):
    """grid_sample's forward as differentiable tensor ops (see the module's docstring): every
    tap of every point in one gather, the taps of a point summed weighted."""
    n = grid.shape[-1]
    batch, channels, spatial = input.shape[0], input.shape[1], tuple(input.shape[2:])
    points = math.prod(grid.shape[1:-1])
    coords = grid.reshape(batch, points, n)
    index, inside, weight = 0, True, None
    for d, size in enumerate(spatial):  # grid component n - 1 - d addresses spatial dim d
        coord = _unnormalize(coords[..., n - 1 - d], size, align_corners)
        positions, weights = _dim_taps(coord, size, mode, padding_mode, align_corners)
        positions = _spread(positions, d, n)
        inside = inside & (positions >= 0) & (positions <= size - 1)
        index = index * size + positions.clamp(0, size - 1)
        if weights is not None:
            weights = _spread(weights, d, n)
            weight = weights if weight is None else weight * weights
    taps = math.prod(inside.shape[2:])
    index = ops.where(inside, index, 0).to(_dt.int64).reshape(batch, 1, points * taps)
    flat_input = input.reshape(batch, channels, math.prod(spatial))
    values = flat_input.gather(2, index.expand(batch, channels, points * taps))
    values = ops.where(inside.reshape(batch, 1, points * taps), values, 0)
    values = values.reshape(batch, channels, points, taps)
    if weight is not None:
        values = values * weight.reshape(batch, 1, points, taps)
    return values.sum(-1).reshape((batch, channels) + tuple(grid.shape[1:-1]))


def _work(t):
    return t.float() if t.dtype in _LOW_PRECISION else t


class _GridSampler(Function):
    """grid_sample with torch's node; the backward differentiates the recomputed composite."""

    node_name = "GridSampler2DBackward0"

    @staticmethod
    def forward(ctx, input, grid, mode, padding_mode, align_corners):
        ctx.save_for_backward(input, grid)
        ctx.options = (mode, padding_mode, align_corners)
        return _sample(_work(input), _work(grid), mode, padding_mode, align_corners).to(input.dtype)

    @staticmethod
    def backward(ctx, grad):
        input, grid = ctx.saved_tensors
        needs = ctx.needs_input_grad[:2]
        with enable_grad():
            leaves = [_work(t.detach()).requires_grad_(need) for t, need in zip((input, grid), needs)]
            out = _sample(*leaves, *ctx.options)
            wanted = [leaf for leaf, need in zip(leaves, needs) if need]
            found = iter(autograd.grad(out, wanted, _work(grad), allow_unused=True))
        grads = [_as_gradient(next(found), t) if need else None for t, need in zip((input, grid), needs)]
        return grads[0], grads[1], None, None, None


def _as_gradient(grad, t):
    """A gradient for ``t`` in its dtype; zeros where the composite did not use it (nearest
    mode's grid: torch's gradient is zero there)."""
    return ops.zeros_like(t) if grad is None else grad.to(t.dtype)


class _GridSampler3D(_GridSampler):
    node_name = "GridSampler3DBackward0"


def _check_grid_sampler(input, grid, mode):
    """ATen's checks of grid_sampler's arguments, with its messages."""
    if input.device != grid.device:
        raise RuntimeError(f"grid_sampler(): expected input and grid to be on same device, but input is on "
                           f"{input.device} and grid is on {grid.device}")
    if input.dim() != grid.dim():
        raise RuntimeError(f"grid_sampler(): expected grid to have the same number of dimensions as input, "
                           f"but got input with sizes {list(input.shape)} and grid with sizes "
                           f"{list(grid.shape)}")
    if input.dim() not in (4, 5):
        raise RuntimeError(f"grid_sampler(): expected 4D or 5D input and grid with same number of "
                           f"dimensions, but got input with sizes {list(input.shape)}")
    if input.shape[0] != grid.shape[0]:
        raise RuntimeError(f"grid_sampler(): expected grid and input to have same batch size, but got input "
                           f"with sizes {list(input.shape)} and grid with sizes {list(grid.shape)}")
    n = input.dim() - 2
    if grid.shape[-1] != n:
        raise RuntimeError(f"grid_sampler(): expected grid to have size {n} in last dimension, but got grid "
                           f"with sizes {list(grid.shape)}")
    for d in range(2, input.dim()):
        if input.shape[d] == 0:
            raise RuntimeError(f"grid_sampler(): expected input to have non-empty spatial dimensions, but "
                               f"input has sizes {list(input.shape)} with dimension {d} being empty")
    if mode == "bicubic" and n != 2:
        raise RuntimeError("grid_sampler(): bicubic interpolation only supports 4D input")
    if input.dtype is not grid.dtype:
        raise RuntimeError(f"expected scalar type {_torch_name(input.dtype)} but found "
                           f"{_torch_name(grid.dtype)}")
    if not input.dtype.is_floating_point:
        raise not_implemented_for(f"grid_sampler_{n}d_cpu_kernel_impl", input.dtype)


def grid_sampler(input, grid, interpolation_mode, padding_mode, align_corners):
    """``torch.grid_sampler``: grid_sample with the modes as torch's integer codes (0 bilinear,
    1 nearest, 2 bicubic; padding 0 zeros, 1 border, 2 reflection)."""
    mode, padding = MODES[interpolation_mode], PADDING_MODES[padding_mode]
    _check_grid_sampler(input, grid, mode)
    node = _GridSampler3D if input.dim() == 5 else _GridSampler
    return node.apply(input, grid, mode, padding, bool(align_corners))


def grid_sample(input, grid, mode="bilinear", padding_mode="zeros", align_corners=None):
    """Sample (N, C, H, W) / (N, C, D, H, W) ``input`` at the normalised points of ``grid``
    (N, H_out, W_out, 2) / (N, D_out, H_out, W_out, 3); see the module's docstring."""
    if mode not in MODES:
        raise ValueError(f"nn.functional.grid_sample(): expected mode to be 'bilinear', 'nearest' or "
                         f"'bicubic', but got: '{mode}'")
    if padding_mode not in PADDING_MODES:
        raise ValueError(f"nn.functional.grid_sample(): expected padding_mode to be 'zeros', 'border', or "
                         f"'reflection', but got: '{padding_mode}'")
    if align_corners is None:
        warnings.warn(_ALIGN_WARNING, stacklevel=2)
        align_corners = False
    return grid_sampler(input, grid, MODES.index(mode), PADDING_MODES.index(padding_mode), align_corners)


# ---------------------------------------------------------------------------- affine_grid
def _base_coordinates(steps, align_corners, dtype, device):
    """The normalised pixel centres of a dim of ``steps`` pixels (0 for a single one)."""
    if steps <= 1:
        return ops.zeros(steps, dtype=dtype, device=device)
    line = ops.linspace(-1, 1, steps, dtype=dtype, device=device)
    return line if align_corners else line * ((steps - 1) / steps)


def _base_grid(spatial, align_corners, dtype, device):
    """(prod(spatial), n + 1) rows ``[x, y, (z,) 1]`` of every output pixel, x varying fastest."""
    n = len(spatial)
    columns = []
    for d in range(n):  # column d is the coordinate along spatial dim n - 1 - d
        axis = n - 1 - d
        shape = [1] * n
        shape[axis] = spatial[axis]
        line = _base_coordinates(spatial[axis], align_corners, dtype, device).reshape(shape)
        columns.append(line.expand(spatial).reshape(-1))
    columns.append(ops.ones(columns[0].shape, dtype=dtype, device=device))
    return ops.stack(columns, 1)


class _AffineGridGenerator(Function):
    """``grid[b] = base @ theta[b].T``; the backward is ``grad[b].T @ base``."""

    node_name = "AffineGridGeneratorBackward0"

    @staticmethod
    def forward(ctx, theta, size, align_corners):
        batch, spatial = size[0], tuple(size[2:])
        base = _base_grid(spatial, align_corners, theta.dtype, theta.device)
        ctx.base = base
        grid = base.unsqueeze(0).expand(batch, *base.shape).bmm(theta.transpose(1, 2))
        return grid.reshape((batch,) + spatial + (len(spatial),))

    @staticmethod
    def backward(ctx, grad):
        batch, n = grad.shape[0], grad.shape[-1]
        rows = grad.reshape(batch, -1, n)
        base = ctx.base.unsqueeze(0).expand(batch, *ctx.base.shape)
        return rows.transpose(1, 2).bmm(base), None, None


def affine_grid_generator(theta, size, align_corners):
    """``torch.affine_grid_generator``: the (N, *spatial, n) sampling grid of affine ``theta``."""
    size = tuple(int(s) for s in size)
    n = len(size) - 2
    if theta.dim() != 3 or theta.shape[0] != size[0] or tuple(theta.shape[1:]) != (n, n + 1):
        raise RuntimeError(f"Expected size for first two dimensions of batch2 tensor to be: "
                           f"[{size[0]}, {n + 1}] but got: [{theta.shape[0]}, {theta.shape[-1]}].")
    return _AffineGridGenerator.apply(theta, size, bool(align_corners))


def affine_grid(theta, size, align_corners=None):
    """The (N, H, W, 2) / (N, D, H, W, 3) grid that ``grid_sample`` reads to apply the batch of
    affine maps ``theta`` (N, 2, 3) / (N, 3, 4) to an output of ``size`` (N, C, H, W) /
    (N, C, D, H, W)."""
    if align_corners is None:
        warnings.warn(_ALIGN_WARNING, stacklevel=2)
        align_corners = False
    if not theta.is_floating_point():
        raise ValueError(f"Expected theta to have floating point type, but got {theta.dtype}")
    size = tuple(size)
    if len(size) in (4, 5):
        n = len(size) - 2
        if theta.dim() != 3 or tuple(theta.shape[-2:]) != (n, n + 1):
            raise ValueError(f"Expected a batch of {n}D affine matrices of shape Nx{n}x{n + 1} for size "
                             f"{size}. Got {_size_repr(theta.shape)}.")
        if align_corners and min(size[2:]) == 1:
            warnings.warn("Since version 1.3.0, affine_grid behavior has changed for unit-size grids when "
                          "align_corners=True. This is not an intended use case of affine_grid. See the "
                          "documentation of affine_grid for details.", stacklevel=2)
    else:
        raise NotImplementedError(f"affine_grid only supports 4D and 5D sizes, for 2D and 3D affine "
                                  f"transforms, respectively. Got size {size}.")
    if min(size) <= 0:
        raise ValueError(f"Expected non-zero, positive output size. Got {size}")
    return affine_grid_generator(theta, size, align_corners)


def _size_repr(shape):
    return f"torch.Size([{', '.join(str(s) for s in shape)}])"

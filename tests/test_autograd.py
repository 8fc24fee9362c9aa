"""Autograd against torch: graph structure, backward/grad semantics, double backward,
tritensor.func, grad modes, hooks, custom Functions, gradcheck, in-place rules, errors.

Most cases are one ``check`` line: the lambda runs in torch and in tritensor and every
returned value (tensors, grads, node names, flags) must match, or both must raise.
"""
import re
import warnings

import numpy as np
import pytest
import torch

import tritensor
from harness import DEVICE, Arg, check, dev

rng = np.random.default_rng(0)


def data(*shape):
    return rng.uniform(-2, 2, shape)


def arg(*shape, **kw):
    """A float64 input that requires grad."""
    return Arg(data(*shape), "float64", requires_grad=True, **kw)


def graph(t, depth=6):
    """The grad_fn graph of ``t`` as nested (name, children) tuples, torch's next_functions."""
    def walk(node, d):
        if node is None:
            return None
        if d == 0:
            return type(node).__name__
        return (type(node).__name__, tuple((walk(n, d - 1), nr) for n, nr in node.next_functions))
    return walk(t.grad_fn, depth)


# ---------------------------------------------------------------- graph structure
def test_grad_fn_names_and_next_functions():
    check(lambda lib, x, w: graph((x * w + w.detach()).mean()), arg(3), arg(3))
    check(lambda lib, x: graph(((x + 1) * 2 - (2 - x) + x ** 2 + 2 ** x + x % 2).sum()), arg(3))
    check(lambda lib, x: graph((x * lib.ones(3, device=x.device)).exp().sum()), arg(3))
    check(lambda lib, x: graph(x.t().reshape(6)[1:]), arg(2, 3))
    check(lambda lib, x, y: graph(lib.cat([x, y]).sum(0)), arg(2, 2), Arg(data(1, 2)))


def test_grad_fn_repr_and_type_name():
    for lib in (torch, tritensor):
        x = lib.ones(2, requires_grad=True, device=dev(lib))
        out = (x + 1).mean()
        assert re.fullmatch(r"<MeanBackward0 object at 0x[0-9a-f]+>", repr(out.grad_fn))
        assert type(out.grad_fn).__name__ == "MeanBackward0" and out.grad_fn.name() == "MeanBackward0"
        assert "grad_fn=<MeanBackward0>" in repr(out)
        acc = out.grad_fn.next_functions[0][0].next_functions[0][0]
        assert type(acc).__name__ == "AccumulateGrad" and acc.variable is x


def test_leaf_flags():
    check(lambda lib, x: (x.is_leaf, x.requires_grad, x.grad_fn, (x * 2).is_leaf, (x * 2).requires_grad,
                          x.detach().is_leaf, x.detach().requires_grad), arg(3))
    check(lambda lib, x: ((x * 2).is_leaf, (x * 2).requires_grad, (x * 2).grad_fn), Arg(data(3)))


# ---------------------------------------------------------------- backward
def _backward_twice(lib, x):
    (x * x).sum().backward()
    (x * 3).sum().backward()
    return x.grad


def test_backward_accumulates():
    check(_backward_twice, arg(4), grad=False)


def test_backward_reduces_broadcast_dims():
    def fn(lib, x, b, s):
        (x * b + s).sum().backward()
        return x.grad, b.grad, s.grad
    check(fn, arg(2, 3), arg(3), arg())
    check(lambda lib, x, b: ((x + b).sum().backward(), b.grad)[1], arg(2, 3), arg(1, 3))


def test_backward_gradient_argument():
    def fn(lib, x, g):
        (x * x).backward(g)
        return x.grad
    check(fn, arg(2, 3), Arg(data(2, 3)))


def test_backward_retain_graph():
    def fn(lib, x):
        y = (x.exp() * x).sum()
        y.backward(retain_graph=True)
        y.backward()
        return x.grad
    check(fn, arg(3))


def test_backward_create_graph():
    def fn(lib, x):
        (x ** 3).sum().backward(create_graph=True)
        first = x.grad.clone()
        g = x.grad
        x.grad = None
        g.sum().backward()
        return first.detach(), x.grad, g.requires_grad
    check(fn, arg(3))


def test_backward_inputs():
    def only_x(lib, x, w):
        (x * w).sum().backward(inputs=[x])
        return x.grad, w.grad
    check(only_x, arg(3), arg(3))

    def non_leaf(lib, x):
        y = x * 2
        (y * y).sum().backward(inputs=[y])
        return y.grad, x.grad
    check(non_leaf, arg(3))


def test_first_gradient_is_not_aliased():
    for lib in (torch, tritensor):
        x = lib.ones(3, requires_grad=True, device=dev(lib))
        g = lib.full((3,), 2.0, device=dev(lib))
        (x * 1).backward(g)
        assert x.grad.data_ptr() != g.data_ptr()
        g.add_(1)
        assert x.grad.tolist() == [2.0, 2.0, 2.0]
        (x * 1).backward(g)
        assert x.grad.tolist() == [5.0, 5.0, 5.0]


def test_non_leaf_grad_only_with_retain_grad():
    def fn(lib, x):
        y = x * 2
        z = y * 3
        y.retain_grad()
        (z * z).sum().backward()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return y.grad, z.grad, y.retains_grad, z.retains_grad, x.grad
    check(fn, arg(3))
    for lib in (torch, tritensor):
        y = lib.ones(2, requires_grad=True, device=dev(lib)) * 2
        with pytest.warns(UserWarning, match="not a leaf Tensor"):
            assert y.grad is None


def test_multi_output_ops_partially_used():
    check(lambda lib, x: ((x.split(2)[0] * 2).sum().backward(), x.grad)[1], arg(5))
    check(lambda lib, x: ((x.chunk(3, 1)[2] ** 2).sum().backward(), x.grad)[1], arg(2, 6))
    check(lambda lib, x: ((x.unbind(0)[1]).sum().backward(), x.grad)[1], arg(3, 2))
    check(lambda lib, x: ((lambda a, b, c: a * c)(*x.split(1))).sum(), arg(3, 2))


def test_multi_output_max_dim_partially_used():
    check(lambda lib, x: x.max(dim=0)[0], arg(3, 4))
    check(lambda lib, x: (x.max(dim=1).values.sum().backward(), x.grad)[1], arg(3, 4))


# ---------------------------------------------------------------- autograd.grad
def test_autograd_grad_basic():
    check(lambda lib, x, y: lib.autograd.grad((x * y).sum(), [x, y]), arg(3), arg(3))
    check(lambda lib, x: lib.autograd.grad(x.exp(), x, lib.ones(3, dtype=lib.float64, device=x.device)),
          arg(3))
    check(lambda lib, x, y: lib.autograd.grad([(x * 2).sum(), (x * y).sum()], [x, y]), arg(3), arg(3))


def test_autograd_grad_leaves_dot_grad_alone():
    def fn(lib, x):
        g, = lib.autograd.grad((x * x).sum(), x)
        return g, x.grad
    check(fn, arg(3))


def test_autograd_grad_unused_inputs():
    check(lambda lib, x, z: lib.autograd.grad((x * 2).sum(), [x, z]), arg(3), arg(3))
    check(lambda lib, x, z: lib.autograd.grad((x * 2).sum(), [x, z], allow_unused=True), arg(3), arg(3))
    check(lambda lib, x, z: lib.autograd.grad((x * 2).sum(), [x, z], materialize_grads=True), arg(3), arg(3))
    check(lambda lib, x, z: lib.autograd.grad((x * 2).sum(), [z], allow_unused=False, materialize_grads=True),
          arg(3), arg(3))


def test_autograd_grad_non_leaf_input():
    def fn(lib, x):
        y = x.sin()
        return lib.autograd.grad((y * y).sum(), [y, x])
    check(fn, arg(4))


def test_autograd_grad_retain_graph():
    def fn(lib, x):
        y = (x * x.exp()).sum()
        a, = lib.autograd.grad(y, x, retain_graph=True)
        b, = lib.autograd.grad(y, x)
        return a, b
    check(fn, arg(3))


# ---------------------------------------------------------------- double backward
def _second(f):
    def fn(lib, x):
        g, = lib.autograd.grad(f(lib, x), x, create_graph=True)
        h, = lib.autograd.grad(g.sum(), x)
        return g.detach(), h
    return fn


@pytest.mark.parametrize("name", ["cube", "sin", "sum", "mean", "exp_mul", "tanh"])
def test_double_backward(name):
    f = {"cube": lambda lib, x: (x ** 3).sum(), "sin": lambda lib, x: x.sin().sum(),
         "sum": lambda lib, x: x.sum() ** 2, "mean": lambda lib, x: (x * x).mean() * x.mean(),
         "exp_mul": lambda lib, x: (x.exp() * x).sum(), "tanh": lambda lib, x: x.tanh().sum()}[name]
    check(_second(f), arg(2, 3))


def test_double_backward_mm():
    def fn(lib, a, b):
        out = (a.mm(b) ** 2).sum()
        ga, gb = lib.autograd.grad(out, [a, b], create_graph=True)
        return lib.autograd.grad((ga * ga).sum() + gb.sum(), [a, b])
    check(fn, arg(2, 3), arg(3, 4))


def test_hessian_vector_product():
    def fn(lib, x, v):
        y = (x.sin() * x).sum() + (x ** 2).sum() * x.sum()
        g, = lib.autograd.grad(y, x, create_graph=True)
        hv, = lib.autograd.grad(g, x, v)
        return g.detach(), hv
    check(fn, arg(4), Arg(data(4)))


def test_third_derivative():
    def fn(lib, x):
        g, = lib.autograd.grad((x ** 4).sum(), x, create_graph=True)
        h, = lib.autograd.grad(g.sum(), x, create_graph=True)
        return lib.autograd.grad(h.sum(), x)
    check(fn, arg(3))


# ---------------------------------------------------------------- tritensor.func
def _func(lib):
    return lib.func


def test_func_grad():
    check(lambda lib, x: _func(lib).grad(lambda t: (t.sin() * t).sum())(x), Arg(data(4)))
    check(lambda lib, x, y: _func(lib).grad(lambda a, b: (a * b.exp()).sum(), argnums=1)(x, y),
          Arg(data(3)), Arg(data(3)))
    check(lambda lib, x, y: _func(lib).grad(lambda a, b: (a * b.exp()).sum(), argnums=(0, 1))(x, y),
          Arg(data(3)), Arg(data(3)))
    check(lambda lib, x: _func(lib).grad(lambda t: (t * t).sum(), argnums=(0,))(x), Arg(data(3)))


def test_func_grad_results_detached_and_inputs_untouched():
    def fn(lib, x):
        g = lib.func.grad(lambda t: (t * t).sum())(x)
        return g, g.requires_grad, g.grad_fn, x.requires_grad, x.grad
    check(fn, Arg(data(3)))


def test_func_grad_has_aux_and_value():
    f = (lambda t: ((t * t).sum(), t.mean()))
    check(lambda lib, x: lib.func.grad(f, has_aux=True)(x), Arg(data(3)))
    check(lambda lib, x: lib.func.grad_and_value(f, has_aux=True)(x), Arg(data(3)))
    check(lambda lib, x: lib.func.grad_and_value(lambda t: t.exp().sum())(x), Arg(data(3)))


def test_func_value_and_grad():
    x = data(3)
    value, g = tritensor.func.value_and_grad(lambda t: t.exp().sum())(tritensor.tensor(x, device=DEVICE))
    tg, tv = torch.func.grad_and_value(lambda t: t.exp().sum())(torch.tensor(x))
    np.testing.assert_allclose(value.cpu().numpy(), tv.numpy())
    np.testing.assert_allclose(g.cpu().numpy(), tg.numpy())
    (value, aux), g = tritensor.func.value_and_grad(lambda t: (t.sum(), t * 2), has_aux=True)(
        tritensor.tensor(x, device=DEVICE))
    np.testing.assert_allclose(aux.cpu().numpy(), 2 * x)


def test_func_grad_pytree_argument():
    def fn(lib, x, y):
        g = lib.func.grad(lambda d: (d["a"] * d["b"][0]).sum())({"a": x, "b": (y,)})
        return sorted(g), g["a"], g["b"]
    check(fn, Arg(data(3)), Arg(data(3)))


def test_func_grad_of_constant_is_zero():
    check(lambda lib, x: lib.func.grad(lambda t: (t * 0).sum().detach())(x), Arg(data(3)))


def test_func_vjp():
    def fn(lib, x, y, c):
        out, vjp_fn = lib.func.vjp(lambda a, b: (a * b, a.exp()), x, y)
        return out, vjp_fn((c, c)), vjp_fn((c * 2, c))
    check(fn, Arg(data(3)), Arg(data(3)), Arg(data(3)))

    def aux(lib, x, c):
        out, vjp_fn, a = lib.func.vjp(lambda t: (t.sin(), t + 1), x, has_aux=True)
        return out, a, vjp_fn(c)
    check(aux, Arg(data(3)), Arg(data(3)))


def test_func_nested_grad():
    check(lambda lib, x: lib.func.grad(lib.func.grad(lib.sin))(x), Arg(np.array(0.7)))
    check(lambda lib, x: lib.func.grad(lib.func.grad(lambda t: (t ** 3).sum() * 1))(x[0]), Arg(data(2)))
    # inner closes over the outer variable: d/dx [d/dy (x*y)] = d/dx x = 1
    check(lambda lib, x: lib.func.grad(lambda a: lib.func.grad(lambda b: a * b)(a))(x), Arg(np.array(1.5)))


def test_func_composes_with_outer_autograd():
    def fn(lib, x, w):
        g = lib.func.grad(lambda t: (t * w * w).sum())(x)
        return g, g.requires_grad
    check(fn, Arg(data(3)), arg(3))


def test_func_errors():
    check(lambda lib, x: lib.func.grad(lambda t: t * t)(x), Arg(data(3)))
    check(lambda lib, x: lib.func.grad(lambda t: 3)(x), Arg(data(3)))
    check(lambda lib, x: lib.func.grad(lambda t: t.sum(), has_aux=True)(x), Arg(data(3)))
    check(lambda lib, x: lib.func.grad(lambda t: t.sum(), argnums=1)(x), Arg(data(3)))
    check(lambda lib, x: lib.func.grad(lambda t: t.sum(), argnums=(0, 0))(x), Arg(data(3)))
    check(lambda lib, x: lib.func.grad(lambda t: t.sum())(x), Arg(np.arange(3)))
    check(lambda lib: lib.func.grad(lambda t: t.sum())(3.0))
    check(lambda lib, x: lib.func.vjp(lambda t: t * 2, x)[1](x[:2]), Arg(data(3)))


# ---------------------------------------------------------------- grad modes
def test_no_grad_forms():
    def fn(lib, x):
        with lib.no_grad():
            a = x * 2
        f = lib.no_grad()(lambda: x * 2)
        g = lib.no_grad(lambda: x * 2)

        @lib.no_grad
        def h():
            return x * 2
        return a.requires_grad, f().requires_grad, g().requires_grad, h().requires_grad, (x * 2).requires_grad
    check(fn, arg(2))


def test_enable_and_set_grad_enabled():
    def fn(lib, x):
        with lib.no_grad():
            with lib.enable_grad():
                a = x * 2
            b = lib.enable_grad()(lambda: x * 2)()
            c = x * 2
        with lib.set_grad_enabled(False):
            d = x * 2
            inside = lib.is_grad_enabled()
        lib.set_grad_enabled(False)
        off = lib.is_grad_enabled()
        e = x * 2
        lib.set_grad_enabled(True)
        f = lib.set_grad_enabled(False)(lambda: x * 2)()
        return (a.requires_grad, b.requires_grad, c.requires_grad, d.requires_grad, inside, off,
                e.requires_grad, f.requires_grad, lib.is_grad_enabled())
    check(fn, arg(2))


def test_inference_mode():
    def fn(lib, x):
        with lib.inference_mode():
            a = x * 2
            state = (lib.is_grad_enabled(), lib.is_inference_mode_enabled())
        with lib.inference_mode(False):
            b = x * 2

        @lib.inference_mode()
        def g():
            return x * 2
        return a.requires_grad, state, b.requires_grad, g().requires_grad, lib.is_inference_mode_enabled()
    check(fn, arg(2))


def test_grad_mode_restored_after_exception():
    for lib in (torch, tritensor):
        with pytest.raises(ValueError):
            with lib.no_grad():
                raise ValueError
        assert lib.is_grad_enabled()


# ---------------------------------------------------------------- detach, requires_grad_, hooks
def test_detach_shares_storage_and_version():
    def fn(lib, x):
        y = x * 2
        d = y.detach()
        d.add_(1)
        return y, d.requires_grad, y._version, d._version, d.data_ptr() == y.data_ptr()
    check(fn, arg(3))

    def detach_(lib, x):
        y = x * 2
        y.detach_()
        return y.requires_grad, y.is_leaf, y.grad_fn
    check(detach_, arg(3))


def test_writes_through_data_are_not_seen_by_autograd():
    """``.data`` has a version counter of its own in torch: writing through it (or a view of
    it) after a tensor was saved leaves backward working, on the new values; writing through
    ``detach()`` (which shares the counter) still fails backward."""
    def through_data(lib, x, w):
        z = x * w
        w.data.mul_(10)
        w.data[0].fill_(7)
        z.sum().backward()
        return x.grad, w._version
    check(through_data, arg(3), arg(3), grad=False)

    def through_detach(lib, x, w):
        z = x * w
        w.detach().mul_(10)
        z.sum().backward()
    check(through_detach, arg(3), arg(3), grad=False)


def test_in_place_ops_record_or_refuse_like_torch():
    """Same-dtype, same-shape ``x.op_(y)`` takes a one-step lane when nothing is recorded;
    whenever autograd is involved it must still refuse or record as torch does."""
    check(lambda lib, x: x.add_(1), arg(3))  # a leaf that requires grad
    check(lambda lib, x: x[:2].mul_(2), arg(3))  # a view of one
    check(lambda lib, x, z: (x * 1).add_(z) * 2, arg(3), arg(3))  # an operand that requires grad
    check(lambda lib, x: (x * 2).mul_(3), arg(3))
    check(lambda lib, x: (x * 2)[1:].mul_(3), arg(3))  # a view of a recorded result
    check(lambda lib, x: (lambda y: (y.add_(1), y.sum().backward()))(x.exp()), arg(3))  # exp's saved result
    check(lambda lib, x: (lambda d: (d.mul_(4), d._version))(x.detach()), arg(3))


def test_saved_tensor_modified_through_detach_is_detected():
    def fn(lib, x):
        y = x.exp()
        z = y.sin()
        y.detach().mul_(2)
        z.sum().backward()
    check(fn, arg(3))


def test_requires_grad_false_on_leaf():
    def fn(lib, x):
        out = ((x + 2) * (x + 2) * 3).mean()
        out.backward()
        grad = x.grad
        x.requires_grad_(False)
        return out, grad, x.requires_grad, (x * 2).requires_grad
    check(fn, arg(2, 2), grad=False)
    check(lambda lib, x: (x * 2).requires_grad_(False), arg(2))
    check(lambda lib, x: (x * 2).requires_grad_(True).requires_grad, arg(2))


def test_register_hook_replaces_grad():
    def fn(lib, x):
        y = x * 3
        seen = []
        y.register_hook(lambda g: seen.append(g.clone()))
        h = y.register_hook(lambda g: g * 10)
        x.register_hook(lambda g: g + 1)
        (y * y).sum().backward(retain_graph=True)
        first = x.grad.clone()
        h.remove()
        x.grad = None
        (y * y).sum().backward()
        return first, x.grad, seen[0], seen[1]
    check(fn, arg(3))


def test_hook_on_leaf_seen_by_autograd_grad():
    def fn(lib, x):
        x.register_hook(lambda g: g * 2)
        return lib.autograd.grad((x * x).sum(), x)
    check(fn, arg(3))


def test_retain_grad_sees_hooked_grad_and_inplace():
    def fn(lib, x):
        y = x * 2
        y.retain_grad()
        y.register_hook(lambda g: g * 100)
        (y * y).sum().backward()
        return y.grad, x.grad
    check(fn, arg(3))

    def inplace(lib, x):
        y = x * 2
        y.retain_grad()
        y.mul_(3)
        (y * y).sum().backward()
        return y.grad, x.grad
    check(inplace, arg(3))


def test_node_hooks():
    def fn(lib, x):
        y = x * 2
        z = y.exp()
        seen = []
        z.grad_fn.register_prehook(lambda gout: seen.append(gout[0].clone()))
        z.grad_fn.register_hook(lambda gin, gout: seen.append(gin[0].clone()))
        z.sum().backward()
        return seen[0], seen[1], x.grad
    check(fn, arg(3))


def test_post_accumulate_grad_hook():
    def fn(lib, x):
        seen = []
        x.register_post_accumulate_grad_hook(lambda t: seen.append(t.grad.clone()))
        (x * 2).sum().backward()
        return seen[0]
    check(fn, arg(3))


def test_grad_setter_checks():
    check(lambda lib, x: setattr(x, "grad", lib.zeros(2, dtype=lib.float64, device=x.device)), arg(3))
    check(lambda lib, x: setattr(x, "grad", lib.zeros(3, device=x.device)), arg(3))
    check(lambda lib, x: setattr(x, "grad", 3), arg(3))
    check(lambda lib, x: (setattr(x, "grad", lib.ones(3, dtype=lib.float64, device=x.device)), x.grad)[1],
          arg(3))


# ---------------------------------------------------------------- autograd.Function
def _functions(lib):
    class Scale(lib.autograd.Function):
        @staticmethod
        def forward(ctx, x, k, w):
            ctx.save_for_backward(x, w)
            ctx.k = k
            ctx.flags = ctx.needs_input_grad
            return x * w * k

        @staticmethod
        def backward(ctx, grad):
            x, w = ctx.saved_tensors
            return grad * w * ctx.k, None, (grad * x * ctx.k).sum(0)

    class TwoOut(lib.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.set_materialize_grads(False)
            idx = (x > 0).to(lib.float64)
            ctx.mark_non_differentiable(idx)
            return x.exp(), x * 2, idx

        @staticmethod
        def backward(ctx, g_exp, g_two, g_idx):
            ctx.seen = (g_exp is None, g_two is None)
            out = 0
            if g_exp is not None:
                out = out + g_exp * 5
            if g_two is not None:
                out = out + g_two * 2
            return out

    class AddOne_(lib.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.mark_dirty(x)
            return x.add_(1)

        @staticmethod
        def backward(ctx, grad):
            return grad * 3

    class Identity(lib.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            return x

        @staticmethod
        def backward(ctx, grad):
            return grad * 2

    class Square(lib.autograd.Function):
        @staticmethod
        def forward(x):
            return x * x

        @staticmethod
        def setup_context(ctx, inputs, output):
            ctx.save_for_backward(inputs[0])

        @staticmethod
        def backward(ctx, grad):
            x, = ctx.saved_tensors
            return 2 * x * grad

    return Scale, TwoOut, AddOne_, Identity, Square


def test_custom_function_basic():
    def fn(lib, x, w):
        Scale = _functions(lib)[0]
        out = Scale.apply(x, 3.0, w)
        name = type(out.grad_fn).__name__
        return out, name, out.grad_fn.needs_input_grad, len(out.grad_fn.next_functions)
    check(fn, arg(2, 3), arg(3))
    check(lambda lib, x, w: _functions(lib)[0].apply(x, 2.0, w), arg(2, 3), Arg(data(3)))


def test_custom_function_repr_like_torch():
    for lib in (torch, tritensor):
        d = dev(lib)
        out = _functions(lib)[0].apply(lib.ones(2, requires_grad=True, device=d), 2.0, lib.ones(2, device=d))
        assert re.fullmatch(r"<torch\.autograd\.function\.ScaleBackward object at 0x[0-9a-f]+>",
                            repr(out.grad_fn))


def test_custom_function_non_differentiable_and_materialize():
    def fn(lib, x):
        TwoOut = _functions(lib)[1]
        a, b, idx = TwoOut.apply(x)
        a.sum().backward()
        return a, b, idx.requires_grad, x.grad, a.grad_fn.seen
    check(fn, arg(3), grad=False)


def test_custom_function_mark_dirty():
    def fn(lib, x):
        y = x * 1
        z = _functions(lib)[2].apply(y)
        z.sum().backward()
        return z is y, type(y.grad_fn).__name__, x.grad, y
    check(fn, arg(3), grad=False)
    check(lambda lib, x: _functions(lib)[2].apply(x), arg(3))


def test_custom_function_returning_input():
    def fn(lib, x):
        y = _functions(lib)[3].apply(x)
        y.sum().backward()
        return y is x, y._base is x, x.grad
    check(fn, arg(3))


def test_custom_function_setup_context_and_no_grad():
    check(lambda lib, x: _functions(lib)[4].apply(x), arg(3))
    check(lambda lib, x: _functions(lib)[4].apply(x), Arg(data(3)))

    def under_no_grad(lib, x):
        with lib.no_grad():
            out = _functions(lib)[0].apply(x, 2.0, x)
        return out, out.requires_grad
    check(under_no_grad, arg(3))


def test_custom_function_wrong_number_of_grads():
    class Bad(tritensor.autograd.Function):
        @staticmethod
        def forward(ctx, x, y):
            return x + y

        @staticmethod
        def backward(ctx, grad):
            return grad

    class TorchBad(torch.autograd.Function):
        forward = Bad.forward
        backward = Bad.backward
    check(lambda lib, x, y: (TorchBad if lib is torch else Bad).apply(x, y).sum().backward(), arg(2), arg(2))


def test_custom_function_double_backward():
    def fn(lib, x):
        Square = _functions(lib)[4]
        g, = lib.autograd.grad(Square.apply(x).sum(), x, create_graph=True)
        return g.detach(), lib.autograd.grad((g * g).sum(), x)
    check(fn, arg(3))


# ---------------------------------------------------------------- gradcheck
def test_gradcheck_passes():
    for lib in (torch, tritensor):
        x = lib.tensor(data(2, 3), requires_grad=True, device=dev(lib))
        w = lib.tensor(data(3), requires_grad=True, device=dev(lib))
        assert lib.autograd.gradcheck(lambda a, b: (a * b).sin().sum(1), (x, w))
        assert lib.autograd.gradcheck(lambda a: (a.exp(), a.t().mm(a)), (x,), eps=1e-6, atol=1e-5, rtol=1e-3)
        assert lib.autograd.gradcheck(_functions(lib)[4].apply, (w,))
        assert lib.autograd.gradgradcheck(lambda a, b: (a * b.tanh()).sum(0), (x, w))


def _bad(lib):
    class Bad(lib.autograd.Function):
        @staticmethod
        def forward(ctx, a):
            return a * 2

        @staticmethod
        def backward(ctx, g):
            return g * 3
    return Bad


def test_gradcheck_failure():
    messages = []
    for lib in (torch, tritensor):
        x = lib.ones(2, dtype=lib.float64, requires_grad=True, device=dev(lib))
        with pytest.raises(RuntimeError) as info:
            lib.autograd.gradcheck(_bad(lib).apply, (x,))
        assert type(info.value).__name__ == "GradcheckError"
        assert lib.autograd.gradcheck(_bad(lib).apply, (x,), raise_exception=False) is False
        messages.append(str(info.value))
    # the Jacobians print on the input's device, as torch's (the oracle may be on another)
    assert ("device=" in messages[1]) == (DEVICE != "cpu")
    theirs, ours = (m.replace(", device='cuda:0'", "") for m in messages)
    assert theirs == ours
    assert issubclass(tritensor.autograd.GradcheckError, RuntimeError)
    with pytest.raises(ValueError):
        tritensor.autograd.gradcheck(lambda a: a * 2,
                                     (tritensor.ones(2, dtype=tritensor.float64, device=DEVICE),))


# ---------------------------------------------------------------- in-place and version counter
def test_inplace_on_non_leaf():
    check(lambda lib, x: (lambda y: (y.add_(1), y)[1])(x * 2), arg(3))
    check(lambda lib, x: (lambda y: (y.sigmoid_(), y)[1])(x + 0), arg(3))
    check(lambda lib, x: (lambda y: (y.mul_(2).sub_(x), y.div_(3), y)[2])(x + 0), arg(3))
    check(lambda lib, x, w: (lambda y: (y.mul_(w), y)[1])(x * 2), arg(2, 3), arg(3))
    check(lambda lib, x: (lambda y: (y.zero_(), y + x)[1])(x * 2), arg(3))


def test_inplace_on_leaf_errors():
    check(lambda lib, x: x.add_(1), arg(3))
    check(lambda lib, x: x[0].mul_(2), arg(3))
    check(lambda lib, x: x.fill_(1), arg(3))

    def allowed_under_no_grad(lib, x):
        with lib.no_grad():
            x.mul_(2)
        return x.requires_grad, x.is_leaf, x._version
    check(allowed_under_no_grad, arg(3))


def test_modified_saved_tensor_errors():
    check(lambda lib, x: (lambda y: (y.add_(1), y.sum().backward()))(x.exp()), arg(3))
    check(lambda lib, x: (lambda y: (y.mul_(y), y.sum().backward()))(x * 2), arg(3))
    check(lambda lib, x: (lambda y: (y[1:].mul_(y[:2]), y.sum().backward()))(x * 2), arg(3))
    check(lambda lib, x: (lambda y: (y.sigmoid_(), y.exp_(), y.sum().backward()))(x + 0), arg(3))
    check(lambda lib, x: (lambda y: (y.sigmoid_(), y.mul_(2), y.sum().backward()))(x + 0), arg(3))
    check(lambda lib, x: (lambda y: (lambda z: (y.mul_(2), z.sum().backward()))(y.sin()))(x * 2), arg(3))
    # an op that saved nothing is not affected
    check(lambda lib, x: (lambda y: (lambda z: (y.mul_(2), z.sum().backward(), x.grad)[2])(y + 1))(x * 2),
          arg(3))


def test_modified_saved_tensor_message_names_producer():
    msgs = []
    for lib in (torch, tritensor):
        x = lib.ones(3, requires_grad=True, device=dev(lib))
        y = x.exp()
        y.add_(1)
        with pytest.raises(RuntimeError) as info:
            y.sum().backward()
        msgs.append((str(info.value), "torch.cuda.FloatTensor" if x.is_cuda else "torch.FloatTensor"))
    for m, type_name in msgs:
        assert f"modified by an inplace operation: [{type_name} [3]], which is output 0 of Exp" in m
        assert "is at version 1; expected version 0 instead" in m


def test_inplace_on_views():
    def setitem(lib, x):
        y = x * 2
        y[0] = 5
        return y, type(y.grad_fn).__name__
    check(setitem, arg(3))

    def column_mul(lib, x):
        y = x * 2
        v = y[:, 1]
        v.mul_(2)
        return y * y, type(v.grad_fn).__name__
    check(column_mul, arg(2, 3))
    check(lambda lib, x, s: (lambda y: (y[1:, ::2].mul_(s), y)[1])(x.sin()), arg(3, 4), arg(2, 2))
    check(lambda lib, x: (lambda y: (y.t()[0].add_(y[1, 0]), y)[1])(x * 1), arg(2, 3))


def test_setitem_with_grad_value_into_plain_tensor():
    def fn(lib, x):
        y = lib.zeros(2, 3, dtype=lib.float64, device=x.device)
        y[0] = x
        y[1, 1:] = x[:2] * 3
        return y, y.is_leaf, type(y.grad_fn).__name__, graph(y, 2)
    check(fn, arg(3))


def test_other_views_see_inplace_on_base():
    def fn(lib, x):
        y = x * 2
        a = y[0]
        b = y[1]
        b.mul_(3)
        y.add_(1)
        return a * 1, b * 1, y
    check(fn, arg(2, 3))


def test_inplace_on_view_of_non_contiguous_base():
    def fn(lib, x):
        y = x.exp().t().contiguous().t()
        y[1].mul_(3)
        return y
    check(lambda lib, x: (lambda y: (y[1].mul_(3), y * y)[1])(x.sin()), arg(3, 4, transpose=True))
    check(fn, arg(3, 4))


def test_double_backward_through_copy_slices():
    def fn(lib, x):
        y = x * x
        y[1:].mul_(x[1:])
        g, = lib.autograd.grad(y.sum(), x, create_graph=True)
        return g.detach(), lib.autograd.grad(g.sum(), x)
    check(fn, arg(3))


def test_view_inplace_errors():
    def no_grad_view(lib, x):
        y = x * 2
        with lib.no_grad():
            v = y[0]
        v.mul_(2)
    check(no_grad_view, arg(3))


# ---------------------------------------------------------------- errors
def test_numpy_checks_the_device_then_a_recorded_gradient():
    """torch's order: a GPU tensor is refused for its device first (TypeError); a CPU tensor
    that requires grad only while grad mode is on (RuntimeError); no_grad lets it through."""
    x = tritensor.ones(2, requires_grad=True)
    with pytest.raises(RuntimeError, match="requires grad"):
        x.numpy()
    with tritensor.no_grad():
        np.testing.assert_array_equal(x.numpy(), [1.0, 1.0])
    if DEVICE != "cpu":
        with pytest.raises(TypeError, match="can't convert cuda:0 device type tensor to numpy"):
            x.to(DEVICE).numpy()


def test_errors_like_torch():
    check(lambda lib, x: (lambda y: (y.backward(), y.backward()))((x * x).sum()), arg(3))
    check(lambda lib, x: (x * 2).backward(), arg(3))
    check(lambda lib, x: (x * 2).sum().backward(lib.ones(2, device=dev(lib))), arg(3))
    check(lambda lib, x: x.cpu().numpy(), arg(3))
    check(lambda lib, x: x.requires_grad_(), Arg(np.arange(3)))
    check(lambda lib: lib.tensor([1, 2], requires_grad=True, device=dev(lib)))
    check(lambda lib, x: x.sum().backward(), Arg(data(3)))
    check(lambda lib, x, w: lib.autograd.grad((x * 2).sum(), [x, w]), arg(3), Arg(data(3)))
    check(lambda lib, x: x.retain_grad(), Arg(data(3)))
    check(lambda lib, x: x.register_hook(lambda g: g), Arg(data(3)))
    check(lambda lib, x: lib.autograd.backward([(x * 2).sum(), x.detach().sum()]), arg(3))


def test_freed_graph_error_after_autograd_grad():
    check(lambda lib, x: (lambda y: (lib.autograd.grad(y, x), lib.autograd.grad(y, x)))(x.exp().sum()),
          arg(3))


def test_hook_may_not_change_size():
    check(lambda lib, x: (x.register_hook(lambda g: lib.ones(2, device=x.device)), (x * 2).sum().backward()),
          arg(3))
    check(lambda lib, x: (lambda y: (y.register_hook(lambda g: lib.ones(2, device=x.device)),
                                     y.sum().backward()))(x * 2),
          arg(3))


def test_custom_function_gradient_for_non_tensor_input():
    def fn(lib, x):
        class F(lib.autograd.Function):
            @staticmethod
            def forward(ctx, a, k):
                return a * k

            @staticmethod
            def backward(ctx, g):
                return g, g
        F.apply(x, 2.0).sum().backward()
    check(fn, arg(3))


def test_backward_empty_inputs_and_variable():
    check(lambda lib, x: (x * 2).sum().backward(inputs=[]), arg(3))
    check(lambda lib, x: lib.autograd.Variable(x, requires_grad=True).requires_grad, Arg(data(3)))


def test_detect_anomaly():
    def fn(lib, x):
        with lib.autograd.detect_anomaly():
            y = (x * 0).sqrt() * 0
            (y / y).sum().backward()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        check(fn, arg(2))
    assert not tritensor.autograd.is_anomaly_enabled()


# ---------------------------------------------------------------- torch.autograd.functional
@pytest.mark.parametrize("case", [
    lambda F, lib, a, b: F.jacobian(lambda t: t.exp() * t.sum(), a),
    lambda F, lib, a, b: F.jacobian(lambda s, t: (s * t, s.sum() * t), (a, b)),
    lambda F, lib, a, b: F.jacobian(lambda t: t.reshape(2, 2) @ t.reshape(2, 2), a[:4]),
    lambda F, lib, a, b: F.hessian(lambda t: (t ** 3).sum() * t.sin().sum(), a),
    lambda F, lib, a, b: F.hessian(lambda s, t: (s ** 2 * t).sum(), (a, b)),
    lambda F, lib, a, b: F.vjp(lambda t: t * t.exp(), a, b),
    lambda F, lib, a, b: F.vjp(lambda t: (t * t).sum(), a),
    lambda F, lib, a, b: F.jvp(lambda t: t * t.exp(), a, b),
    lambda F, lib, a, b: F.hvp(lambda t: (t ** 3).sum(), a, b),
    lambda F, lib, a, b: F.vhp(lambda t: (t.exp() * t).sum(), a, b),
    lambda F, lib, a, b: F.jacobian(lambda t: lib.ones(2, dtype=lib.float64, device=dev(lib)), a),
])
def test_autograd_functional(case):
    check(lambda lib, a, b: case(lib.autograd.functional, lib, a, b), Arg(data(5)), Arg(data(5)))


def test_autograd_functional_create_graph():
    def fn(lib, x):
        j = lib.autograd.functional.jacobian(lambda t: t ** 3, x, create_graph=True)
        return j.requires_grad, lib.autograd.grad(j.sum(), x)
    check(fn, arg(3))


# ---------------------------------------------------------------- graph topologies
def test_diamond_and_reused_values():
    check(lambda lib, x: (lambda y: (y.sin() * y.cos() + y).sum())(x * x), arg(4))
    check(lambda lib, x, w: (lambda y: lib.stack([y, y * w, y.exp()]).mean(0))(x.mm(w)), arg(2, 2), arg(2, 2))
    check(lambda lib, x: (x * x * x + x).sum(), arg(3))


def test_backward_of_several_outputs_sharing_graph():
    def fn(lib, x):
        y = x.exp()
        seeds = [lib.tensor(v, dtype=lib.float64, device=x.device) for v in (1.0, 2.0, 3.0)]
        lib.autograd.backward([y.sum(), (y * y).sum(), y[0]], seeds)
        return x.grad
    check(fn, arg(3), grad=False)


def test_output_is_input_of_other_output():
    def fn(lib, x):
        y = x * 2
        z = y.exp()
        ones = lib.ones(3, dtype=lib.float64, device=x.device)
        return lib.autograd.grad([y, z], [x], [ones, ones])
    check(fn, arg(3))


# ---------------------------------------------------------------- first gradients: stolen, never aliased
def _shares_memory(a, b):
    return np.shares_memory(a.detach().cpu().numpy(), b.detach().cpu().numpy())


def test_leaf_gradient_never_aliases_a_tensor_someone_else_holds():
    x = tritensor.ones(3, device=DEVICE, requires_grad=True)
    seen = []
    x.register_hook(lambda g: seen.append(g))
    (x * 2).sum().backward()
    assert not _shares_memory(x.grad, seen[0])
    (x * 2).sum().backward()  # accumulates into x.grad in place
    np.testing.assert_array_equal(seen[0].cpu().numpy(), [2, 2, 2])
    np.testing.assert_array_equal(x.grad.cpu().numpy(), [4, 4, 4])


def test_one_gradient_flowing_to_two_leaves_is_not_shared():
    a = tritensor.ones(3, device=DEVICE, requires_grad=True)
    b = tritensor.ones(3, device=DEVICE, requires_grad=True)
    (a + b).sum().backward()  # AddBackward hands the same gradient to both
    assert not _shares_memory(a.grad, b.grad)
    a.grad.add_(1)
    np.testing.assert_array_equal(b.grad.cpu().numpy(), [1, 1, 1])


def test_retained_and_leaf_gradients_are_separate():
    x = tritensor.ones(3, device=DEVICE, requires_grad=True)
    y = x + 0
    y.retain_grad()
    y.sum().backward()
    assert not _shares_memory(x.grad, y.grad)


def test_gradient_held_by_a_custom_function_is_cloned():
    held = tritensor.full((3,), 5.0, device=DEVICE)

    class Emit(tritensor.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            return x.clone()

        @staticmethod
        def backward(ctx, g):
            return held

    x = tritensor.ones(3, device=DEVICE, requires_grad=True)
    Emit.apply(x).sum().backward()
    assert not _shares_memory(x.grad, held)
    x.grad.zero_()
    np.testing.assert_array_equal(held.cpu().numpy(), [5, 5, 5])


def test_autograd_grad_results_do_not_alias_accumulated_grads():
    x = tritensor.ones(3, device=DEVICE, requires_grad=True)
    (x * 3).sum().backward(inputs=[x])
    (g,) = tritensor.autograd.grad((x * 3).sum(), [x])
    assert not _shares_memory(x.grad, g)


@pytest.mark.cpu_only
def test_fresh_weight_gradient_is_stolen_not_copied(monkeypatch):
    """torch's AccumulateGrad rule: a first gradient nothing else holds becomes .grad as is."""
    from tritensor.backends import cpu
    copies = []
    real_copy = cpu.copy_
    monkeypatch.setattr(cpu, "copy_", lambda dst, src: (copies.append(dst.shape), real_copy(dst, src)))
    lin = tritensor.nn.Linear(5, 3)
    lin(tritensor.ones(4, 5)).sum().backward()
    assert copies == []
    assert lin.weight.grad.is_contiguous() and lin.weight.grad.shape == (3, 5)


@pytest.mark.parametrize("op", ["exp", "sigmoid", "tanh", "relu", "softmax", "inplace", "layer_norm",
                                "cross_entropy", "custom_function"])
def test_dropped_graph_frees_its_outputs_without_the_garbage_collector(op):
    """Like torch, an op that saves its own output (or returns a dirtied input) leaves no
    reference cycle: a graph dropped without backward frees its memory at once."""
    import gc
    import os
    import weakref
    if DEVICE != "cpu" and os.environ.get("TRITON_INTERPRET") == "1":
        pytest.skip("Triton's interpreter holds each launch's arguments in a reference cycle of its "
                    "own (runtime/interpreter.py, _init_args_hst), so only a GPU or the CPU can show this")

    class Square(tritensor.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            y = x * x
            ctx.save_for_backward(y)
            return y

        @staticmethod
        def backward(ctx, grad):
            y, = ctx.saved_tensors
            return grad * 2 * y.sqrt()

    F = tritensor.nn.functional
    x = tritensor.randn(4, 5, requires_grad=True, device=DEVICE)
    make = {"exp": x.exp, "sigmoid": x.sigmoid, "tanh": x.tanh, "relu": x.relu,
            "softmax": lambda: x.softmax(1), "inplace": lambda: (x * 1).exp_(),
            "layer_norm": lambda: F.layer_norm(x, (5,)),
            "cross_entropy": lambda: F.cross_entropy(x, tritensor.tensor([0, 1, 2, 3], device=DEVICE)),
            "custom_function": lambda: Square.apply(x)}[op]
    gc.disable()
    try:
        y = make()
        alive = weakref.ref(y._storage)
        del y
        assert alive() is None
    finally:
        gc.enable()


def test_saved_output_still_carries_double_backward():
    """A saved output comes back attached to its node, so create_graph still differentiates it."""
    check(lambda lib, x: lib.autograd.grad(x.exp().sum(), x, create_graph=True)[0].sum().backward() or x.grad,
          arg(3))
    check(lambda lib, x: lib.autograd.grad(x.sigmoid().sum(), x, create_graph=True)[0].sum().backward()
          or x.grad, arg(3))


def test_backward_from_two_outputs_of_one_node():
    """Roots that share a node (both outputs of var_mean) count that node's edges once."""
    def fn(lib, x):
        var, mean = lib.var_mean(x, 1)
        lib.autograd.backward([var, mean], [lib.ones_like(var), lib.ones_like(mean) * 2])
        return x.grad
    check(fn, Arg(np.arange(6.0).reshape(2, 3), requires_grad=True), grad=False)


@pytest.mark.parametrize("create_graph", [False, True])
def test_leaf_gradients_take_the_leafs_layout(create_graph):
    """torch's gradient layout contract: a leaf's first ``.grad`` has the leaf's strides when the
    leaf is dense (a row-major weight whose gradient arrives transposed, a transposed leaf
    whose gradient arrives row-major), else it is contiguous; values as torch's."""
    data = rng.standard_normal((4, 6))

    def leaves(lib):
        d = dev(lib)
        return [lib.tensor(data, device=d).requires_grad_(),
                lib.tensor(data.T, device=d).t().requires_grad_(),  # a transposed leaf
                lib.tensor(data, device=d)[:, ::2].detach().requires_grad_()]  # not dense

    results = {}
    for lib in (torch, tritensor):
        ws = leaves(lib)
        loss = sum(((w.t() * 2).exp() * lib.arange(float(w.shape[0]), device=dev(lib))).sum() +
                   (w * w).sum() for w in ws)
        loss.backward(create_graph=create_graph)
        results[lib] = [(w.grad.stride(), w.grad.detach().cpu().numpy()) for w in ws]
    for (stride, value), (ours, mine) in zip(results[torch], results[tritensor]):
        assert ours == stride
        np.testing.assert_allclose(mine, value, rtol=1e-12)

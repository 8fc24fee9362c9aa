"""torch.func's vmap, jacrev, jacfwd, hessian, jvp, functional_call and stack_module_state
against torch's: values, gradients through them, nesting, and the errors' types."""
from __future__ import annotations

import numpy as np
import pytest
import torch

import tritensor
from harness import DEVICE, Arg, check, copied_state, dev, to_numpy, uniform_data


def data(*shape, seed=0):
    return uniform_data(np.random.default_rng(seed), shape, "float64")


def _items(tree):
    """Dicts as (key, value) tuples sorted by key, so the harness compares them."""
    if isinstance(tree, dict):
        return tuple((k, _items(tree[k])) for k in sorted(tree))
    if isinstance(tree, (tuple, list)):
        return type(tree)(_items(x) for x in tree)
    return tree


# ---------------------------------------------------------------- vmap
@pytest.mark.parametrize("in_dims,out_dims", [(0, 0), (1, 0), (-1, 1), (0, -1), ((0, None), 0), ((1, 0), 1)])
def test_vmap_dims_match_torch(in_dims, out_dims):
    def fn(lib, x, y):
        return lib.func.vmap(lambda a, b: a * b.sum() + a.exp(), in_dims=in_dims, out_dims=out_dims)(x, y)
    shapes = {(0, None): ((4, 3), (3,)), (1, 0): ((3, 4), (4, 2))}.get(in_dims, ((4, 4), (4, 4)))
    # the loop's results come out of a stack (torch's out of the last batched op): names differ
    check(fn, Arg(data(*shapes[0]), requires_grad=True), Arg(data(*shapes[1], seed=1), requires_grad=True),
          same_node=False)


def test_vmap_nested_inputs_outputs_and_kwargs():
    def fn(lib, x, y, z):
        def f(pair, d, scale=1.0):
            return {"s": (pair[0] * pair[1]).sum() * scale, "v": [d["k"] + pair[0]]}
        mapped = lib.vmap(f, in_dims=((0, None), {"k": 1}), out_dims={"s": 0, "v": [1]})
        return _items(mapped((x, y), {"k": z}, scale=2.0))
    check(fn, Arg(data(5, 3), requires_grad=True), Arg(data(3, seed=1), requires_grad=True),
          Arg(data(3, 5, seed=2), requires_grad=True), same_node=False)


def test_vmap_of_vmap_and_of_grad_per_sample_gradients():
    def fn(lib, w, x):
        def loss(w, xi):
            return ((w * xi).sum() - 1) ** 2
        per_sample = lib.func.vmap(lib.func.grad(loss), in_dims=(None, 0))(w, x)
        outer = lib.func.vmap(lib.func.vmap(lambda a: a * a.sum()))(x.reshape(2, 3, 4))
        return per_sample, outer
    check(fn, Arg(data(4), requires_grad=True), Arg(data(6, 4, seed=1), requires_grad=True), same_node=False)


def test_vmap_unbatched_outputs_and_empty_batch():
    def fn(lib, x, c):
        unbatched = lib.vmap(lambda a: (a.sum(), c * 2, 3.0), out_dims=(0, None, None))(x)
        empty = lib.vmap(lambda a: (a.sum(), a * 2))(x[:0])
        return unbatched, empty
    check(fn, Arg(data(3, 4), requires_grad=True), Arg(data(2, seed=1), requires_grad=True), same_node=False)


@pytest.mark.parametrize("case", ["in_dims None", "in_dims str", "in_dim out of range", "sizes differ",
                                  "python float mapped", "float in_dim", "structure", "no inputs",
                                  "nothing mapped", "float output", "batched output with None",
                                  "out_dims structure", "out_dim out of range", "randomness", "chunk_size"])
def test_vmap_errors_match_torch(case):
    def fn(lib, x):
        vmap = lib.func.vmap
        calls = {
            "in_dims None": lambda: vmap(lambda a: a, in_dims=None)(x),
            "in_dims str": lambda: vmap(lambda a: a, in_dims="a")(x),
            "in_dim out of range": lambda: vmap(lambda a: a, in_dims=2)(x),
            "sizes differ": lambda: vmap(lambda a, b: a + b)(x, x[:2]),
            "python float mapped": lambda: vmap(lambda a: a)(3.0),
            "float in_dim": lambda: vmap(lambda a: a, in_dims=(1.5,))(x),
            "structure": lambda: vmap(lambda a, b: a + b, in_dims=(0,))(x, x),
            "no inputs": lambda: vmap(lambda: 1)(),
            "nothing mapped": lambda: vmap(lambda a: a, in_dims=(None,))(x),
            "float output": lambda: vmap(lambda a: 1.0)(x),
            "batched output with None": lambda: vmap(lambda a: a * 2, out_dims=None)(x),
            "out_dims structure": lambda: vmap(lambda a: a * 2, out_dims=(0, 1))(x),
            "out_dim out of range": lambda: vmap(lambda a: a.sum(), out_dims=1)(x),
            "randomness": lambda: vmap(lambda a: a, randomness="other"),
            "chunk_size": lambda: vmap(lambda a: a, chunk_size=0),
        }
        return calls[case]()
    check(fn, Arg(data(3, 4)))


def test_vmap_randomness_modes():
    x = tritensor.ones(4, 3, device=DEVICE)
    with pytest.raises(RuntimeError, match="randomness error mode"):
        tritensor.vmap(lambda a: a + tritensor.rand(3, device=DEVICE))(x)
    tritensor.manual_seed(0)
    same = tritensor.vmap(lambda a: a + tritensor.randn(3, device=DEVICE), randomness="same")(x)
    tritensor.manual_seed(0)
    one = tritensor.randn(3, device=DEVICE)
    rows = to_numpy(same)
    np.testing.assert_array_equal(rows, np.broadcast_to(to_numpy(one) + 1, rows.shape))
    # the generator moved on by one element's draws, as after a single call
    np.testing.assert_array_equal(to_numpy(tritensor.randn(3, device=DEVICE)),
                                  to_numpy(_seeded_second_draw()))
    draw = tritensor.vmap(lambda a: tritensor.rand(3, device=DEVICE), randomness="different")
    different = to_numpy(draw(x))
    assert len({tuple(r) for r in different}) == 4


def _seeded_second_draw():
    tritensor.manual_seed(0)
    tritensor.randn(3, device=DEVICE)
    return tritensor.randn(3, device=DEVICE)


def test_vmap_error_in_the_function_leaves_random_mode_off():
    x = tritensor.ones(2, 3, device=DEVICE)
    with pytest.raises(ZeroDivisionError):
        tritensor.vmap(lambda a: 1 / 0)(x)
    tritensor.rand(2, device=DEVICE)  # no longer refused


def test_vmap_ensemble_of_modules_with_functional_call():
    def fn(lib, x):
        models = [_module(lib, lambda nn: nn.Linear(4, 3), seed) for seed in range(3)]
        params, buffers = lib.func.stack_module_state(models)

        def one(p, b, xi):
            return lib.func.functional_call(models[0], (p, b), (xi,))
        out = lib.vmap(one, in_dims=(0, 0, None))(params, buffers, x)
        out.sum().backward()
        return out, _items({k: v.grad for k, v in params.items()})
    check(fn, Arg(data(5, 4), requires_grad=False))


# ---------------------------------------------------------------- jacobians, hessian, jvp
@pytest.mark.parametrize("jac", ["jacrev", "jacfwd"])
def test_jacobians_match_torch(jac):
    def fn(lib, x, y):
        transform = getattr(lib.func, jac)
        single = transform(lambda a: a.sin() * a.sum())(x)
        pair = transform(lambda a, b: (a * b, (a * b).sum()), argnums=(0, 1))(x, y)
        tree = transform(lambda d: {"o": d["a"].exp() * d["b"]})({"a": x, "b": y})
        aux = transform(lambda a: (a.exp(), a.sum()), has_aux=True)(x)
        return single, pair, _items(tree), aux
    check(fn, Arg(data(3), requires_grad=False), Arg(data(3, seed=1), requires_grad=False))


def test_hessian_and_gradients_through_jacrev():
    def fn(lib, x, w):
        hess = lib.func.hessian(lambda a: (a ** 3 * a.sum()).sum())(x.detach())
        jac = lib.func.jacrev(lambda a: (a * w).tanh())(x)  # depends on w, which requires grad
        return hess, jac
    check(fn, Arg(data(3), requires_grad=True), Arg(data(3, seed=1), requires_grad=True))


@pytest.mark.parametrize("case", ["argnum", "non-tensor input", "non-tensor output"])
def test_jacrev_errors_match_torch(case):
    def fn(lib, x):
        calls = {"argnum": lambda: lib.func.jacrev(lambda a: a, argnums=1)(x),
                 "non-tensor input": lambda: lib.func.jacrev(lambda a: a)(1.5),
                 "non-tensor output": lambda: lib.func.jacrev(lambda a: 2.0)(x)}
        return calls[case]()
    check(fn, Arg(data(3)))


def test_jvp_matches_torch_and_nests_in_grad():
    def fn(lib, x, t, y):
        out, tangent = lib.func.jvp(lambda a, b: (a.sin() * b, a.sum()), (x, y), (t, t))
        out_aux = lib.func.jvp(lambda a: (a.exp(), a * 2), (x.detach(),), (t.detach(),), has_aux=True)
        def jvp_sum(s):
            return lib.func.jvp(lambda a: a * s, (x.detach(),), (t.detach(),))[1].sum()
        nested = lib.func.grad(jvp_sum)(y.detach().sum())
        return out, tangent, out_aux, nested
    check(fn, Arg(data(3), requires_grad=True), Arg(data(3, seed=1), requires_grad=True),
          Arg(data(3, seed=2), requires_grad=True))


@pytest.mark.parametrize("case", ["primals not a tuple", "structure", "tangent shape", "float output"])
def test_jvp_errors_match_torch(case):
    def fn(lib, x):
        jvp = lib.func.jvp
        calls = {"primals not a tuple": lambda: jvp(lambda a: a, x, x),
                 "structure": lambda: jvp(lambda a: a, (x,), (x, x)),
                 "tangent shape": lambda: jvp(lambda a: a, (x,), (x[:2],)),
                 "float output": lambda: jvp(lambda a: 3.0, (x,), (x,))}
        return calls[case]()
    check(fn, Arg(data(3), requires_grad=False))


# ---------------------------------------------------------------- functional_call
def _tied(nn):
    """Two linear layers sharing one weight."""
    class Tied(nn.Module):
        def __init__(self):
            super().__init__()
            self.a = nn.Linear(2, 2, bias=False)
            self.b = nn.Linear(2, 2, bias=False)
            self.b.weight = self.a.weight

        def forward(self, x):
            return self.a(x) + self.b(x)
    return Tied()


def _module(lib, build, seed=0):
    """``build(lib.nn)`` in float64 on the test device, holding the state torch's gets from ``seed``."""
    torch.manual_seed(seed)
    ref = build(torch.nn).double().to(dev(torch))
    if lib is torch:
        return ref
    ours = build(tritensor.nn).double().to(DEVICE)
    ours.load_state_dict(copied_state(ref))
    return ours


def test_functional_call_values_gradients_and_restored_state():
    def fn(lib, x, w):
        model = _module(lib, lambda nn: nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4)))
        before = {k: v.detach().clone() for k, v in model.state_dict().items()}
        out = lib.func.functional_call(model, {"0.weight": w}, x)
        after = model.state_dict()
        restored = all(lib.equal(before[k], after[k]) for k in before)
        return out, restored, type(model[0].weight).__name__
    check(fn, Arg(data(5, 3), requires_grad=True), Arg(data(4, 3, seed=1), requires_grad=True))


@pytest.mark.parametrize("case", ["strict", "two dicts", "tied both given", "bad path"])
def test_functional_call_errors_match_torch(case):
    def fn(lib, x):
        linear = _module(lib, lambda nn: nn.Linear(2, 2))
        tied = _module(lib, _tied)
        ones = lib.ones(2, 2, device=x.device)
        call = lib.func.functional_call
        calls = {"strict": lambda: call(linear, {"weight": ones, "x": ones}, (x,), strict=True),
                 "two dicts": lambda: call(linear, ({"weight": ones}, {"weight": ones}), (x,)),
                 "tied both given": lambda: call(tied, {"a.weight": ones, "b.weight": ones * 2}, (x,)),
                 "bad path": lambda: call(linear, {"zz.w": ones}, (x,))}
        return calls[case]()
    check(fn, Arg(data(2), requires_grad=False))


def test_functional_call_tie_weights():
    def fn(lib, x, w):
        tied = _module(lib, _tied)
        return (lib.func.functional_call(tied, {"a.weight": w}, (x,)),
                lib.func.functional_call(tied, {"a.weight": w}, (x,), tie_weights=False),
                lib.func.functional_call(tied, {"a.weight": w, "b.weight": w * 2}, (x,), tie_weights=False))
    check(fn, Arg(data(2), requires_grad=True), Arg(data(2, 2, seed=1), requires_grad=True))


def test_functional_call_restores_after_an_error():
    model = tritensor.nn.Linear(2, 2).to(DEVICE)
    weight = model.weight
    with pytest.raises(RuntimeError):
        tritensor.func.functional_call(model, {"weight": tritensor.ones(3, 3, device=DEVICE)},
                                       (tritensor.ones(2, device=DEVICE),))
    assert model.weight is weight and isinstance(model.weight, tritensor.nn.Parameter)


# ---------------------------------------------------------------- stack_module_state
def test_stack_module_state_matches_torch():
    def fn(lib):
        models = [_module(lib, lambda nn: nn.BatchNorm1d(3), seed) for seed in range(2)]
        params, buffers = lib.func.stack_module_state(models)
        return (_items(params), _items(buffers), params["weight"].requires_grad, params["weight"].is_leaf,
                buffers["running_mean"].requires_grad)
    check(fn)


@pytest.mark.parametrize("case", ["empty", "modes", "classes", "requires_grad"])
def test_stack_module_state_errors_match_torch(case):
    def fn(lib):
        models = [_module(lib, lambda nn: nn.Linear(2, 2), seed) for seed in range(2)]
        if case == "modes":
            models[1].eval()
        if case == "classes":
            models[1] = _module(lib, lambda nn: nn.Conv1d(2, 2, 1))
        if case == "requires_grad":
            models[1].weight.requires_grad_(False)
        return lib.func.stack_module_state([] if case == "empty" else models)
    check(fn)

"""nn.utils: parametrize, parametrizations (orthogonal, spectral_norm, weight_norm), the legacy
weight_norm/spectral_norm hooks, prune, fusion and the deprecated nn.init aliases, against torch."""
from __future__ import annotations

import copy
import pickle
import warnings

import numpy as np
import pytest
import torch
import torch.nn.utils.prune  # noqa: F401  (torch does not import it with nn.utils)

import tritensor
from harness import DEVICE, Arg, assert_same, check, copied_state, gradcheck

rng = np.random.default_rng(0)


def utils(lib):
    return lib.nn.utils


def module_pair(name, *args, **kwargs):
    """torch's ``nn.<name>`` and ours on DEVICE holding the same state."""
    ref = getattr(torch.nn, name)(*args, **kwargs)
    ours = getattr(tritensor.nn, name)(*args, **kwargs).to(DEVICE)
    ours.load_state_dict(copied_state(ref))
    return ref, ours


def both(fn, *modules):
    """``fn(lib, module)`` on each (lib, module) pair: torch's result and ours."""
    return [fn(lib, m) for lib, m in zip((torch, tritensor), modules)]


def load_torch_state(ref, ours):
    """Give ours torch's full state (buffers of power iteration included)."""
    ours.load_state_dict(copied_state(ref))


def same_error(fn, ref, ours):
    """torch and tritensor raise the same exception type from ``fn(lib, module)``."""
    with pytest.raises(Exception) as expected:
        fn(torch, ref)
    with pytest.raises(type(expected.value)) as got:
        fn(tritensor, ours)
    return expected.value, got.value


def forward_backward(ref, ours, x):
    """Same input through both; outputs, input grads and every parameter's grad must agree."""
    a = torch.tensor(x, dtype=torch.float32, requires_grad=True)
    b = tritensor.tensor(x, dtype=tritensor.float32, device=DEVICE, requires_grad=True)
    out_ref, out = ref(a), ours(b)
    assert_same(out_ref, out)
    seed = np.random.default_rng(1).standard_normal(tuple(out_ref.shape)).astype(np.float32)
    out_ref.backward(torch.tensor(seed))
    out.backward(tritensor.tensor(seed, device=DEVICE))
    assert_same(a.grad, b.grad, what="input grad")
    for (n, p), (m, q) in zip(ref.named_parameters(), ours.named_parameters()):
        assert n == m
        assert_same(p.grad, q.grad, what=f"grad of {n}")


# ---------------------------------------------------------------------------- parametrize
def symmetric(lib):
    class Symmetric(lib.nn.Module):
        def forward(self, x):
            return x.triu() + x.triu(1).transpose(-1, -2)

        def right_inverse(self, a):
            return a.triu()
    return Symmetric()


def scaled_pair(lib):
    """A parametrization of two originals: weight = a * b (right_inverse: (w, ones))."""
    class Product(lib.nn.Module):
        def forward(self, a, b):
            return a * b

        def right_inverse(self, w):
            return w, lib.ones_like(w)
    return Product()


def no_inverse(lib):
    class Double(lib.nn.Module):
        def forward(self, x):
            return 2 * x
    return Double()


def register_symmetric(lib, m):
    return utils(lib).parametrize.register_parametrization(m, "weight", symmetric(lib))


def test_register_parametrization_layout_and_values():
    ref, ours = module_pair("Linear", 3, 3)
    both(register_symmetric, ref, ours)
    assert repr(ours) == repr(ref)
    assert type(ours).__name__ == type(ref).__name__ == "ParametrizedLinear"
    assert list(ours.state_dict()) == list(ref.state_dict())
    assert [n for n, _ in ours.named_parameters()] == [n for n, _ in ref.named_parameters()]
    assert utils(tritensor).parametrize.type_before_parametrizations(ours) is tritensor.nn.Linear
    assert type(tritensor.nn.Linear(2, 2)).__name__ == "Linear"  # other instances untouched
    assert utils(tritensor).parametrize.is_parametrized(ours)
    assert utils(tritensor).parametrize.is_parametrized(ours, "weight")
    assert not utils(tritensor).parametrize.is_parametrized(ours, "bias")
    assert_same(ref.weight, ours.weight)
    assert type(ours.weight.grad_fn).__name__ == type(ref.weight.grad_fn).__name__
    forward_backward(ref, ours, rng.standard_normal((2, 3)))


def test_assignment_goes_through_right_inverse_and_remove():
    ref, ours = module_pair("Linear", 3, 3)
    both(register_symmetric, ref, ours)
    w = rng.standard_normal((3, 3))
    ref.weight = torch.tensor(w, dtype=torch.float32)
    ours.weight = tritensor.tensor(w, dtype=tritensor.float32, device=DEVICE)
    assert_same(ref.parametrizations.weight.original, ours.parametrizations.weight.original)
    original = ours.parametrizations.weight.original
    both(lambda lib, m: utils(lib).parametrize.remove_parametrizations(m, "weight"), ref, ours)
    assert type(ours) is tritensor.nn.Linear and ours.weight is original  # same Parameter object kept
    assert list(ours.state_dict()) == list(ref.state_dict())
    assert_same(ref.weight, ours.weight)
    assert not hasattr(ours, "parametrizations")


@pytest.mark.parametrize("leave", [True, False])
def test_chain_of_parametrizations(leave):
    ref, ours = module_pair("Linear", 3, 3)

    def register(lib, m):
        P = utils(lib).parametrize
        P.register_parametrization(m, "weight", symmetric(lib))
        P.register_parametrization(m, "weight", symmetric(lib))
    both(register, ref, ours)
    assert repr(ours) == repr(ref)
    assert_same(ref.weight, ours.weight)
    both(lambda lib, m: utils(lib).parametrize.remove_parametrizations(m, "weight", leave_parametrized=leave),
         ref, ours)
    assert_same(ref.weight, ours.weight)


def test_several_originals():
    ref, ours = module_pair("Linear", 3, 4)
    both(lambda lib, m: utils(lib).parametrize.register_parametrization(m, "weight", scaled_pair(lib)),
         ref, ours)
    assert list(ours.state_dict()) == list(ref.state_dict())
    assert_same(ref.parametrizations.weight.original1, ours.parametrizations.weight.original1)
    forward_backward(ref, ours, rng.standard_normal((2, 3)))
    same_error(lambda lib, m: utils(lib).parametrize.remove_parametrizations(m, "weight", False), ref, ours)
    both(lambda lib, m: utils(lib).parametrize.remove_parametrizations(m, "weight"), ref, ours)
    assert isinstance(ours.weight, tritensor.nn.Parameter) and ours.weight.is_leaf
    assert_same(ref.weight, ours.weight)


def test_parametrized_buffer_stays_a_buffer():
    ref, ours = module_pair("BatchNorm1d", 3)
    both(lambda lib, m: utils(lib).parametrize.register_parametrization(
        m, "running_var", no_inverse(lib)), ref, ours)
    assert list(ours.state_dict()) == list(ref.state_dict())
    assert [n for n, _ in ours.named_buffers()] == [n for n, _ in ref.named_buffers()]
    assert_same(ref.running_var, ours.running_var)


@pytest.mark.parametrize("case", ["missing", "shape", "dtype", "no_inverse", "remove_missing", "empty_list",
                                  "bad_inverse_shape"])
def test_parametrize_errors(case):
    ref, ours = module_pair("Linear", 3, 4)

    class Shrink(torch.nn.Module):
        def forward(self, x):
            return x[:1]

    def shrink(lib):
        return type("Shrink", (lib.nn.Module,), {"forward": lambda self, x: x[:1]})()

    def cast(lib):
        return type("Cast", (lib.nn.Module,), {"forward": lambda self, x: x.double()})()

    def bad_inverse(lib):
        return type("Bad", (lib.nn.Module,), {"forward": lambda self, x: x,
                                               "right_inverse": lambda self, x: x[:1]})()
    register = {
        "missing": lambda lib, m: utils(lib).parametrize.register_parametrization(m, "nope", symmetric(lib)),
        "shape": lambda lib, m: utils(lib).parametrize.register_parametrization(m, "weight", shrink(lib)),
        "dtype": lambda lib, m: utils(lib).parametrize.register_parametrization(m, "weight", cast(lib)),
        "remove_missing": lambda lib, m: utils(lib).parametrize.remove_parametrizations(m, "weight"),
        "empty_list": lambda lib, m: utils(lib).parametrize.ParametrizationList([], m.weight),
        "bad_inverse_shape": lambda lib, m: utils(lib).parametrize.register_parametrization(
            m, "weight", bad_inverse(lib)),
    }
    if case == "no_inverse":
        both(lambda lib, m: utils(lib).parametrize.register_parametrization(m, "weight", no_inverse(lib)),
             ref, ours)
        _, err = same_error(lambda lib, m: setattr(m, "weight", lib.ones(4, 3)), ref, ours)
        assert "right_inverse" in str(err)
        return
    _, err = same_error(register[case], ref, ours)
    if case in ("shape", "dtype"):
        assert "unsafe" in str(err)


def test_unsafe_allows_changing_the_shape():
    ref, ours = module_pair("Linear", 3, 4)
    both(lambda lib, m: utils(lib).parametrize.register_parametrization(
        m, "weight", type("Shrink", (lib.nn.Module,), {"forward": lambda self, x: x[:2]})(), unsafe=True),
        ref, ours)
    assert_same(ref.weight, ours.weight)


def test_cached_computes_once():
    calls = []

    class Counting(tritensor.nn.Module):
        def forward(self, x):
            calls.append(1)
            return x * 1

    m = tritensor.nn.Linear(3, 3).to(DEVICE)
    P = utils(tritensor).parametrize
    P.register_parametrization(m, "weight", Counting())
    calls.clear()
    with P.cached():
        first = m.weight
        assert m.weight is first
    assert len(calls) == 1
    m.weight
    assert len(calls) == 2


def test_copy_pickle_and_transfer():
    m = tritensor.nn.Linear(3, 3).to(DEVICE)
    P = utils(tritensor).parametrize
    P.register_parametrization(m, "weight", symmetric(tritensor))
    clone = copy.deepcopy(m)
    assert type(clone).__name__ == "ParametrizedLinear"
    assert_same(torch.tensor(m.weight.detach().cpu().numpy()), clone.weight)
    with pytest.raises(RuntimeError, match="state_dict"):
        pickle.dumps(m)
    target = tritensor.nn.Linear(3, 3).to(DEVICE)
    P.transfer_parametrizations_and_params(m, target)
    assert P.is_parametrized(target, "weight")
    assert target.parametrizations.weight.original is m.parametrizations.weight.original


# ---------------------------------------------------------------------------- weight norm
@pytest.mark.parametrize("layer, args, dim", [("Linear", (3, 4), 0), ("Linear", (3, 4), 1),
                                              ("Linear", (3, 4), None), ("Conv1d", (2, 3, 3), 0),
                                              ("Conv1d", (2, 3, 3), 1), ("Conv1d", (2, 3, 3), -1),
                                              ("Conv1d", (2, 3, 3), 2)])
def test_weight_norm_parametrization(layer, args, dim):
    ref, ours = module_pair(layer, *args)
    both(lambda lib, m: utils(lib).parametrizations.weight_norm(m, dim=dim), ref, ours)
    assert list(ours.state_dict()) == list(ref.state_dict())
    assert repr(ours) == repr(ref)
    for key in ("original0", "original1"):
        assert_same(getattr(ref.parametrizations.weight, key), getattr(ours.parametrizations.weight, key))
    shape = (2, 3) if layer == "Linear" else (2, 2, 5)
    forward_backward(ref, ours, rng.standard_normal(shape))


def test_weight_norm_parametrization_loads_legacy_checkpoint():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        legacy = utils(torch).weight_norm(torch.nn.Linear(3, 4))
    ref, ours = module_pair("Linear", 3, 4)
    both(lambda lib, m: utils(lib).parametrizations.weight_norm(m), ref, ours)
    ref.load_state_dict(legacy.state_dict())
    ours.load_state_dict(copied_state(legacy))
    assert_same(ref.weight, ours.weight)


@pytest.mark.parametrize("dim", [0, 1, None])
def test_legacy_weight_norm(dim):
    ref, ours = module_pair("Linear", 3, 4)
    for lib, m in ((torch, ref), (tritensor, ours)):
        with pytest.warns(FutureWarning, match="parametrizations.weight_norm"):
            utils(lib).weight_norm(m, dim=dim)
    assert list(ours.state_dict()) == list(ref.state_dict())
    assert_same(ref.weight_g, ours.weight_g)
    forward_backward(ref, ours, rng.standard_normal((2, 3)))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        same_error(lambda lib, m: utils(lib).weight_norm(m, dim=dim), ref, ours)
    both(lambda lib, m: utils(lib).remove_weight_norm(m), ref, ours)
    assert list(ours.state_dict()) == list(ref.state_dict())
    assert_same(ref.weight, ours.weight)
    same_error(lambda lib, m: utils(lib).remove_weight_norm(m), ref, ours)


# ---------------------------------------------------------------------------- spectral norm
@pytest.mark.parametrize("layer, args, kwargs", [("Linear", (3, 4), {}), ("Conv2d", (2, 3, 2), {}),
                                                 ("ConvTranspose1d", (2, 3, 2), {}),
                                                 ("Linear", (3, 4), {"dim": 1, "n_power_iterations": 3})])
def test_spectral_norm_parametrization(layer, args, kwargs):
    ref, ours = module_pair(layer, *args)
    both(lambda lib, m: utils(lib).parametrizations.spectral_norm(m, **kwargs), ref, ours)
    assert list(ours.state_dict()) == list(ref.state_dict())
    assert repr(ours) == repr(ref)
    load_torch_state(ref, ours)  # the random start of power iteration differs
    shape = {"Linear": (2, 3), "Conv2d": (1, 2, 4, 4), "ConvTranspose1d": (1, 2, 4)}[layer]
    forward_backward(ref, ours, rng.standard_normal(shape))  # training: one more iteration each
    for (n, b), (_, c) in zip(ref.named_buffers(), ours.named_buffers()):
        assert_same(b, c, what=n)
    ref.eval(), ours.eval()
    assert_same(ref.weight, ours.weight)
    # fresh power iteration (15 steps at registration) converges to the top singular value
    fresh = utils(tritensor).parametrizations.spectral_norm(getattr(tritensor.nn, layer)(*args).to(DEVICE),
                                                            **kwargs)
    top = fresh.parametrizations.weight.original
    dim = kwargs.get("dim", 1 if layer == "ConvTranspose1d" else 0)
    matrix = top.detach().cpu().numpy()
    matrix = np.moveaxis(matrix, dim, 0).reshape(matrix.shape[dim], -1)
    fresh.eval()
    np.testing.assert_allclose(np.linalg.norm(matrix, 2) * fresh.weight.detach().cpu().numpy(),
                               top.detach().cpu().numpy(), rtol=1e-2, atol=1e-3)


def test_spectral_norm_parametrization_of_a_vector_and_errors():
    ref, ours = module_pair("BatchNorm1d", 4)
    both(lambda lib, m: utils(lib).parametrizations.spectral_norm(m, "bias"), ref, ours)
    assert_same(ref.bias, ours.bias)
    ref, ours = module_pair("Linear", 3, 4)
    same_error(lambda lib, m: utils(lib).parametrizations.spectral_norm(m, dim=2), ref, ours)
    _, err = same_error(lambda lib, m: utils(lib).parametrizations.spectral_norm(m, n_power_iterations=0),
                        ref, ours)
    assert "n_power_iterations=0" in str(err)
    same_error(lambda lib, m: utils(lib).parametrizations.spectral_norm(m, "nope"), ref, ours)


def test_legacy_spectral_norm():
    ref, ours = module_pair("Linear", 3, 4)
    both(lambda lib, m: utils(lib).spectral_norm(m, n_power_iterations=2), ref, ours)
    assert list(ours.state_dict()) == list(ref.state_dict())
    assert ours.state_dict()._metadata[""] == ref.state_dict()._metadata[""]
    load_torch_state(ref, ours)
    forward_backward(ref, ours, rng.standard_normal((2, 3)))
    assert_same(ref.weight_u, ours.weight_u)
    assert_same(ref.weight_v, ours.weight_v)
    ref.eval(), ours.eval()
    forward_backward(ref, ours, rng.standard_normal((2, 3)))
    same_error(lambda lib, m: utils(lib).spectral_norm(m), ref, ours)
    both(lambda lib, m: utils(lib).remove_spectral_norm(m), ref, ours)
    assert list(ours.state_dict()) == list(ref.state_dict())
    assert_same(ref.weight, ours.weight)
    assert not ours._state_dict_hooks and not ours._load_state_dict_pre_hooks
    same_error(lambda lib, m: utils(lib).remove_spectral_norm(m), ref, ours)


def test_legacy_spectral_norm_loads_a_version_0_checkpoint():
    """Old checkpoints stored ``weight`` and no ``weight_v``: loading solves for ``v``."""
    ref, ours = module_pair("Linear", 3, 4)
    both(lambda lib, m: utils(lib).spectral_norm(m), ref, ours)
    ref(torch.ones(1, 3))
    old = ref.state_dict()
    old["weight"] = ref.weight.detach()
    del old["weight_v"]
    old._metadata[""]["spectral_norm"]["weight.version"] = 0
    ours_old = type(old)(copied_state(ref))
    ours_old["weight"] = tritensor.tensor(ref.weight.detach().numpy(), device=DEVICE)
    del ours_old["weight_v"]
    ours_old._metadata = copy.deepcopy(old._metadata)
    ref.load_state_dict(old)
    ours.load_state_dict(ours_old)
    assert_same(ref.weight_v, ours.weight_v, rtol=1e-3, atol=1e-4)  # a pseudo-inverse solve


# ---------------------------------------------------------------------------- orthogonal
@pytest.mark.parametrize("orthogonal_map", [None, "matrix_exp", "cayley", "householder"])
def test_orthogonal_square_matches_torch(orthogonal_map):
    ref, ours = module_pair("Linear", 4, 4)
    both(lambda lib, m: utils(lib).parametrizations.orthogonal(m, orthogonal_map=orthogonal_map), ref, ours)
    assert list(ours.state_dict()) == list(ref.state_dict())
    assert repr(ours) == repr(ref)
    assert_same(ref.weight, ours.weight)
    forward_backward(ref, ours, rng.standard_normal((2, 4)))
    w = rng.standard_normal((4, 4))
    ref.weight = torch.tensor(w, dtype=torch.float32)
    ours.weight = tritensor.tensor(w, dtype=tritensor.float32, device=DEVICE)
    assert_same(ref.weight, ours.weight)


@pytest.mark.parametrize("orthogonal_map", ["matrix_exp", "cayley", "householder"])
@pytest.mark.parametrize("shape", [(4, 3), (2, 5)])
def test_orthogonal_rectangular_is_orthogonal(orthogonal_map, shape):
    m = tritensor.nn.Linear(shape[1], shape[0]).to(DEVICE)
    utils(tritensor).parametrizations.orthogonal(m, orthogonal_map=orthogonal_map)
    w = m.weight.detach().cpu().numpy().astype(np.float64)
    gram = w.T @ w if shape[0] > shape[1] else w @ w.T
    np.testing.assert_allclose(gram, np.eye(min(shape)), atol=1e-5)
    m.weight.sum().backward()
    assert m.parametrizations.weight.original.grad is not None


def test_orthogonal_without_trivialization():
    ref, ours = module_pair("Linear", 3, 3)
    both(lambda lib, m: utils(lib).parametrizations.orthogonal(m, orthogonal_map="cayley",
                                                                         use_trivialization=False),
         ref, ours)
    assert list(ours.state_dict()) == list(ref.state_dict())
    assert_same(ref.weight, ours.weight)
    same_error(lambda lib, m: setattr(m, "weight", lib.eye(3)), ref, ours)
    with pytest.raises(NotImplementedError, match="geqrf"):  # documented difference: torch supports it
        utils(tritensor).parametrizations.orthogonal(tritensor.nn.Linear(3, 3), orthogonal_map="householder",
                                                     use_trivialization=False)


@pytest.mark.parametrize("case", ["vector", "bad_map", "missing", "bad_assign_shape"])
def test_orthogonal_errors(case):
    ref, ours = module_pair("Linear", 3, 4)
    calls = {
        "vector": lambda lib, m: utils(lib).parametrizations.orthogonal(m, "bias"),
        "bad_map": lambda lib, m: utils(lib).parametrizations.orthogonal(m, "expm"),
        "missing": lambda lib, m: utils(lib).parametrizations.orthogonal(m, "nope"),
        "bad_assign_shape": lambda lib, m: setattr(utils(lib).parametrizations.orthogonal(m), "weight",
                                                   lib.ones(3, 4)),
    }
    same_error(calls[case], ref, ours)


# ---------------------------------------------------------------------------- prune
def distinct_weights(ref, ours, shape, offset=0):
    """Weights without ties in magnitude (also across modules, by ``offset``), so that
    magnitude pruning has one answer."""
    size = int(np.prod(shape))
    w = (rng.permutation(size).reshape(shape) + 1 + offset) * rng.choice([-1, 1], shape) / 8
    with torch.no_grad():
        ref.weight.copy_(torch.tensor(w))
    with tritensor.no_grad():
        ours.weight.copy_(tritensor.tensor(w, device=DEVICE))


def prune_(lib):
    return utils(lib).prune


def test_prune_deterministic_methods_compose_like_torch():
    ref, ours = module_pair("Linear", 4, 6)
    distinct_weights(ref, ours, (6, 4))

    def prune_steps(lib, m):
        p = prune_(lib)
        p.l1_unstructured(m, "weight", amount=0.25)
        p.ln_structured(m, "weight", amount=0.34, n=2, dim=0)
        p.l1_unstructured(m, "weight", amount=3)
        p.ln_structured(m, "weight", amount=1, n=1, dim=-1)
        mask = lib.ones(6, 4, device=dev_of(lib))
        mask[0, 0] = 0
        p.custom_from_mask(m, "weight", mask)
        p.identity(m, "bias")
    both(prune_steps, ref, ours)
    assert list(ours.state_dict()) == list(ref.state_dict())
    assert_same(ref.weight_mask, ours.weight_mask)
    assert prune_(tritensor).is_pruned(ours)
    container = [h for h in ours._forward_pre_hooks.values()
                 if isinstance(h, prune_(tritensor).PruningContainer)]
    assert len(container) == 1 and len(container[0]) == 5
    forward_backward(ref, ours, rng.standard_normal((2, 4)))
    with torch.no_grad():
        ref.weight_orig.mul_(2)
    with tritensor.no_grad():
        ours.weight_orig.mul_(2)
    forward_backward(ref, ours, rng.standard_normal((2, 4)))  # the hook recomputes weight
    both(lambda lib, m: prune_(lib).remove(m, "weight"), ref, ours)
    both(lambda lib, m: prune_(lib).remove(m, "bias"), ref, ours)
    assert list(ours.state_dict()) == list(ref.state_dict())
    assert_same(ref.weight, ours.weight)
    assert not prune_(tritensor).is_pruned(ours)


def dev_of(lib):
    return DEVICE if lib is tritensor else "cpu"


def test_prune_importance_scores_and_global():
    ref, ours = module_pair("Linear", 3, 4)
    ref2, ours2 = module_pair("Conv1d", 2, 2, 2)
    distinct_weights(ref, ours, (4, 3))
    distinct_weights(ref2, ours2, (2, 2, 2), offset=12)
    scores = rng.permutation(12).reshape(4, 3).astype(np.float32)

    def global_prune(lib, pair):
        m, m2 = pair
        p = prune_(lib)
        p.l1_unstructured(m, "weight", 2, importance_scores=lib.tensor(scores, device=dev_of(lib)))
        p.global_unstructured([(m, "weight"), (m2, "weight"), (m2, "bias")], p.L1Unstructured, amount=0.4)
        return m.weight_mask, m2.weight_mask, m2.bias_mask
    expected, actual = both(global_prune, (ref, ref2), (ours, ours2))
    assert_same(expected, actual)


def test_prune_random_methods_structure():
    m = tritensor.nn.Linear(5, 6).to(DEVICE)
    p = prune_(tritensor)
    p.random_unstructured(m, "weight", amount=0.3)
    assert int(m.weight_mask.sum()) == 30 - 9
    p.random_structured(m, "weight", amount=2, dim=0)
    rows = m.weight_mask.sum(dim=1).cpu().numpy()
    assert (rows == 0).sum() >= 2
    p.random_unstructured(m, "weight", amount=4)
    assert int(m.weight_mask.sum()) <= 30 - 9 - 4
    np.testing.assert_array_equal((m.weight == 0).cpu().numpy() | (m.weight_orig == 0).cpu().numpy(),
                                  (m.weight_mask == 0).cpu().numpy())


@pytest.mark.parametrize("case", ["float_amount_too_big", "negative_amount", "string_amount", "count_too_big",
                                  "structured_vector", "bad_dim", "remove_unpruned", "global_structured",
                                  "global_not_iterable", "importance_shape", "container_other_name"])
def test_prune_errors(case):
    ref, ours = module_pair("Linear", 3, 4)
    calls = {
        "float_amount_too_big": lambda lib, m: prune_(lib).l1_unstructured(m, "weight", 1.5),
        "negative_amount": lambda lib, m: prune_(lib).random_unstructured(m, "weight", -1),
        "string_amount": lambda lib, m: prune_(lib).l1_unstructured(m, "weight", "half"),
        "count_too_big": lambda lib, m: prune_(lib).l1_unstructured(m, "weight", 13),
        "structured_vector": lambda lib, m: prune_(lib).ln_structured(m, "bias", 1, n=2, dim=0),
        "bad_dim": lambda lib, m: prune_(lib).ln_structured(m, "weight", 1, n=2, dim=2),
        "remove_unpruned": lambda lib, m: prune_(lib).remove(m, "weight"),
        "global_structured": lambda lib, m: prune_(lib).global_unstructured(
            [(m, "weight")], prune_(lib).LnStructured, amount=1, n=2),
        "global_not_iterable": lambda lib, m: prune_(lib).global_unstructured(m, prune_(lib).L1Unstructured,
                                                                              amount=1),
        "importance_shape": lambda lib, m: prune_(lib).l1_unstructured(m, "weight", 1,
                                                                       importance_scores=lib.ones(2)),
        "container_other_name": lambda lib, m: prune_(lib).PruningContainer(
            prune_(lib).L1Unstructured.apply(m, "weight", 1)).add_pruning_method(
            prune_(lib).L1Unstructured.apply(m, "bias", 1)),
    }
    same_error(calls[case], ref, ours)
    if case == "count_too_big":  # the failed pruning left the module as it was
        assert list(ours._parameters) == list(ref._parameters) == ["bias", "weight"]


def test_prune_method_prune_without_module():
    t = rng.permutation(8).astype(np.float32) - 4
    expected = torch.nn.utils.prune.L1Unstructured(amount=3).prune(torch.tensor(t))
    actual = tritensor.nn.utils.prune.L1Unstructured(amount=3).prune(tritensor.tensor(t, device=DEVICE))
    assert_same(expected, actual)


# ---------------------------------------------------------------------------- fusion
def bn_pair(name, features, affine=True):
    ref, ours = module_pair(name, features, affine=affine)
    stats = {"running_mean": rng.standard_normal(features), "running_var": rng.uniform(0.5, 2, features)}
    for key, value in stats.items():
        getattr(ref, key).copy_(torch.tensor(value))
        getattr(ours, key).copy_(tritensor.tensor(value, device=DEVICE))
    return ref.eval(), ours.eval()


@pytest.mark.parametrize("layer, args, bias, affine, shape", [
    ("Conv2d", (2, 3, 2), True, True, (1, 2, 4, 4)), ("Conv1d", (2, 3, 2), False, False, (2, 2, 5)),
    ("ConvTranspose2d", (2, 3, 2), True, True, (1, 2, 3, 3))])
def test_fuse_conv_bn_eval(layer, args, bias, affine, shape):
    conv_ref, conv = module_pair(layer, *args, bias=bias)
    conv_ref.eval(), conv.eval()
    bn_ref, bn = bn_pair("BatchNorm2d" if "2d" in layer else "BatchNorm1d", args[1], affine)
    transpose = layer.startswith("ConvTranspose")
    fused_ref = utils(torch).fuse_conv_bn_eval(conv_ref, bn_ref, transpose)
    fused = utils(tritensor).fuse_conv_bn_eval(conv, bn, transpose)
    assert fused is not conv and type(fused) is type(conv)
    assert list(fused.state_dict()) == list(fused_ref.state_dict())
    assert fused.bias.requires_grad == fused_ref.bias.requires_grad
    x = rng.standard_normal(shape)
    assert_same(fused_ref(torch.tensor(x, dtype=torch.float32)),
                fused(tritensor.tensor(x, dtype=tritensor.float32, device=DEVICE)))


@pytest.mark.parametrize("features", [4, 1])
def test_fuse_linear_bn_eval(features):
    lin_ref, lin = module_pair("Linear", 3, 4)
    lin_ref.eval(), lin.eval()
    bn_ref, bn = bn_pair("BatchNorm1d", features)
    fused_ref = utils(torch).fuse_linear_bn_eval(lin_ref, bn_ref)
    fused = utils(tritensor).fuse_linear_bn_eval(lin, bn)
    x = rng.standard_normal((2, 3))
    assert_same(fused_ref(torch.tensor(x, dtype=torch.float32)),
                fused(tritensor.tensor(x, dtype=tritensor.float32, device=DEVICE)))


def test_fuse_weights_functions_and_errors():
    w, b = rng.standard_normal((4, 3)), rng.standard_normal(4)
    rm, rv = rng.standard_normal(4), rng.uniform(0.5, 2, 4)
    bw, bb = rng.standard_normal(4), rng.standard_normal(4)

    def fuse(lib, _):
        t = [lib.tensor(a, device=dev_of(lib)) for a in (w, rm, rv, bw, bb)]
        linear = utils(lib).fuse_linear_bn_weights(t[0], None, t[1], t[2], 1e-5, t[3], t[4])
        conv_b = lib.tensor(b, device=dev_of(lib))
        conv = utils(lib).fuse_conv_bn_weights(t[0], conv_b, t[1], t[2], 1e-5, None, None)
        return linear + conv
    expected, actual = both(fuse, None, None)
    assert_same(expected, actual)
    assert all(isinstance(p, tritensor.nn.Parameter) for p in actual)
    ref, ours = module_pair("Linear", 3, 4)
    bn_ref, bn = bn_pair("BatchNorm1d", 4)
    same_error(lambda lib, m: utils(lib).fuse_linear_bn_eval(m, bn_ref if lib is torch else bn), ref, ours)
    ref.eval(), ours.eval()
    bn_ref5, bn5 = bn_pair("BatchNorm1d", 5)
    same_error(lambda lib, m: utils(lib).fuse_linear_bn_eval(m, bn_ref5 if lib is torch else bn5), ref, ours)


# ---------------------------------------------------------------------------- nn.init aliases
@pytest.mark.parametrize("name, args", [("uniform", ()), ("normal", ()), ("constant", (0.5,)), ("eye", ()),
                                        ("dirac", ()), ("orthogonal", ()), ("sparse", (0.5,)),
                                        ("xavier_uniform", ()), ("xavier_normal", ()),
                                        ("kaiming_uniform", ()), ("kaiming_normal", ())])
def test_deprecated_init_aliases(name, args):
    assert name in dir(torch.nn.init)
    shape = (3, 3, 3) if name == "dirac" else (4, 3)
    t = tritensor.empty(shape, device=DEVICE)
    message = f"`nn.init.{name}` is now deprecated in favor of `nn.init.{name}_`"
    with pytest.warns(FutureWarning, match=message):
        out = getattr(tritensor.nn.init, name)(t, *args)
    assert out is t
    assert getattr(tritensor.nn.init, name).__name__ == name
    if name in ("eye", "dirac", "constant"):
        ref = torch.empty(shape)
        getattr(torch.nn.init, name + "_")(ref, *args)
        assert_same(ref, t)


# ---------------------------------------------------------------------------- weight-norm helpers
def weight_norm_ops(lib):
    """torch's ``_weight_norm`` / ``norm_except_dim``, or tritensor's (in nn.utils.weight_norm)."""
    if lib is torch:
        return torch._weight_norm, torch.norm_except_dim
    from tritensor.nn.utils.weight_norm import _weight_norm, norm_except_dim
    return _weight_norm, norm_except_dim


@pytest.mark.parametrize("dtype", ["float32", "float64", "float16", "bfloat16"])
@pytest.mark.parametrize("shape, dim", [((3, 4), 0), ((3, 4), 1), ((2, 3, 4), 1), ((2, 3, 4), 2),
                                        ((2, 3, 4), -1), ((2, 3, 4), -2), ((0, 3), 1)])
def test_norm_except_dim_and_weight_norm(dtype, shape, dim):
    v = Arg(rng.standard_normal(shape), dtype, requires_grad=True, transpose=len(shape) == 2)
    g_shape = () if dim == -1 else tuple(s if d == dim % len(shape) else 1 for d, s in enumerate(shape))
    g = Arg(rng.uniform(0.5, 2, g_shape), dtype, requires_grad=True)
    check(lambda lib, x: weight_norm_ops(lib)[1](x, 2, dim), v, same_node=False)
    check(lambda lib, x, y: weight_norm_ops(lib)[0](x, y, dim), v, g, same_node=False)


def test_weight_norm_gradcheck():
    _weight_norm = weight_norm_ops(tritensor)[0]
    gradcheck(lambda lib, v, g: _weight_norm(v, g, 1), rng.standard_normal((3, 4)),
              rng.uniform(0.5, 2, (1, 4)))

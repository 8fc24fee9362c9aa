"""nn.Module machinery, layers, nn.functional, nn.init and nn.utils against torch."""
from __future__ import annotations

import copy
import math
import warnings
from collections import OrderedDict

import numpy as np
import pytest
import torch

import tritensor
from harness import DEVICE, Arg, assert_same, check, dev, gradcheck, to_numpy, torch_2_13

tnn = tritensor.nn
F = tritensor.nn.functional
rng = np.random.default_rng(0)


def randn(*shape):
    return rng.standard_normal(shape).astype(np.float32)


def to_tt(t):
    return tritensor.tensor(t.detach().numpy(), device=DEVICE)


# ---------------------------------------------------------------------------- module pairs
def module_pair(name, *args, **kwargs):
    """The same layer in torch and in tritensor, with torch's initial weights copied into ours."""
    ref = getattr(torch.nn, name)(*args, **kwargs)
    ours = getattr(tnn, name)(*args, **kwargs).to(DEVICE)
    ours.load_state_dict({k: to_tt(v) for k, v in ref.state_dict().items()})
    return ref, ours


def compare_module(ref, ours, *inputs, grad=True):
    """Forward both (inputs are numpy arrays; float ones require grad), then backward with the
    same random output gradient; compare outputs, input grads, parameter grads and buffers."""
    t_in = [torch.tensor(x, requires_grad=grad and x.dtype.kind == "f") for x in inputs]
    a_in = [tritensor.tensor(x, device=DEVICE, requires_grad=grad and x.dtype.kind == "f") for x in inputs]
    expected, actual = ref(*t_in), ours(*a_in)
    assert_same(expected, actual)
    if grad and expected.requires_grad:
        assert type(actual.grad_fn).__name__ == type(expected.grad_fn).__name__
        seed = rng.standard_normal(tuple(expected.shape)).astype(np.float32)
        expected.backward(torch.tensor(seed))
        actual.backward(tritensor.tensor(seed, device=DEVICE))
        for t, a in zip(t_in, a_in):
            if t.requires_grad:
                assert_same(t.grad, a.grad, what="input grad")
        for (name, tp), (name2, ap) in zip(ref.named_parameters(), ours.named_parameters()):
            assert name == name2
            if tp.grad is None:
                assert ap.grad is None, name
            else:
                assert_same(tp.grad, ap.grad, what=f"grad of {name}")
    for (name, tb), (_, ab) in zip(ref.named_buffers(), ours.named_buffers()):
        assert_same(tb, ab, what=f"buffer {name}")
    return actual


# ---------------------------------------------------------------------------- repr
class _Simple:
    @staticmethod
    def build(lib):
        class SimpleNN(lib.nn.Module):
            def __init__(self):
                super(SimpleNN, self).__init__()
                self.fc1 = lib.nn.Linear(1024, 224)
                self.fc2 = lib.nn.Linear(224, 10)

            def forward(self, x):
                x = lib.relu(self.fc1(x))
                return self.fc2(x)
        return SimpleNN()


def nested(lib):
    nn = lib.nn
    return nn.Sequential(
        nn.Linear(4, 8), nn.ReLU(), nn.Dropout(0.25),
        nn.Sequential(nn.Linear(8, 8, bias=False), nn.LeakyReLU(0.2), nn.ELU(), nn.GELU(approximate="tanh")),
        nn.ModuleList([nn.Linear(2, 2), nn.Linear(2, 2), nn.Linear(2, 2), nn.Tanh(), nn.Sigmoid()]),
        nn.ModuleDict({"act": nn.SiLU(), "soft": nn.Softmax(dim=1), "logsoft": nn.LogSoftmax(dim=-1),
                       "plus": nn.Softplus(beta=2.0)}),
        nn.Flatten(), nn.Unflatten(1, (2, 4)), nn.Identity(), nn.Embedding(10, 3, padding_idx=0),
        nn.LayerNorm(8), nn.BatchNorm1d(8, momentum=None), nn.ReLU(inplace=True),
        nn.ModuleList(), nn.MSELoss(), nn.CrossEntropyLoss(),
    )


def test_seed_simple_nn_repr_matches_torch():
    assert repr(_Simple.build(tritensor)) == repr(_Simple.build(torch))
    assert repr(_Simple.build(tritensor)) == (
        "SimpleNN(\n  (fc1): Linear(in_features=1024, out_features=224, bias=True)\n"
        "  (fc2): Linear(in_features=224, out_features=10, bias=True)\n)")


@torch_2_13
def test_nested_container_repr_matches_torch():
    assert repr(nested(tritensor)) == repr(nested(torch))


def test_parameter_repr_and_type():
    p = tnn.Parameter(tritensor.tensor([1.0, 2.0]))
    assert repr(p) == repr(torch.nn.Parameter(torch.tensor([1.0, 2.0])))
    assert isinstance(p, tritensor.Tensor) and p.requires_grad and p.is_leaf
    assert not tnn.Parameter(tritensor.tensor([1.0]), requires_grad=False).requires_grad
    p.grad = tritensor.ones(2)
    q = copy.deepcopy(p)
    assert isinstance(q, tnn.Parameter) and q.requires_grad and q.data_ptr() != p.data_ptr()
    theirs = torch.nn.Parameter(torch.ones(2))
    theirs.grad = torch.ones(2)
    assert q.grad is None and copy.deepcopy(theirs).grad is None  # a parameter's copy has no grad


# ---------------------------------------------------------------------------- registration
class Net(tnn.Module):
    def __init__(self):
        super().__init__()
        self.fc = tnn.Linear(3, 4)
        self.shared = self.fc
        self.blocks = tnn.ModuleList([tnn.Linear(4, 4), tnn.ReLU()])
        self.scale = tnn.Parameter(tritensor.ones(1))
        self.register_buffer("steps", tritensor.zeros(1))
        self.register_buffer("cache", tritensor.zeros(2), persistent=False)
        self.plain = 5

    def forward(self, x):
        return self.blocks[1](self.blocks[0](self.fc(x))) * self.scale


def test_named_parameters_buffers_modules():
    net = Net()
    assert [n for n, _ in net.named_parameters()] == ["scale", "fc.weight", "fc.bias", "blocks.0.weight",
                                                      "blocks.0.bias"]
    assert len(list(net.parameters(recurse=False))) == 1
    assert [n for n, _ in net.named_buffers()] == ["steps", "cache"]
    # state_dict, like torch's, lists a shared submodule under every name it is reachable by
    assert list(net.state_dict()) == ["scale", "steps", "fc.weight", "fc.bias", "shared.weight",
                                      "shared.bias", "blocks.0.weight", "blocks.0.bias"]
    assert [n for n, _ in net.named_modules()] == ["", "fc", "blocks", "blocks.0", "blocks.1"]
    assert [n for n, _ in net.named_children()] == ["fc", "blocks"]
    assert len(list(net.named_parameters(remove_duplicate=False))) == 7
    assert net.get_submodule("blocks.0") is net.blocks[0]
    assert net.get_parameter("blocks.0.bias") is net.blocks[0].bias
    with pytest.raises(AttributeError):
        net.get_submodule("blocks.7")
    with pytest.raises(AttributeError):
        net.get_submodule("plain.x")
    assert net.plain == 5 and "plain" not in net._parameters


def test_registration_errors_match_torch():
    for lib in (torch, tritensor):
        m = lib.nn.Linear(2, 2)
        with pytest.raises(TypeError):
            m.weight = lib.ones(2, 2)  # a plain tensor into a parameter slot
        with pytest.raises(KeyError):
            m.register_parameter("a.b", None)
        with pytest.raises(KeyError):
            m.register_buffer("weight", lib.ones(1))
        with pytest.raises(TypeError):
            m.add_module("x", 3)
        with pytest.raises(AttributeError):
            m.nothing_here

        class Early(lib.nn.Module):
            def __init__(self):
                self.w = lib.nn.Parameter(lib.ones(1))
        with pytest.raises(AttributeError):
            Early()


def test_setattr_none_and_delattr():
    m = tnn.Linear(2, 2)
    m.bias = None
    assert "bias" in m._parameters and m.bias is None
    assert [n for n, _ in m.named_parameters()] == ["weight"]
    del m.weight
    assert "weight" not in m._parameters
    m.weight = tnn.Parameter(tritensor.ones(2, 2))
    assert m.weight.shape == (2, 2)


def test_train_eval_requires_grad_zero_grad_apply():
    net = Net()
    assert net.training and net.blocks[0].training
    net.eval()
    assert not net.training and not net.blocks[0].training
    net.train()
    assert net.blocks[1].training
    with pytest.raises(ValueError):
        net.train("yes")
    net.requires_grad_(False)
    assert not any(p.requires_grad for p in net.parameters())
    net.requires_grad_(True)
    net(tritensor.randn(2, 3)).sum().backward()
    assert all(p.grad is not None for p in net.parameters())
    net.zero_grad(set_to_none=False)
    assert all(float(p.grad.abs().sum()) == 0.0 for p in net.parameters())
    net.zero_grad()
    assert all(p.grad is None for p in net.parameters())
    seen = []
    net.apply(lambda m: seen.append(type(m).__name__))
    assert seen == ["Linear", "Linear", "ReLU", "ModuleList", "Net"]


def test_to_dtype_keeps_parameter_identity():
    net = Net()
    w = net.fc.weight
    net.double()
    assert net.fc.weight is w and w.dtype is tritensor.float64 and isinstance(w, tnn.Parameter)
    assert net.steps.dtype is tritensor.float64
    net.to(tritensor.float32)
    assert w.dtype is tritensor.float32
    net.half()
    assert w.dtype is tritensor.float16
    net.bfloat16().float()
    assert w.dtype is tritensor.float32
    with pytest.raises(TypeError):
        net.to(tritensor.int64)
    bn = tnn.BatchNorm1d(3).double()
    assert bn.num_batches_tracked.dtype is tritensor.int64  # integer buffers keep their dtype
    assert net.to("cpu") is net and net.cpu() is net
    net.to(DEVICE)
    assert net.fc.weight.device.type == DEVICE.split(":")[0]


def test_state_dict_round_trip_and_strict_errors():
    ref = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.BatchNorm1d(4))
    ours = tnn.Sequential(tnn.Linear(3, 4), tnn.BatchNorm1d(4)).to(DEVICE)
    assert list(ours.state_dict()) == list(ref.state_dict())
    result = ours.load_state_dict({k: to_tt(v) for k, v in ref.state_dict().items()})
    assert result.missing_keys == [] and result.unexpected_keys == []
    for (k, v), (k2, v2) in zip(ref.state_dict().items(), ours.state_dict().items()):
        assert k == k2
        assert_same(v, v2)
    sd = ours.state_dict()
    assert not sd["0.weight"].requires_grad
    assert ours.state_dict(keep_vars=True)["0.weight"] is ours[0].weight
    bad = dict(sd)
    del bad["0.bias"]
    bad["extra.w"] = tritensor.ones(1)
    with pytest.raises(RuntimeError) as ours_err:
        ours.load_state_dict(bad)
    tbad = {k: torch.tensor(to_numpy(v)) for k, v in bad.items()}
    with pytest.raises(RuntimeError) as torch_err:
        ref.load_state_dict(tbad)
    assert str(ours_err.value) == str(torch_err.value)
    result = ours.load_state_dict(bad, strict=False)
    assert result.missing_keys == ["0.bias"] and result.unexpected_keys == ["extra.w"]
    wrong = dict(sd)
    wrong["0.weight"] = tritensor.ones(5, 3)
    with pytest.raises(RuntimeError, match=r"size mismatch for 0.weight: copying a param with shape"):
        ours.load_state_dict(wrong)
    with pytest.raises(RuntimeError, match="size mismatch"):
        ours.load_state_dict(wrong, strict=False)


def test_load_state_dict_copies_in_place():
    m = tnn.Linear(2, 2)
    w = m.weight
    m.load_state_dict({"weight": tritensor.ones(2, 2), "bias": tritensor.zeros(2)})
    assert m.weight is w and float(w.sum()) == 4.0 and w.requires_grad


def test_forward_hooks():
    m = tnn.Linear(2, 2).to(DEVICE)
    x = tritensor.ones(1, 2, device=DEVICE)
    calls = []
    h1 = m.register_forward_pre_hook(lambda mod, args: (args[0] * 0,))
    h2 = m.register_forward_hook(lambda mod, args, out: calls.append(out.shape) or out + 1)
    out = m(x)
    assert calls == [(1, 2)]
    np.testing.assert_allclose(to_numpy(out), to_numpy(m.bias + 1).reshape(1, 2))
    h1.remove()
    h2.remove()
    out = m(x)
    assert len(calls) == 1
    kw = m.register_forward_pre_hook(lambda mod, args, kwargs: ((x * 0,), kwargs), with_kwargs=True)
    np.testing.assert_allclose(to_numpy(m(x)), to_numpy(m.bias).reshape(1, 2))
    kw.remove()


def test_share_memory_is_refused_not_silently_skipped():
    """Hogwild-style training relies on share_memory(): without it each worker would train a
    private copy, so tritensor says it cannot rather than returning the module unshared."""
    with pytest.raises(NotImplementedError, match="shared memory"):
        tritensor.nn.Linear(2, 2).share_memory()


def test_module_without_forward_raises():
    with pytest.raises(NotImplementedError):
        tnn.Module()(1)


# ---------------------------------------------------------------------------- containers
def test_sequential_indexing_slicing_append():
    seq = tnn.Sequential(tnn.Linear(2, 3), tnn.ReLU(), tnn.Linear(3, 1))
    assert len(seq) == 3 and isinstance(seq[-1], tnn.Linear) and isinstance(seq[1], tnn.ReLU)
    sub = seq[1:]
    assert isinstance(sub, tnn.Sequential) and len(sub) == 2 and sub[1] is seq[2]
    assert [type(m).__name__ for m in seq] == ["Linear", "ReLU", "Linear"]
    seq.append(tnn.Sigmoid())
    assert len(seq) == 4 and list(seq._modules) == ["0", "1", "2", "3"]
    del seq[1]
    assert list(seq._modules) == ["0", "1", "2"] and isinstance(seq[1], tnn.Linear)
    with pytest.raises(IndexError):
        seq[5]
    named = tnn.Sequential(OrderedDict([("a", tnn.Linear(2, 2)), ("b", tnn.Tanh())]))
    assert repr(named) == repr(torch.nn.Sequential(OrderedDict([("a", torch.nn.Linear(2, 2)),
                                                                 ("b", torch.nn.Tanh())])))
    ref, ours = torch.nn.Sequential(torch.nn.Linear(2, 3), torch.nn.ReLU(), torch.nn.Linear(3, 1)), \
        tnn.Sequential(tnn.Linear(2, 3), tnn.ReLU(), tnn.Linear(3, 1))
    ours.load_state_dict({k: to_tt(v) for k, v in ref.state_dict().items()})
    compare_module(ref, ours.to(DEVICE), randn(4, 2))


@pytest.mark.parametrize("shape", [(4,), (2, 3), (2, 3, 4), (2, 3, 4, 5)])
def test_softmax_without_dim_warns_and_picks_torchs_dim(shape):
    """torch's legacy implicit dim (0 for 0-, 1- and 3-d inputs, else 1), with its warning."""
    x = np.random.default_rng(0).standard_normal(shape).astype(np.float32)
    for name in ("softmax", "log_softmax"):
        outs = []
        for lib in (torch, tritensor):
            module = getattr(lib.nn, {"softmax": "Softmax", "log_softmax": "LogSoftmax"}[name])()
            with pytest.warns(UserWarning, match=f"Implicit dimension choice for {name} has been deprecated"):
                a = getattr(lib.nn.functional, name)(lib.tensor(x))
            with pytest.warns(UserWarning, match="Implicit dimension choice"):
                b = module(lib.tensor(x))
            outs.append((to_numpy(a), to_numpy(b)))
        for ours, theirs in zip(outs[1], outs[0]):
            np.testing.assert_allclose(ours, theirs, rtol=1e-6, atol=1e-7)


def test_sequential_times_an_int_repeats_its_modules():
    for lib in (torch, tritensor):
        s = lib.nn.Sequential(lib.nn.Linear(1, 1), lib.nn.ReLU())
        twice = s * 2
        assert len(twice) == len(2 * s) == 4 and twice[0] is twice[2] is s[0]
        s *= 3
        assert len(s) == 6 and len(list(s.parameters())) == 2
        for bad, error in ((0, ValueError), (-1, ValueError), (1.5, TypeError)):
            with pytest.raises(error):
                lib.nn.Sequential(lib.nn.ReLU()) * bad
    ours, theirs = tritensor.nn.Sequential(tritensor.nn.ReLU()) * 2, torch.nn.Sequential(torch.nn.ReLU()) * 2
    assert repr(ours) == repr(theirs)


@pytest.mark.parametrize("index", [-3, -2, -1, 0, 1, 2, 3])
def test_sequential_insert_like_torch(index):
    """insert(i) puts the module before position i, counting a negative i from the end (i + n)."""
    names = []
    for lib in (torch, tritensor):
        seq = lib.nn.Sequential(lib.nn.ReLU(), lib.nn.Tanh())
        try:
            seq.insert(index, lib.nn.GELU())
            names.append([type(m).__name__ for m in seq] + list(seq._modules))
        except IndexError as exc:
            names.append(str(exc))
    assert names[1] == names[0]


def _parameter_containers(lib):
    """What a user sees of ParameterList/ParameterDict: reprs, names, types, edits, errors."""
    nn, seen = lib.nn, []
    pl = nn.ParameterList([nn.Parameter(lib.ones(2)), lib.zeros(3)])
    seen += [repr(pl), [n for n, _ in pl.named_parameters()], type(pl[1]).__name__, len(pl)]
    pd = nn.ParameterDict({"a": nn.Parameter(lib.ones(2)), "b": lib.zeros(2, 3)})
    seen += [repr(pd), [n for n, _ in pd.named_parameters()], list(pd.keys()), "a" in pd]
    seen.append(type(pd["b"]).__name__)

    class Model(nn.Module):
        def __init__(self):
            super().__init__()
            self.ps = nn.ParameterList([nn.Parameter(lib.ones(2))])
            self.pd = nn.ParameterDict({"w": lib.ones(1)})
    model = Model()
    seen += [repr(model), list(model.state_dict()), len(list(model.parameters()))]
    pl.append(lib.ones(1))
    pl.extend([lib.ones(2)])
    pl += [lib.ones(4)]
    pl[0] = lib.zeros(5)
    seen += [[tuple(p.shape) for p in pl], type(pl[0]).__name__, tuple(pl[-1].shape), len(pl[1:3])]
    seen += [repr(nn.ParameterList()), repr(nn.ParameterDict())]
    seen.append(repr(nn.ParameterList([nn.Parameter(lib.ones(2, dtype=lib.float64)), 3])))
    pd.update([("c", lib.ones(1))])
    seen += [list(pd), tuple(pd.pop("a").shape), list(pd), pd.get("zz", 5)]
    seen.append(tuple(pd.setdefault("d", lib.ones(3)).shape))
    del pd["b"]
    seen.append(list(pd))
    for bad in (lambda: pl[10], lambda: pd["nope"]):
        try:
            bad()
        except Exception as exc:  # noqa: BLE001 - the type is what is compared
            seen.append(type(exc).__name__)
    return seen


def test_parameter_list_and_dict_like_torch():
    ours, theirs = _parameter_containers(tritensor), _parameter_containers(torch)
    assert len(ours) == len(theirs)
    for a, b in zip(ours, theirs):
        assert a == b


def test_module_list_and_dict():
    ml = tnn.ModuleList([tnn.Linear(1, 1) for _ in range(3)])
    ml.append(tnn.ReLU())
    ml.extend([tnn.Tanh()])
    ml.insert(0, tnn.Sigmoid())
    assert [type(m).__name__ for m in ml] == ["Sigmoid", "Linear", "Linear", "Linear", "ReLU", "Tanh"]
    assert len(list(ml.parameters())) == 6 and isinstance(ml[-1], tnn.Tanh)
    assert len(ml[1:3]) == 2
    md = tnn.ModuleDict({"a": tnn.Linear(1, 2)})
    md["b"] = tnn.ReLU()
    md.update([("c", tnn.Tanh())])
    assert list(md.keys()) == ["a", "b", "c"] and "b" in md and len(md) == 3
    assert md.pop("b").__class__ is tnn.ReLU and list(md) == ["a", "c"]
    assert [n for n, _ in md.named_parameters()] == ["a.weight", "a.bias"]


# ---------------------------------------------------------------------------- layers vs torch
@pytest.mark.parametrize("bias", [True, False])
@pytest.mark.parametrize("shape", [(5, 3), (2, 4, 3), (3,)])
def test_linear(bias, shape):
    ref, ours = module_pair("Linear", 3, 4, bias=bias)
    compare_module(ref, ours, randn(*shape))


def test_layer_norm_wants_a_shape_tuple():
    check(lambda lib, t: lib.nn.functional.layer_norm(t, 3), Arg(np.ones((2, 3)), "float32"))


@pytest.mark.skipif(DEVICE != "cpu", reason="torch's mixed-dtype rule is its CPU kernel's")
def test_layer_norm_parameters_of_another_dtype_on_the_cpu():
    """On the CPU layer_norm's parameters must have the input's dtype (float32 serves 16-bit)."""
    x = np.ones((2, 3))
    for dtype, pdtype in [("float64", "float32"), ("float32", "float64"), ("bfloat16", "float32"),
                          ("float16", "float64")]:
        check(lambda lib, t, w: lib.nn.functional.layer_norm(t, (3,), w), Arg(x, dtype),
              Arg(np.ones(3), pdtype))


def test_linear_refuses_0d_input():
    check(lambda lib, x: lib.nn.functional.linear(x, lib.ones(2, 3, device=x.device)), Arg(np.array(1.0)))


def test_linear_default_init_distribution():
    m = tnn.Linear(400, 300)
    bound = 1 / math.sqrt(400)  # kaiming_uniform(a=sqrt(5)) gives the same bound for the weight
    w, b = np.asarray(m.weight.detach()), np.asarray(m.bias.detach())
    assert np.abs(w).max() <= bound and np.abs(w).max() > 0.95 * bound
    assert abs(w.std() - bound / math.sqrt(3)) < 0.02 * bound
    assert np.abs(b).max() <= bound and len(np.unique(b)) == 300


@pytest.mark.parametrize("name,args,kwargs", [
    ("ReLU", (), {}), ("LeakyReLU", (0.2,), {}), ("ELU", (0.7,), {}), ("GELU", (), {}),
    ("GELU", (), {"approximate": "tanh"}), ("SiLU", (), {}), ("Sigmoid", (), {}), ("Tanh", (), {}),
    ("Softplus", (2.0, 5.0), {}), ("Softmax", (1,), {}), ("LogSoftmax", (-1,), {}), ("Identity", (), {}),
    ("Flatten", (), {}), ("Flatten", (0, 1), {}), ("Unflatten", (1, (2, 3)), {}),
    ("Hardtanh", (-0.5, 0.5), {}), ("Mish", (), {}), ("Hardswish", (), {}), ("Hardsigmoid", (), {}),
    ("SELU", (), {}), ("CELU", (0.5,), {}), ("Softsign", (), {}), ("Tanhshrink", (), {}),
    ("Threshold", (0.1, 20.0), {}), ("GLU", (), {}), ("GLU", (0,), {}),
])
def test_activation_and_shape_layers(name, args, kwargs):
    ref, ours = module_pair(name, *args, **kwargs)
    assert repr(ours) == repr(ref)
    compare_module(ref, ours, randn(4, 6))


class _TwoWay(torch.nn.Module):
    def forward(self, x, scale, y):
        return x * scale + y, (x * y).sum(1)


class _TwoWayOurs(tnn.Module):
    def forward(self, x, scale, y):
        return x * scale + y, (x * y).sum(1)


def _hooked_backward(lib, two_way):
    """What full backward (pre-)hooks see, and what replacing grad_input does."""
    seen = []
    lin = lib.nn.Linear(3, 2)
    with lib.no_grad():
        lin.weight.copy_(lib.tensor([[0.5, -1.0, 2.0], [1.5, 0.25, -0.5]]))
        lin.bias.fill_(0.1)

    def as_lists(grads):
        return [None if g is None else np.round(to_numpy(g), 6).tolist() for g in grads]
    lin.register_full_backward_pre_hook(lambda m, go: seen.append(("pre", as_lists(go))))
    handle = lin.register_full_backward_hook(lambda m, gi, go: seen.append(("hook", as_lists(gi),
                                                                             as_lists(go))))
    x = lib.tensor([[1.0, 2.0, 3.0], [0.5, -1.0, 0.0]], requires_grad=True)
    out = lin(x)
    seen.append(type(out.grad_fn).__name__)
    (out * lib.tensor([1.0, 2.0])).sum().backward()
    seen.append(as_lists([x.grad]))
    with warnings.catch_warnings(record=True):
        warnings.simplefilter("always")
        (lin(x.detach()) * 3).sum().backward()  # no input needs a gradient: grad_input is (None,)
    handle.remove()
    lin.register_full_backward_hook(lambda m, gi, go: (gi[0] * 0,))
    x.grad = None
    lin(x).sum().backward()
    seen.append(as_lists([x.grad]))
    module = two_way()
    module.register_full_backward_hook(lambda m, gi, go: seen.append(("two", as_lists(gi), as_lists(go))))
    y = lib.tensor([[1.0, -1.0, 2.0]], requires_grad=True)
    a, b = module(x, 2.0, y)
    (a.sum() + b.sum() * 3).backward()
    return seen


def test_full_backward_hooks_like_torch():
    ours, theirs = _hooked_backward(tritensor, _TwoWayOurs), _hooked_backward(torch, _TwoWay)
    assert ours == theirs


def test_in_place_activation_module_reprs():
    for name, args in [("CELU", ()), ("Threshold", (0.1, 20)), ("Mish", ()), ("SELU", ()), ("Hardswish", ())]:
        ours, theirs = getattr(tnn, name)(*args, inplace=True), getattr(torch.nn, name)(*args, inplace=True)
        assert repr(ours) == repr(theirs)


def test_inplace_relu_module():
    x = tritensor.tensor([-1.0, 2.0], device=DEVICE)
    out = tnn.ReLU(inplace=True)(x)
    assert out is x and x.tolist() == [0.0, 2.0]


@pytest.mark.parametrize("shape,normalized", [((4, 6), (6,)), ((2, 3, 4), (3, 4)), ((2, 3, 4), 4)])
@pytest.mark.parametrize("affine", [True, False])
def test_layer_norm(shape, normalized, affine):
    ref, ours = module_pair("LayerNorm", normalized, elementwise_affine=affine)
    if affine:  # non-trivial affine parameters
        with torch.no_grad():
            ref.weight.normal_()
            ref.bias.normal_()
        ours.load_state_dict({k: to_tt(v) for k, v in ref.state_dict().items()})
    compare_module(ref, ours, randn(*shape))


def test_layer_norm_bad_shape():
    check(lambda lib, x: lib.nn.functional.layer_norm(x, (5,)), randn(4, 3))


@pytest.mark.parametrize("shape", [(8, 3), (4, 3, 5)])
def test_batch_norm_train_updates_running_stats_then_eval(shape):
    ref, ours = module_pair("BatchNorm1d", 3)
    with torch.no_grad():
        ref.weight.normal_()
        ref.bias.normal_()
    ours.load_state_dict({k: to_tt(v) for k, v in ref.state_dict().items()})
    for _ in range(2):
        compare_module(ref, ours, randn(*shape) * 3 + 1)
    assert int(ours.num_batches_tracked) == 2
    ref.eval()
    ours.eval()
    compare_module(ref, ours, randn(*shape))


def test_batch_norm_cumulative_average_and_no_tracking():
    ref, ours = module_pair("BatchNorm1d", 3, momentum=None)
    for _ in range(3):
        compare_module(ref, ours, randn(6, 3) * 2 + 1, grad=False)
    ref, ours = module_pair("BatchNorm1d", 3, affine=False, track_running_stats=False)
    compare_module(ref, ours, randn(6, 3))
    ref.eval()
    ours.eval()
    compare_module(ref, ours, randn(6, 3))


def test_batch_norm_errors():
    with pytest.raises(ValueError):
        tnn.BatchNorm1d(3).to(DEVICE)(tritensor.randn(2, 3, 4, 5, device=DEVICE))
    check(lambda lib, x: lib.nn.functional.batch_norm(x, None, None, training=True), randn(1, 3))


def test_dropout_train_and_eval():
    tritensor.manual_seed(0)
    drop = tnn.Dropout(0.3)
    x = tritensor.ones(200, 100, device=DEVICE, requires_grad=True)
    y = drop(x)
    vals = to_numpy(y)
    kept = vals != 0
    assert np.all(np.isclose(vals, 0.0) | np.isclose(vals, 1 / 0.7))
    assert abs(kept.mean() - 0.7) < 0.02
    y.sum().backward()
    np.testing.assert_allclose(to_numpy(x.grad), kept / 0.7, rtol=1e-6)
    # torch's CUDA dropout is the fused native_dropout; its CPU dropout multiplies by a mask
    expected = "NativeDropoutBackward0" if DEVICE.startswith("cuda") else "MulBackward0"
    assert type(y.grad_fn).__name__ == expected
    drop.eval()
    assert drop(x) is x
    assert repr(drop) == repr(torch.nn.Dropout(0.3))
    with pytest.raises(ValueError):
        tnn.Dropout(1.5)
    assert float(F.dropout(tritensor.ones(10, device=DEVICE), p=1.0).sum()) == 0.0


def test_embedding_forward_backward():
    ref, ours = module_pair("Embedding", 10, 3, padding_idx=1)
    assert repr(ours) == repr(ref)
    assert float(ours.weight[1].abs().sum()) == 0.0
    idx = np.array([[1, 2, 4], [4, 3, 9]], dtype=np.int64)
    compare_module(ref, ours, idx)
    t_idx = torch.tensor(idx)
    out_ref = ref(t_idx)
    out_ref.sum().backward()
    out = ours(tritensor.tensor(idx, device=DEVICE))
    out.sum().backward()
    assert_same(ref.weight.grad, ours.weight.grad)
    assert float(ours.weight.grad[1].abs().sum()) == 0.0


@pytest.mark.parametrize("max_norm,norm_type,scale,padding_idx", [
    (1.5, 2.0, False, None), (None, 2.0, True, None), (1.5, 1.0, True, 4), (0.5, float("inf"), True, 0)])
def test_embedding_max_norm_and_scale_grad_by_freq(max_norm, norm_type, scale, padding_idx):
    """max_norm renormalises the selected rows of the weight in place (a row selected twice
    once); scale_grad_by_freq divides each row's gradient by its count in the batch."""
    idx = np.array([[0, 2, 2], [4, 0, 2]])

    def call(lib, w):
        d = w.device
        out = lib.nn.functional.embedding(lib.tensor(idx, device=d), w, padding_idx=padding_idx,
                                          max_norm=max_norm, norm_type=norm_type, scale_grad_by_freq=scale)
        return out * lib.arange(18.0, device=d).reshape(2, 3, 3), w.detach().clone()
    check(call, Arg(randn(5, 3).astype(np.float64) * 3, requires_grad=True))


def test_embedding_bad_index_dtype():
    check(lambda lib, i, w: lib.nn.functional.embedding(i, w), randn(3), randn(5, 2))


def test_embedding_from_pretrained():
    w = tritensor.tensor(randn(4, 2), device=DEVICE)
    e = tnn.Embedding.from_pretrained(w)
    assert not e.weight.requires_grad and e.weight.shape == (4, 2)


# ---------------------------------------------------------------------------- functional
@pytest.mark.parametrize("fn", [
    lambda lib, x: lib.nn.functional.relu(x), lambda lib, x: lib.nn.functional.leaky_relu(x, 0.1),
    lambda lib, x: lib.nn.functional.elu(x), lambda lib, x: lib.nn.functional.gelu(x),
    lambda lib, x: lib.nn.functional.silu(x), lambda lib, x: lib.nn.functional.sigmoid(x),
    lambda lib, x: lib.nn.functional.tanh(x), lambda lib, x: lib.nn.functional.softplus(x, beta=0.5),
    lambda lib, x: lib.nn.functional.softmax(x, dim=0), lambda lib, x: lib.nn.functional.log_softmax(x, 1),
    lambda lib, x: lib.nn.functional.normalize(x),
    lambda lib, x: lib.nn.functional.normalize(x, p=1.0, dim=0),
    lambda lib, x: lib.nn.functional.logsigmoid(x), lambda lib, x: lib.nn.functional.relu6(x * 5),
    lambda lib, x: lib.nn.functional.mish(x * 4), lambda lib, x: lib.nn.functional.hardswish(x * 4),
    lambda lib, x: lib.nn.functional.hardsigmoid(x * 4), lambda lib, x: lib.nn.functional.selu(x),
    lambda lib, x: lib.nn.functional.celu(x, 0.5), lambda lib, x: lib.nn.functional.softsign(x),
    lambda lib, x: lib.nn.functional.tanhshrink(x), lambda lib, x: lib.nn.functional.threshold(x, 0.1, 20.0),
    lambda lib, x: lib.nn.functional.glu(x), lambda lib, x: lib.nn.functional.glu(x, 0),
    lambda lib, x: (lib.selu(x), lib.celu(x), lib.threshold(x, -0.5, 2.0)),
])
def test_functional_activations(fn):
    check(fn, Arg(randn(3, 4), requires_grad=True))


@pytest.mark.parametrize("name,args", [("mish", ()), ("hardswish", ()), ("hardsigmoid", ()), ("selu", ()),
                                       ("celu", (0.5,)), ("threshold", (0.1, 20.0)), ("elu", (0.5,))])
def test_new_activations_in_place_gradcheck_and_edges(name, args):
    """Values at the kinks (hardswish's gradient is torch's -0.5 at exactly -3), in place on a
    non-leaf, float64 finite differences and double backward."""
    edges = np.array([-5.0, -3.0, -1.0, 0.0, 0.1, 1.0, 3.0, 5.0, 25.0])
    check(lambda lib, x: getattr(lib.nn.functional, name)(x, *args), Arg(edges, requires_grad=True))
    check(lambda lib, x: getattr(lib.nn.functional, name)(x * 1, *args, inplace=True),
          Arg(edges, requires_grad=True))
    gradcheck(lambda lib, x: getattr(lib.nn.functional, name)(x, *args), randn(6).astype(np.float64) * 3)
    results = []
    for lib in (torch, tritensor):
        x = lib.tensor(edges[[0, 2, 4, 5, 7]], requires_grad=True, device=dev(lib))
        (g,) = lib.autograd.grad(getattr(lib.nn.functional, name)(x, *args).sum(), x, create_graph=True)
        try:  # a gradient that does not depend on x (threshold's) has no second derivative: None
            second = lib.autograd.grad((g * g).sum(), x, allow_unused=True)[0] if g.requires_grad else None
            results.append(second)
        except RuntimeError:  # torch has no second derivative of hardsigmoid (ours is 0)
            assert lib is torch and name == "hardsigmoid"
            return
    expected, actual = (np.zeros(5) if r is None else to_numpy(r) for r in results)  # None: no dependence
    np.testing.assert_allclose(actual, expected, rtol=1e-7, atol=1e-9)


@pytest.mark.parametrize("pad", [(1, 2), (1, 0, 2, 1), (-1, 1), (0, 0, -1, 2)])
def test_pad_constant(pad):
    check(lambda lib, x: lib.nn.functional.pad(x, pad, value=0.5), Arg(randn(3, 4), requires_grad=True))


def test_pad_errors():
    """(the reflect/replicate/circular modes: tests/test_nn_extra.py)"""
    check(lambda lib, x: lib.nn.functional.pad(x, (1,)), randn(3, 4))
    check(lambda lib, x: lib.nn.functional.pad(x, (1, 1, 1, 1, 1, 1)), randn(3, 4))


def test_one_hot():
    check(lambda lib, t: lib.nn.functional.one_hot(t), np.array([0, 3, 1]))
    check(lambda lib, t: lib.nn.functional.one_hot(t, 5), np.array([[0, 3], [1, 4]]))
    check(lambda lib, t: lib.nn.functional.one_hot(t, 3), np.array([0, 3]))
    check(lambda lib, t: lib.nn.functional.one_hot(t, 3), np.array([0, -1]))
    check(lambda lib, t: lib.nn.functional.one_hot(t, 3), np.array([0.0, 1.0]))


def test_functional_linear_matches():
    check(lambda lib, x, w, b: lib.nn.functional.linear(x, w, b), Arg(randn(4, 3), requires_grad=True),
          Arg(randn(2, 3), requires_grad=True), Arg(randn(2), requires_grad=True))
    check(lambda lib, x, w: lib.nn.functional.linear(x, w), Arg(randn(2, 4, 3), requires_grad=True),
          Arg(randn(2, 3), requires_grad=True))


def test_functional_layer_norm_and_batch_norm_eval():
    check(lambda lib, x, w, b: lib.nn.functional.layer_norm(x, (4,), w, b),
          Arg(randn(3, 4), requires_grad=True),
          Arg(randn(4), requires_grad=True), Arg(randn(4), requires_grad=True))
    rm, rv = randn(4), np.abs(randn(4)) + 0.5
    check(lambda lib, x, m, v, w: lib.nn.functional.batch_norm(x, m, v, w, None, False),
          Arg(randn(5, 4), requires_grad=True), rm, rv, Arg(randn(4), requires_grad=True))


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_layer_and_group_norm_kernel_cases(dtype):
    """The CPU's one-kernel layer norm (trailing dims of a contiguous float32/float64 input,
    statistics from it) against torch: weight and/or bias or neither, one or two normalised
    dims, rows split across threads, a transposed input (composed), group norm (its (N,
    groups, rest) rows), values and gradients (the kernel's backward: a strided incoming
    gradient, a bias that needs none), and a double backward (composed)."""
    F = lambda lib: lib.nn.functional  # noqa: E731
    x = Arg(randn(4, 6, 40).astype(dtype), dtype, requires_grad=True)
    w, b = (Arg(randn(6, 40).astype(dtype), dtype, requires_grad=True) for _ in range(2))
    def norms(lib, x, w, b):
        f = F(lib)
        return (f.layer_norm(x, (40,), w[0], b[0]), f.layer_norm(x, (6, 40), w, None),
                f.layer_norm(x, (40,), None, b[1]), f.layer_norm(x, (6, 40)),
                f.layer_norm(x.transpose(0, 1), (40,), w[2], b[2]),
                f.layer_norm(x, (40,), w[3], b[3].detach()).transpose(0, 1))  # a strided gradient
    check(norms, x, w, b)
    # times 1: torch's group norm is one node, ours a layer norm and the channel affine
    check(lambda lib, x, w, b: F(lib).group_norm(x, 3, w[:, 0], b[:, 0]) * 1, x, w, b)
    if dtype == "float64":  # float64: the parameters' gradients sum 600 rows, which cancel
        check(lambda lib, x, w, b: F(lib).layer_norm(x, (1000,), w, b),
              *(Arg(randn(*shape).astype(dtype), dtype, requires_grad=True)
                for shape in ((600, 1000), (1000,), (1000,))))
        # create_graph: the backward recomputes the statistics in tensor ops (times 1: torch's
        # double backward is one node of its own)
        check(lambda lib, x, w: lib.autograd.grad((F(lib).layer_norm(x, (3,), w, None) ** 3).sum(), x,
                                                  create_graph=True)[0] * 1,
              Arg(randn(2, 3), dtype, requires_grad=True), Arg(randn(3), dtype, requires_grad=True))


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_batch_norm_kernel_cases(dtype):
    """The CPU's one-kernel batch norm in training (a contiguous float32/float64 input of 2-5
    dims, channels split across chunks): weight and/or bias or neither, values, the running statistics
    it updates from its own batch statistics, gradients (a strided incoming gradient, a bias
    that needs none), a transposed input (composed) and a double backward (composed)."""
    F = lambda lib: lib.nn.functional  # noqa: E731
    w, b = (Arg(randn(4).astype(dtype), dtype, requires_grad=True) for _ in range(2))
    def norms(lib, x, w, b):
        stats = [lib.zeros(4, dtype=x.dtype, device=x.device), lib.ones(4, dtype=x.dtype, device=x.device)]
        f = F(lib)
        outs = (f.batch_norm(x, *stats, w, b, True), f.batch_norm(x, None, None, w, None, True),
                f.batch_norm(x, None, None, None, b.detach(), True).transpose(0, 1),
                f.batch_norm(x, None, None, None, None, True, 0.3))
        if x.dim() > 2:
            outs += (f.batch_norm(x.transpose(2, -1), None, None, w, b, True),)
        return outs + tuple(stats)
    for shape in ((6, 4), (6, 4, 5), (3, 4, 5, 6), (2, 4, 3, 2, 5)):  # (N, C): channels are columns
        results = check(norms, Arg((randn(*shape) * 3 + 1).astype(dtype), dtype, requires_grad=True), w, b)
        assert results is not None  # computed, not an error raised by both
    if dtype == "float64":
        def double(lib, x, w):
            y = F(lib).batch_norm(x, None, None, w, None, True)
            return lib.autograd.grad((y ** 3).sum(), x, create_graph=True)[0] * 1
        check(double, Arg(randn(3, 4, 5), dtype, requires_grad=True), w)


@pytest.mark.cpu_only  # the CPU kernel's channels split across threads
def test_batch_norm_kernel_in_threads():
    x = Arg(randn(2, 128, 64, 32).astype(np.float32), "float32", requires_grad=True)
    check(lambda lib, x: lib.nn.functional.batch_norm(x, None, None, training=True), x)
    # (N, C): column slices; float64, as the parameters' gradients sum 600 rows that cancel
    columns = Arg(randn(600, 1024), "float64", requires_grad=True)
    w, b = (Arg(randn(1024), "float64", requires_grad=True) for _ in range(2))
    check(lambda lib, x, w, b: lib.nn.functional.batch_norm(x, None, None, w, b, training=True),
          columns, w, b)


def test_layer_norm_float64_gradcheck():
    from harness import gradcheck
    gradcheck(lambda lib, x, w, b: lib.nn.functional.layer_norm(x, (3,), w, b),
              randn(2, 3).astype(np.float64),
              randn(3).astype(np.float64), randn(3).astype(np.float64))
    gradcheck(lambda lib, x, w: lib.nn.functional.batch_norm(x, None, None, w, None, True),
              randn(4, 3).astype(np.float64), randn(3).astype(np.float64))


# ---------------------------------------------------------------------------- init
def test_calculate_gain_matches_torch():
    for name, param in [("linear", None), ("sigmoid", None), ("tanh", None), ("relu", None),
                        ("leaky_relu", None), ("leaky_relu", 0.2), ("selu", None), ("conv2d", None)]:
        assert tnn.init.calculate_gain(name, param) == torch.nn.init.calculate_gain(name, param)
    with pytest.raises(ValueError):
        tnn.init.calculate_gain("swish")


def _stats(t):
    a = to_numpy(t).astype(np.float64)
    return a.min(), a.max(), a.mean(), a.std()


@pytest.mark.parametrize("name,kwargs,expected_std", [
    ("uniform_", {"a": -2.0, "b": 2.0}, 4 / math.sqrt(12)),
    ("normal_", {"mean": 0.0, "std": 0.3}, 0.3),
    ("xavier_uniform_", {}, math.sqrt(2 / (200 + 300))),
    ("xavier_normal_", {"gain": 2.0}, 2 * math.sqrt(2 / (200 + 300))),
    ("kaiming_uniform_", {"nonlinearity": "relu"}, math.sqrt(2) / math.sqrt(200)),
    ("kaiming_normal_", {"mode": "fan_out", "nonlinearity": "relu"}, math.sqrt(2) / math.sqrt(300)),
    ("trunc_normal_", {"std": 1.0, "a": -1.0, "b": 1.0}, 0.5378),
])
def test_init_distributions(name, kwargs, expected_std):
    w = tnn.Parameter(tritensor.empty(300, 200, device=DEVICE))
    out = getattr(tnn.init, name)(w, **kwargs)
    assert out is w and w.requires_grad and w.grad_fn is None
    lo, hi, mean, std = _stats(w)
    assert abs(std - expected_std) < 0.03 * expected_std
    assert abs(mean) < 0.05 * max(expected_std, 0.1)
    if name == "trunc_normal_":
        assert lo >= -1.0 and hi <= 1.0


def test_init_generator_reproducible():
    a, b = tritensor.empty(5, 5, device=DEVICE), tritensor.empty(5, 5, device=DEVICE)
    tnn.init.kaiming_uniform_(a, generator=tritensor.Generator(DEVICE).manual_seed(3))  # the tensor's device,
    tnn.init.kaiming_uniform_(b, generator=tritensor.Generator(DEVICE).manual_seed(3))  # as torch requires
    assert a.tolist() == b.tolist()


def test_init_constant_eye_orthogonal():
    w = tritensor.empty(3, 5, device=DEVICE)
    assert tnn.init.constant_(w, 0.5).tolist() == [[0.5] * 5] * 3
    assert tnn.init.zeros_(w).sum().item() == 0 and tnn.init.ones_(w).sum().item() == 15
    np.testing.assert_array_equal(to_numpy(tnn.init.eye_(w)), np.eye(3, 5))
    for shape in [(4, 6), (6, 4), (3, 2, 2)]:
        q = to_numpy(tnn.init.orthogonal_(tritensor.empty(*shape, device=DEVICE), gain=2.0)).astype(float)
        flat = q.reshape(shape[0], -1)
        gram = flat @ flat.T if flat.shape[0] <= flat.shape[1] else flat.T @ flat
        np.testing.assert_allclose(gram, 4 * np.eye(gram.shape[0]), atol=1e-5)
    with pytest.raises(ValueError):
        tnn.init.xavier_uniform_(tritensor.empty(3, device=DEVICE))


# ---------------------------------------------------------------------------- nn.utils
def _grad_pairs(shapes, scale=1.0):
    tps, aps = [], []
    for s in shapes:
        g = randn(*s) * scale
        tp, ap = torch.nn.Parameter(torch.zeros(s)), tnn.Parameter(tritensor.zeros(s, device=DEVICE))
        tp.grad, ap.grad = torch.tensor(g), tritensor.tensor(g, device=DEVICE)
        tps.append(tp)
        aps.append(ap)
    return tps, aps


@pytest.mark.parametrize("norm_type", [2.0, 1.0, 3.0, float("inf")])
@pytest.mark.parametrize("max_norm", [0.5, 100.0])
def test_clip_grad_norm(norm_type, max_norm):
    tps, aps = _grad_pairs([(3, 4), (5,), (2, 2, 2)])
    expected = torch.nn.utils.clip_grad_norm_(tps, max_norm, norm_type)
    actual = tnn.utils.clip_grad_norm_(aps, max_norm, norm_type)
    assert_same(expected, actual)
    for tp, ap in zip(tps, aps):
        assert_same(tp.grad, ap.grad)


def test_clip_grad_norm_nonfinite_and_empty():
    tps, aps = _grad_pairs([(3,)])
    aps[0].grad[0] = float("inf")
    with pytest.raises(RuntimeError, match="non-finite"):
        tnn.utils.clip_grad_norm_(aps, 1.0, error_if_nonfinite=True)
    assert float(tnn.utils.clip_grad_norm_([tnn.Parameter(tritensor.ones(2, device=DEVICE))], 1.0)) == 0.0
    single = tnn.Parameter(tritensor.ones(4, device=DEVICE))
    single.grad = tritensor.full((4,), 2.0, device=DEVICE)
    assert float(tnn.utils.clip_grad_norm_(single, 1.0)) == pytest.approx(4.0)
    assert float(single.grad.norm()) == pytest.approx(1.0, rel=1e-5)


def test_clip_grad_value():
    tps, aps = _grad_pairs([(4, 4), (3,)])
    torch.nn.utils.clip_grad_value_(tps, 0.5)
    tnn.utils.clip_grad_value_(aps, 0.5)
    for tp, ap in zip(tps, aps):
        assert_same(tp.grad, ap.grad)


def test_parameters_vector_round_trip():
    m = tnn.Sequential(tnn.Linear(3, 2), tnn.Linear(2, 1))
    vec = tnn.utils.parameters_to_vector(m.parameters())
    assert vec.shape == (11,)
    expected = np.concatenate([np.asarray(p.detach()).ravel() for p in m.parameters()])
    np.testing.assert_array_equal(np.asarray(vec.detach()), expected)
    new = tritensor.arange(11, dtype=tritensor.float32)
    tnn.utils.vector_to_parameters(new, m.parameters())
    assert m[0].weight.tolist() == [[0, 1, 2], [3, 4, 5]] and m[1].bias.tolist() == [10]
    with pytest.raises(TypeError):
        tnn.utils.vector_to_parameters([1.0], m.parameters())


# ---------------------------------------------------------------------------- seed training loop
def test_seed_training_loop_learns():
    tritensor.manual_seed(0)
    model = tnn.Sequential(tnn.Linear(4, 16), tnn.ReLU(), tnn.Linear(16, 3)).to(DEVICE)
    x = tritensor.randn(64, 4, device=DEVICE)
    y = (x[:, 0] > 0).long() + (x[:, 1] > 0).long()
    criterion = tnn.CrossEntropyLoss()
    model.train()
    first = None
    for _ in range(60):
        model.zero_grad()
        loss = criterion(model(x), y)
        loss.backward()
        with tritensor.no_grad():
            for p in model.parameters():
                p -= 0.5 * p.grad
        first = first if first is not None else loss.item()
    assert loss.item() < 0.5 * first


def test_module_deepcopy_and_pickle():
    import pickle
    m = tnn.Sequential(tnn.Linear(2, 3), tnn.BatchNorm1d(3))
    for clone in (copy.deepcopy(m), pickle.loads(pickle.dumps(m))):
        assert repr(clone) == repr(m)
        w = clone[0].weight
        assert isinstance(w, tnn.Parameter) and w.requires_grad and w.data_ptr() != m[0].weight.data_ptr()
        assert w.tolist() == m[0].weight.tolist()
        assert [n for n, _ in clone.named_buffers()] == [n for n, _ in m.named_buffers()]


def test_buffer_assignment_and_nn_buffer():
    m = tnn.Module()
    m.register_buffer("b", tritensor.zeros(2))
    m.b = tritensor.ones(3)  # a tensor into an existing buffer slot replaces the buffer
    assert m._buffers["b"].shape == (3,)
    m.extra = tnn.Buffer(tritensor.ones(1), persistent=False)
    assert "extra" in m._buffers and "extra" not in m.state_dict()
    with pytest.raises(TypeError):
        m.b = 3
    assert type(m.extra) is tritensor.Tensor


@pytest.mark.parametrize("norm_type", [2.0, 1.0, 0.5, float("inf")])
@pytest.mark.parametrize("layout", ["big-blocks", "float64", "non-contiguous", "mixed-dtypes"])
def test_clip_grad_norm_fused_and_fallback_paths(norm_type, layout):
    """Many-block tensors go through the multi-tensor kernel; other layouts take the op path."""
    shapes = [(300, 300), (7,), (70000,)] if layout == "big-blocks" else [(30, 20), (5,)]
    rng_ = np.random.default_rng(1)
    grads = [rng_.standard_normal(s) for s in shapes]
    dtypes = {"float64": ["float64"] * 3, "mixed-dtypes": ["float32", "float64"]}.get(layout, ["float32"] * 3)
    tps, aps = [], []
    for g, d in zip(grads, dtypes):
        tg, ag = torch.tensor(g, dtype=getattr(torch, d)), tritensor.tensor(g, dtype=getattr(tritensor, d),
                                                                             device=DEVICE)
        if layout == "non-contiguous" and g.ndim == 2:
            tg, ag = tg.t(), ag.t()
        tp, ap = torch.nn.Parameter(torch.zeros(tg.shape, dtype=tg.dtype)), \
            tnn.Parameter(tritensor.zeros(tuple(ag.shape), dtype=ag.dtype, device=DEVICE))
        tp.grad, ap.grad = tg, ag
        tps.append(tp)
        aps.append(ap)
    expected = torch.nn.utils.clip_grad_norm_(tps, 1.5, norm_type)
    actual = tnn.utils.clip_grad_norm_(aps, 1.5, norm_type)
    assert_same(expected, actual, rtol=2e-5)
    for tp, ap in zip(tps, aps):
        assert_same(tp.grad, ap.grad, rtol=2e-5)

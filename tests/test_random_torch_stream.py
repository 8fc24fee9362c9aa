"""The CPU generator is torch's stream (random_mt.py): after the same seed, the draws equal
torch's CPU draws. Bit for bit where torch's arithmetic is reproducible (uniform, integers,
permutations, float64 normals, the small-tensor normal path), to 2 ulp where torch uses AVX2
approximations (float32 normals of 16+ elements)."""
import numpy as np
import pytest
import torch

import tritensor

pytestmark = pytest.mark.cpu_only  # torch's CPU generator; 'cuda' keeps its Philox counters

SEEDS = [0, 1, 42, 2**40 + 7]
SIZES = [1, 5, 16, 17, 100, 1000]
FLOATS = ["float32", "float64", "float16", "bfloat16"]


def _both(fn, seed):
    """``fn(lib)`` under ``lib.manual_seed(seed)`` for torch and tritensor, as float64 arrays."""
    out = []
    for lib in (torch, tritensor):
        lib.manual_seed(seed)
        value = fn(lib)
        out.append(value.double().numpy() if hasattr(value, "double") else np.asarray(value))
    return out


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("bounds", [(0.0, 1.0), (-0.3, 0.7), (-1 / 3, 2.1)])
def test_uniform_equals_torch(dtype, bounds):
    for seed in SEEDS:
        for n in SIZES:
            ours, theirs = _both(lambda lib: lib.empty(n, dtype=getattr(lib, dtype)).uniform_(*bounds), seed)
            np.testing.assert_array_equal(ours, theirs, err_msg=f"seed {seed}, n {n}")
            if bounds == (0.0, 1.0):
                ours, theirs = _both(lambda lib: lib.rand(2, n, dtype=getattr(lib, dtype)), seed)
                np.testing.assert_array_equal(ours, theirs)


@pytest.mark.parametrize("low, high", [(0, 10), (-5, 5), (0, 2**40), (-(2**62), 2**62)])
def test_integers_and_permutations_equal_torch(low, high):
    for seed in SEEDS:
        for n in SIZES:
            theirs, ours = _both(lambda lib: lib.randint(low, high, (n,)), seed)
            np.testing.assert_array_equal(ours, theirs)
            theirs, ours = _both(lambda lib: lib.randperm(n), seed)
            np.testing.assert_array_equal(ours, theirs)
    for dtype in ("int64", "int32", "uint8", "float32", "float64", "bool"):  # random_()'s full ranges
        theirs, ours = _both(lambda lib: lib.empty(50, dtype=getattr(lib, dtype)).random_(), 3)
        np.testing.assert_array_equal(ours, theirs, err_msg=dtype)
        theirs, ours = _both(lambda lib: lib.empty(50, dtype=getattr(lib, dtype)).random_(2), 3)
        np.testing.assert_array_equal(ours, theirs, err_msg=dtype)


@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_normal_equals_torch(dtype):
    eps = np.finfo(np.float32).eps
    for seed in SEEDS:
        for n in SIZES:
            for mean, std in ((0.0, 1.0), (0.5, 2.0)):
                def draw(lib):
                    return lib.empty(n, dtype=getattr(lib, dtype)).normal_(mean, std)
                theirs, ours = _both(draw, seed)
                if dtype == "float64" or n < 16:  # torch's scalar kernels: the same libm calls
                    np.testing.assert_array_equal(ours, theirs, err_msg=f"seed {seed}, n {n}")
                else:  # torch's AVX2 log/sincos approximations
                    np.testing.assert_allclose(ours, theirs, rtol=2 * eps, atol=2 * eps * std)


def test_16_bit_normals_follow_torch():
    """16-bit normals are torch's draws rounded alike, a few units of the last place apart
    where torch rounds each Box-Muller step to the 16-bit type (rarely more, near u = 1)."""
    for dtype, ulp in (("float16", 2.0**-10), ("bfloat16", 2.0**-7)):
        theirs, ours = _both(lambda lib: lib.randn(20000, dtype=getattr(lib, dtype)), 0)
        close = np.abs(ours - theirs) <= 4 * ulp * np.maximum(np.abs(theirs), 1)
        assert close.mean() > 0.99, dtype


def test_module_initialisation_equals_torch():
    """manual_seed then building a model: the same weights as torch (kaiming/uniform init)."""
    def build(lib):
        return lib.nn.Sequential(lib.nn.Linear(8, 16), lib.nn.ReLU(), lib.nn.Conv1d(16, 4, 3),
                                 lib.nn.Embedding(10, 3), lib.nn.LSTM(3, 5))
    torch.manual_seed(7)
    theirs = build(torch).state_dict()
    tritensor.manual_seed(7)
    ours = build(tritensor).state_dict()
    for name, value in theirs.items():
        np.testing.assert_allclose(ours[name].numpy(), value.numpy(), rtol=2e-7, atol=2e-7, err_msg=name)


def test_rng_state_is_torchs_layout():
    torch.manual_seed(11)
    tritensor.manual_seed(11)
    torch.rand(7), tritensor.rand(7)
    torch.randn(3, dtype=torch.float64), tritensor.randn(3, dtype=tritensor.float64)  # caches one normal
    ours, theirs = tritensor.get_rng_state(), torch.get_rng_state()
    assert ours.dtype is tritensor.uint8 and ours.shape == theirs.shape
    np.testing.assert_array_equal(ours.numpy(), theirs.numpy())
    tritensor.set_rng_state(tritensor.tensor(torch.get_rng_state().numpy()))  # torch's state, continued
    np.testing.assert_array_equal(tritensor.randn(3, dtype=tritensor.float64).numpy(),
                                  torch.randn(3, dtype=torch.float64).numpy())
    g = tritensor.Generator().manual_seed(5)
    state = g.get_state()
    first = tritensor.rand(4, generator=g)
    g.set_state(state)
    np.testing.assert_array_equal(tritensor.rand(4, generator=g).numpy(), first.numpy())


@pytest.mark.parametrize("explicit_generator", [False, True])
def test_dataloader_shuffle_order_equals_torch(explicit_generator):
    """RandomSampler's seed drawn from the generator, then randperm: torch's batches."""
    orders = []
    for lib in (torch, tritensor):
        lib.manual_seed(3)
        generator = lib.Generator().manual_seed(9) if explicit_generator else None
        data = lib.utils.data.TensorDataset(lib.arange(37))
        loader = lib.utils.data.DataLoader(data, batch_size=8, shuffle=True, generator=generator)
        orders.append([[int(v) for v in batch[0]] for _ in range(2) for batch in loader])
    assert orders[0] == orders[1]
    split = [list(lib.utils.data.random_split(range(10), [8, 2],
                                              generator=lib.Generator().manual_seed(42))[0])
             for lib in (torch, tritensor)]
    assert split[0] == split[1]


def test_bernoulli_and_dropout_equal_torch():
    for seed in SEEDS:
        for n in SIZES:
            for p in (0.3, 0.9):
                theirs, ours = _both(lambda lib: lib.empty(n).bernoulli_(p), seed)
                np.testing.assert_array_equal(ours, theirs)
                theirs, ours = _both(lambda lib: lib.nn.functional.dropout(lib.ones(3, n), p), seed)
                np.testing.assert_array_equal(ours, theirs)
            probs = np.random.default_rng(seed).random(n)
            for dtype in ("float32", "float64"):  # one uniform per element in the probabilities' type
                def draw(lib):
                    return lib.bernoulli(lib.tensor(probs, dtype=getattr(lib, dtype)))
                theirs, ours = _both(draw, seed)
                np.testing.assert_array_equal(ours, theirs)


def test_a_seeded_training_script_follows_torch():
    """manual_seed, a model with dropout, shuffled batches, SGD: the same losses as torch's run
    (initial weights, batch order and dropout masks all come from the shared stream)."""
    def train(lib):
        lib.manual_seed(0)
        model = lib.nn.Sequential(lib.nn.Linear(6, 16), lib.nn.ReLU(), lib.nn.Dropout(0.3),
                                  lib.nn.Linear(16, 3))
        data = lib.utils.data.TensorDataset(lib.randn(40, 6), lib.randint(0, 3, (40,)))
        loader = lib.utils.data.DataLoader(data, batch_size=8, shuffle=True)
        opt = lib.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
        losses = []
        for _ in range(2):
            for x, y in loader:
                opt.zero_grad()
                loss = lib.nn.functional.cross_entropy(model(x), y)
                loss.backward()
                opt.step()
                losses.append(loss.item())
        return losses
    np.testing.assert_allclose(train(tritensor), train(torch), rtol=1e-4)


@pytest.mark.parametrize("name", ["dropout", "dropout1d", "dropout2d", "dropout3d", "alpha_dropout",
                                  "feature_alpha_dropout"])
def test_every_dropout_mask_equals_torch(name):
    shape = (2, 3, 4) if name == "dropout1d" else (2, 3, 4, 5)
    theirs, ours = _both(lambda lib: getattr(lib.nn.functional, name)(lib.ones(shape), 0.4, True), 5)
    np.testing.assert_allclose(ours, theirs, rtol=1e-6)


def test_exponential_and_its_users_equal_torch():
    for seed in SEEDS:
        for n in SIZES:
            for dtype in ("float64", "float32", "float16"):
                def draw(lib):
                    return lib.empty(n, dtype=getattr(lib, dtype)).exponential_(1.5)
                theirs, ours = _both(draw, seed)
                np.testing.assert_array_equal(ours, theirs)
    theirs, ours = _both(lambda lib: lib.nn.functional.gumbel_softmax(lib.zeros(3, 4), tau=0.5), 2)
    np.testing.assert_allclose(ours, theirs, rtol=1e-6)
    theirs, ours = _both(lambda lib: lib.distributions.Exponential(lib.tensor([2.0, 0.5])).sample((5,)), 2)
    np.testing.assert_array_equal(ours, theirs)

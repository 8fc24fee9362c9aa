"""tritensor.utils.data: datasets, samplers, collation and the (multi-process) DataLoader."""
from __future__ import annotations

import collections
import os
import signal
import time

import numpy as np
import pytest
import torch
import torch.utils.data as tdata

import tritensor
import tritensor.utils.data as data
from harness import assert_same


class CustomDataset(data.Dataset):
    """The seed's Dataset example."""

    def __init__(self, data, targets):
        self.data = data
        self.targets = targets

    def __getitem__(self, index):
        return self.data[index], self.targets[index]

    def __len__(self):
        return len(self.data)


class Squares(data.Dataset):
    def __len__(self):
        return 23

    def __getitem__(self, i):
        return {"x": np.full(2, i, np.float32), "y": i * i, "name": f"s{i}"}


class Stream(data.IterableDataset):
    """0..n-1, split between workers through get_worker_info() like torch's docs show."""

    def __init__(self, n):
        self.n = n

    def __iter__(self):
        info = data.get_worker_info()
        if info is None:
            return iter(range(self.n))
        return iter(range(info.id, self.n, info.num_workers))

    def __len__(self):
        return self.n


def _flat(batches, key=None):
    out = []
    for b in batches:
        b = b if key is None else b[key]
        out.extend(b.tolist())
    return out


# ---------------------------------------------------------------------------- seed example
def test_seed_custom_dataset_dataloader_example():
    device = tritensor.device("cuda" if tritensor.cuda.is_available() else "cpu")
    data_samples, target_labels = tritensor.randn(150, 5), tritensor.arange(150)
    train_dataset = CustomDataset(data_samples, target_labels)
    train_loader = data.DataLoader(dataset=train_dataset, batch_size=64, shuffle=True, num_workers=4)
    assert len(train_loader) == 3
    for _epoch in range(2):
        seen, sizes = [], []
        for batch_data, batch_labels in train_loader:
            batch_data = batch_data.to(device)
            batch_labels = batch_labels.to(device)
            sizes.append(batch_data.shape[0])
            assert batch_data.shape[1:] == (5,) and batch_labels.dtype is tritensor.int64
            np.testing.assert_array_equal(np.asarray(batch_data.cpu()),
                                          np.asarray(data_samples)[np.asarray(batch_labels.cpu())])
            seen.extend(batch_labels.tolist())
        assert sizes == [64, 64, 22] and sorted(seen) == list(range(150)) and seen != list(range(150))


def test_seed_loader_settings_run():
    loader = data.DataLoader(dataset=Squares(), batch_size=32, shuffle=True, num_workers=2, collate_fn=None,
                             pin_memory=True, drop_last=False)
    assert sum(len(b["name"]) for b in loader) == 23


# ---------------------------------------------------------------------------- collate
def _same_structure(expected, actual):
    """Collation keeps tensors where they are: the samples here are host (CPU) data."""
    if isinstance(expected, torch.Tensor):
        assert_same(expected, actual, device="cpu")
    elif isinstance(expected, dict):
        assert type(actual) is type(expected) and list(actual) == list(expected)
        for k in expected:
            _same_structure(expected[k], actual[k])
    elif isinstance(expected, (list, tuple)):
        assert type(actual) is type(expected) and len(actual) == len(expected)
        for e, a in zip(expected, actual):
            _same_structure(e, a)
    else:
        assert actual == expected


Point = collections.namedtuple("Point", "x y")


@pytest.mark.parametrize("make", [
    lambda lib: [lib.tensor([1.0, 2.0]), lib.tensor([3.0, 4.0])],
    lambda lib: [np.arange(3, dtype=np.int32), np.arange(3, 6, dtype=np.int32)],
    lambda lib: [np.float64(1.5), np.float64(2.5)],
    lambda lib: [1, 2, 3],
    lambda lib: [1.5, 2.5],
    lambda lib: [True, False],
    lambda lib: ["a", "b"],
    lambda lib: [{"a": 1, "b": (lib.ones(2), "s")}, {"a": 2, "b": (lib.zeros(2), "t")}],
    lambda lib: [(1, [2.0, 3.0]), (4, [5.0, 6.0])],
    lambda lib: [Point(1, 2.0), Point(3, 4.0)],
])
def test_default_collate_matches_torch(make):
    _same_structure(tdata.default_collate(make(torch)), data.default_collate(make(tritensor)))


def test_default_collate_errors():
    with pytest.raises(RuntimeError, match="equal size"):
        data.default_collate([[1, 2], [3]])
    with pytest.raises(TypeError):
        data.default_collate([object(), object()])
    with pytest.raises(TypeError):
        data.default_collate([np.array(["a"]), np.array(["b"])])


def test_default_convert_matches_torch():
    sample = {"a": np.arange(3), "b": [np.float32(2.0), "x"], "c": (np.ones(2),)}
    _same_structure(tdata.default_convert(sample), data.default_convert(sample))


# ---------------------------------------------------------------------------- datasets
def test_tensor_subset_concat_datasets():
    x, y = tritensor.arange(10).view(5, 2), tritensor.arange(5)
    ds = data.TensorDataset(x, y)
    assert len(ds) == 5 and ds[3][0].tolist() == [6, 7] and ds[3][1].item() == 3
    with pytest.raises(AssertionError):
        data.TensorDataset(x, tritensor.arange(4))
    sub = data.Subset(ds, [4, 0])
    assert len(sub) == 2 and sub[0][1].item() == 4
    cat = data.ConcatDataset([ds, sub])
    assert len(cat) == 7 and cat[5][1].item() == 4 and cat[-1][1].item() == 0 and cat[4][1].item() == 4
    assert len(ds + sub) == 7
    stacked = data.StackDataset(a=ds, b=ds)
    assert stacked[1]["a"][1].item() == 1 and len(stacked) == 5


@pytest.mark.parametrize("lengths", [[3, 7], [0.3, 0.7], [0.34, 0.33, 0.33]])
def test_random_split_lengths_match_torch(lengths):
    ref = tdata.random_split(range(10), lengths, generator=torch.Generator().manual_seed(0))
    ours = data.random_split(range(10), lengths, generator=tritensor.Generator().manual_seed(0))
    assert [len(s) for s in ours] == [len(s) for s in ref]
    merged = sorted(i for s in ours for i in s)
    assert merged == list(range(10))
    again = data.random_split(range(10), lengths, generator=tritensor.Generator().manual_seed(0))
    assert [list(s) for s in again] == [list(s) for s in ours]


def test_random_split_errors():
    for lib_data in (tdata, data):
        with pytest.raises(ValueError):
            lib_data.random_split(range(10), [3, 3])
        with pytest.raises(ValueError):
            lib_data.random_split(range(10), [0.5, 0.6])


# ---------------------------------------------------------------------------- samplers
def test_sequential_and_batch_sampler_match_torch():
    for bs, drop in [(3, False), (3, True), (10, False), (1, True)]:
        ref = list(tdata.BatchSampler(tdata.SequentialSampler(range(10)), bs, drop))
        ours = list(data.BatchSampler(data.SequentialSampler(range(10)), bs, drop))
        assert ours == ref
        assert len(data.BatchSampler(range(10), bs, drop)) == len(ref)
    for bad in (0, -1, 2.5, True):
        with pytest.raises(ValueError):
            data.BatchSampler(range(3), bad, False)


def test_random_sampler():
    gen = tritensor.Generator().manual_seed(1)
    first = list(data.RandomSampler(range(20), generator=gen))
    assert sorted(first) == list(range(20)) and first != list(range(20))
    assert list(data.RandomSampler(range(20), generator=tritensor.Generator().manual_seed(1))) == first
    more = list(data.RandomSampler(range(5), num_samples=12, generator=gen))
    assert len(more) == 12 and sorted(more[:10]) == sorted(list(range(5)) * 2)
    repl = list(data.RandomSampler(range(3), replacement=True, num_samples=70, generator=gen))
    assert len(repl) == 70 and set(repl) == {0, 1, 2}
    tritensor.manual_seed(5)
    a = list(data.RandomSampler(range(10)))
    tritensor.manual_seed(5)
    assert list(data.RandomSampler(range(10))) == a  # follows the global seed without a generator
    with pytest.raises(ValueError):
        data.RandomSampler(range(3), num_samples=0)


def test_weighted_random_sampler():
    """Draws in proportion to the weights (a zero weight never), distinct indices without
    replacement, reproducible under a generator; torch's argument errors."""
    gen = tritensor.Generator().manual_seed(2)
    counts = collections.Counter(data.WeightedRandomSampler([1.0, 3.0, 0.0], 40_000, generator=gen))
    assert counts[2] == 0 and abs(counts[1] / 40_000 - 0.75) < 0.01
    distinct = list(data.WeightedRandomSampler([0.9, 0.4, 0.05, 0.2, 0.3, 0.1], 6, replacement=False))
    assert sorted(distinct) == list(range(6)) and len(data.WeightedRandomSampler([1, 2], 7)) == 7
    draw = [list(data.WeightedRandomSampler(tritensor.tensor([0.2, 0.8]), 30, generator=tritensor.Generator()
                                            .manual_seed(4))) for _ in range(2)]
    assert draw[0] == draw[1]
    loader = data.DataLoader(data.TensorDataset(tritensor.arange(3)), batch_size=4,
                             sampler=data.WeightedRandomSampler([0.0, 1.0, 0.0], 8))
    assert [b[0].tolist() for b in loader] == [[1] * 4] * 2
    for args, kwargs in [(([1.0], 0), {}), (([1.0], True), {}), (([1.0], 2.0), {}),
                         (([1.0], 2), {"replacement": 1}), (([[1.0, 2.0]], 2), {})]:
        for lib in (tdata, data):
            with pytest.raises(ValueError):
                lib.WeightedRandomSampler(*args, **kwargs)


# ---------------------------------------------------------------------------- DataLoader
@pytest.mark.parametrize("batch_size,drop_last", [(4, False), (4, True), (23, False), (1, False)])
@pytest.mark.parametrize("num_workers", [0, 2])
def test_loader_sequential_batches_match_torch(batch_size, drop_last, num_workers):
    x = np.arange(46, dtype=np.float32).reshape(23, 2)
    ref = tdata.DataLoader(tdata.TensorDataset(torch.tensor(x)), batch_size=batch_size, drop_last=drop_last)
    ours = data.DataLoader(data.TensorDataset(tritensor.tensor(x)), batch_size=batch_size,
                           drop_last=drop_last, num_workers=num_workers)
    assert len(ours) == len(ref)
    got = list(ours)
    expected = list(ref)
    assert len(got) == len(expected)
    for e, a in zip(expected, got):
        _same_structure(e, a)


def test_loader_shuffle_generator_reproducible_and_epochs_differ():
    ds = data.TensorDataset(tritensor.arange(30))
    loader = data.DataLoader(ds, batch_size=7, shuffle=True, generator=tritensor.Generator().manual_seed(3))
    e1, e2 = _flat(b[0] for b in loader), _flat(b[0] for b in loader)
    assert sorted(e1) == list(range(30)) and e1 != e2
    again = data.DataLoader(ds, batch_size=7, shuffle=True, generator=tritensor.Generator().manual_seed(3))
    assert _flat(b[0] for b in again) == e1
    workers = data.DataLoader(ds, batch_size=7, shuffle=True, num_workers=2,
                              generator=tritensor.Generator().manual_seed(3))
    assert _flat(b[0] for b in workers) == e1  # same order with worker processes


def test_loader_dict_samples_with_workers():
    out = list(data.DataLoader(Squares(), batch_size=5, num_workers=3))
    assert _flat(out, "y") == [i * i for i in range(23)]
    assert out[0]["x"].shape == (5, 2) and out[0]["name"] == ["s0", "s1", "s2", "s3", "s4"]


def test_loader_sampler_batch_sampler_and_no_batching():
    ds = data.TensorDataset(tritensor.arange(10))
    bs = [[0, 1], [9], [4, 5, 6]]
    assert [b[0].tolist() for b in data.DataLoader(ds, batch_sampler=bs)] == bs
    assert [b[0].tolist() for b in data.DataLoader(ds, batch_sampler=bs, num_workers=2)] == bs
    assert [b[0].tolist() for b in data.DataLoader(ds, sampler=[3, 1], batch_size=2)] == [[3, 1]]
    plain = list(data.DataLoader(range(4), batch_size=None))
    assert plain == [0, 1, 2, 3]
    custom = list(data.DataLoader(range(5), batch_size=2, collate_fn=lambda b: sum(b)))
    assert custom == [1, 5, 4]


@pytest.mark.parametrize("kwargs", [
    {"shuffle": True, "sampler": [0, 1]}, {"batch_sampler": [[0]], "batch_size": 2},
    {"batch_sampler": [[0]], "drop_last": True}, {"batch_size": None, "drop_last": True},
    {"num_workers": -1}, {"timeout": -1}, {"prefetch_factor": 2}, {"persistent_workers": True},
])
def test_loader_option_errors_match_torch(kwargs):
    with pytest.raises(ValueError):
        tdata.DataLoader(range(4), **kwargs)
    with pytest.raises(ValueError):
        data.DataLoader(range(4), **kwargs)


def test_loader_attributes_frozen():
    loader = data.DataLoader(range(4), batch_size=2)
    with pytest.raises(ValueError):
        loader.batch_size = 3


@pytest.mark.parametrize("num_workers", [0, 1, 3])
def test_iterable_dataset(num_workers):
    loader = data.DataLoader(Stream(20), batch_size=4, num_workers=num_workers)
    ref = tdata.DataLoader(_TorchStream(20), batch_size=4, num_workers=num_workers)
    got, expected = _flat(loader), _flat(ref)
    assert sorted(got) == sorted(expected) == list(range(20))
    assert len(list(loader)) == len(list(ref))
    with pytest.raises(ValueError):
        data.DataLoader(Stream(3), shuffle=True)


class _TorchStream(tdata.IterableDataset):
    def __init__(self, n):
        self.n = n

    def __iter__(self):
        info = tdata.get_worker_info()
        return iter(range(self.n) if info is None else range(info.id, self.n, info.num_workers))


def test_iterable_dataset_drop_last_with_workers():
    batches = list(data.DataLoader(Stream(10), batch_size=4, num_workers=2, drop_last=True))
    assert all(len(b) == 4 for b in batches)


class WorkerReport(data.Dataset):
    def __len__(self):
        return 8

    def __getitem__(self, i):
        info = data.get_worker_info()
        return {"worker": info.id, "seed": info.seed, "pid": os.getpid(),
                "rand": float(tritensor.rand(1).item()), "np": float(np.random.rand()),
                "init": os.environ.get("TT_WORKER_INIT", "")}


def _init_fn(worker_id):
    os.environ["TT_WORKER_INIT"] = f"w{worker_id}"


def test_workers_are_processes_with_distinct_seeds_and_init_fn():
    loader = data.DataLoader(WorkerReport(), batch_size=2, num_workers=2, worker_init_fn=_init_fn,
                             generator=tritensor.Generator().manual_seed(0))
    out = list(loader)
    workers = [w for b in out for w in b["worker"].tolist()]
    assert set(workers) == {0, 1}
    pids = {p for b in out for p in b["pid"].tolist()}
    assert len(pids) == 2 and os.getpid() not in pids
    seeds = {w: s for b in out for w, s in zip(b["worker"].tolist(), b["seed"].tolist())}
    assert seeds[1] == seeds[0] + 1
    rands = [r for b in out for r in b["rand"].tolist()]
    assert len(set(rands)) == len(rands)
    assert {i for b in out for i in b["init"]} == {"w0", "w1"}
    assert data.get_worker_info() is None
    again = list(data.DataLoader(WorkerReport(), batch_size=2, num_workers=2,
                                 generator=tritensor.Generator().manual_seed(0)))
    assert [b["rand"].tolist() for b in again] == [b["rand"].tolist() for b in out]  # seeded per worker


class Failing(data.Dataset):
    def __len__(self):
        return 10

    def __getitem__(self, i):
        if i == 5:
            raise ValueError(f"bad sample {i}")
        return i


@pytest.mark.parametrize("num_workers", [0, 2])
def test_worker_exception_reraised_with_traceback(num_workers):
    with pytest.raises(ValueError) as err:
        list(data.DataLoader(Failing(), batch_size=2, num_workers=num_workers))
    if num_workers:
        msg = str(err.value)
        assert "Caught ValueError in DataLoader worker process" in msg
        assert "Traceback" in msg and "bad sample 5" in msg and "__getitem__" in msg


class Dies(data.Dataset):
    def __len__(self):
        return 10

    def __getitem__(self, i):
        if i == 4:
            os.kill(os.getpid(), signal.SIGKILL)
        return i


def test_killed_worker_is_an_error_not_a_hang():
    start = time.time()
    with pytest.raises(RuntimeError, match="exited unexpectedly"):
        list(data.DataLoader(Dies(), batch_size=2, num_workers=2))
    assert time.time() - start < 20


class Slow(data.Dataset):
    def __len__(self):
        return 4

    def __getitem__(self, i):
        time.sleep(3)
        return i


def test_loader_timeout():
    with pytest.raises(RuntimeError, match="timed out"):
        list(data.DataLoader(Slow(), batch_size=1, num_workers=1, timeout=0.3))


def test_persistent_workers_reuse_processes_and_prefetch_factor():
    loader = data.DataLoader(WorkerReport(), batch_size=2, num_workers=2, persistent_workers=True,
                             prefetch_factor=1)
    pids1 = {p for b in loader for p in b["pid"].tolist()}
    pids2 = {p for b in loader for p in b["pid"].tolist()}
    assert pids1 == pids2 and len(pids1) == 2
    it = iter(loader)
    next(it)  # abandon an epoch half-way; the next one must still be complete
    assert len(list(loader)) == 4
    stream = data.DataLoader(Stream(9), batch_size=2, num_workers=2, persistent_workers=True)
    assert sorted(_flat(stream)) == sorted(_flat(stream)) == list(range(9))
    loader._iterator._shutdown_workers()
    stream._iterator._shutdown_workers()


@pytest.mark.parametrize("subset", [False, True])
def test_tensor_dataset_batch_gathered_at_once_matches_sample_by_sample(subset):
    """With the default collate, a TensorDataset (or a Subset of one) gives the DataLoader a
    whole batch in one gather per tensor instead of indexing and stacking each sample: the
    batches are torch's, and the same as the sample-by-sample path's."""
    x = np.arange(60, dtype=np.float32).reshape(20, 3)
    y = np.arange(20) % 7
    results = []
    for lib, dmod, collate in ((torch, tdata, None), (tritensor, data, None),
                               (tritensor, data, lambda b: data.default_collate(b))):
        ds = dmod.TensorDataset(lib.tensor(x), lib.tensor(y))
        if subset:
            ds = dmod.Subset(ds, list(range(19, -1, -2)))
        loader = dmod.DataLoader(ds, batch_size=4, collate_fn=collate, drop_last=False)
        batches = list(loader)
        assert all(type(b) is list for b in batches)  # default_collate of tuple samples: a list
        results.append(batches)
    expected, fast, slow = results
    assert len(fast) == len(slow) == len(expected)
    for e, f, s in zip(expected, fast, slow):
        for et, ft, st in zip(e, f, s):
            assert_same(et, ft, device="cpu")
            assert_same(et, st, device="cpu")


class _BigItems(data.Dataset):
    """Items made by an op large enough to be split across the CPU kernels' threads."""

    def __len__(self):
        return 4

    def __getitem__(self, i):
        return tritensor.ones(1 << 20) * i


@pytest.mark.cpu_only  # the CPU kernels' threads
def test_workers_run_threaded_ops_after_the_parent_did():
    """A forked worker's threaded op after the parent ran one: the child starts its own helper
    threads (the parent's do not exist there; an inherited pool waited forever)."""
    parent = tritensor.ones(1 << 21) * 2  # the parent's threads are started
    loader = data.DataLoader(_BigItems(), batch_size=2, num_workers=2, timeout=60)
    assert [float(b.sum()) for b in loader] == [2.0 ** 20, 5 * 2.0 ** 20]
    assert float(parent.sum()) == 2.0 ** 22


@pytest.mark.cpu_only
def test_thread_chunks_raise_the_first_error_and_stay_usable():
    from tritensor.backends import cpu_threads

    def work(start, stop):
        if start:
            raise ValueError(f"chunk {start}")
    with pytest.raises(ValueError, match="chunk 1"):
        cpu_threads.run_chunks(work, [(0, 1), (1, 2)])
    seen = []
    cpu_threads.run_chunks(lambda a, b: seen.append(a), [(0, 1), (1, 2), (2, 3)])
    assert sorted(seen) == [0, 1, 2]

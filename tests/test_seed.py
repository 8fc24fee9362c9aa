"""The seed tutorial's examples (Tips, Tensor, Tensor の作成, tensor の運算, Autograd) run with
``import tritensor as torch`` and print what the seed shows.

Each example is the seed's code, run by ``run`` with ``torch`` bound to tritensor, and its
printed text is compared:
- with the seed's own printed result where the example is deterministic (the seed lost the
  indentation of continuation lines, so that comparison ignores runs of whitespace), and
- exactly, character for character, with the same code run by real torch. For examples
  that draw random numbers, torch runs through ``SharedRandomTorch``: torch itself, except
  that ``randn``/``rand``/``randint`` return tritensor's draws, so both libraries print the
  same data.
CUDA-only lines are replaced by a check that asking for 'cuda' raises a clear RuntimeError
(checked where no CUDA device is available).
"""
from __future__ import annotations

import contextlib
import io
import textwrap

import numpy as np
import pytest
import torch as real_torch

import tritensor

SEED = 0

no_gpu = pytest.mark.skipif(tritensor.cuda.is_available(),
                            reason="checks the CPU-only behaviour; a CUDA device is available here")


class SharedRandomTorch:
    """torch, with tritensor's random draws, so a random example prints the same numbers."""

    def __getattr__(self, name):
        return getattr(real_torch, name)

    def _draw(self, name, args, kwargs):
        requires_grad = kwargs.pop("requires_grad", False)
        if "dtype" in kwargs:
            kwargs["dtype"] = getattr(tritensor, str(kwargs["dtype"]).removeprefix("torch."))
        values = getattr(tritensor, name)(*args, **kwargs).numpy()
        return real_torch.from_numpy(values.copy()).requires_grad_(requires_grad)

    def randn(self, *args, **kwargs):
        return self._draw("randn", args, kwargs)

    def rand(self, *args, **kwargs):
        return self._draw("rand", args, kwargs)

    def randint(self, *args, **kwargs):
        return self._draw("randint", args, kwargs)


def run(code: str, lib) -> str:
    """Run a seed snippet with ``torch`` bound to ``lib``; return what it printed."""
    tritensor.manual_seed(SEED)
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        exec(textwrap.dedent(code), {"torch": lib, "np": np})
    return out.getvalue()


def check_against_torch(code: str) -> str:
    """The snippet prints exactly the same text with tritensor as with torch."""
    ours = run(code, tritensor)
    theirs = run(code, SharedRandomTorch())
    assert ours == theirs
    return ours


def same_words(text: str, seed_text: str) -> bool:
    return text.split() == seed_text.split()


# ---------------------------------------------------------------- Tips
def test_tensor_sizes_vs_data():
    out = check_against_torch("""
        print(torch.Tensor(2,3,4).size()) # torch.Size([2, 3, 4])
        print(torch.Tensor([2,3,4]).size()) # torch.Size([3])
    """)
    assert out == "torch.Size([2, 3, 4])\ntorch.Size([3])\n"


def test_tensor_vs_Tensor():
    out = check_against_torch("""
        data = [1, 2, 3]
        tensor = torch.tensor(data, dtype=torch.float32)
        print(tensor)
        tensor = torch.Tensor([1, 2, 3]) # 指定されたデータでテンソルを作成
        print(tensor)
        tensor = torch.Tensor(2, 3) # 2x3の未初期化テンソルを作成
        print(tensor.shape, tensor.dtype)
    """)
    assert out == "tensor([1., 2., 3.])\ntensor([1., 2., 3.])\ntorch.Size([2, 3]) torch.float32\n"


@pytest.mark.parametrize("make", [
    lambda: tritensor.tensor([1, 2, 3], dtype=tritensor.float32, device="cuda"),
    lambda: tritensor.tensor(np.zeros((2, 3)), dtype=tritensor.float32, device=tritensor.device("cuda:2")),
    lambda: tritensor.randn([2, 3], dtype=tritensor.float64, device="cuda"),
    lambda: tritensor.randint(0, 10, [2, 3], dtype=tritensor.int8, device="cuda"),
    lambda: tritensor.ones(2).to("cuda"),
    lambda: tritensor.ones(2).cuda(),
    lambda: tritensor.cuda.FloatTensor([1.0]),
], ids=["tensor", "tensor-cuda:2", "randn", "randint", "to", "cuda()", "cuda.FloatTensor"])
@no_gpu
def test_cuda_lines_raise_clear_error(make):
    with pytest.raises(RuntimeError, match="cuda|CUDA") as info:
        make()
    assert "device='cpu'" in str(info.value) or "not available" in str(info.value)


def test_mm_matrix_product():
    out = check_against_torch("""
        A = torch.tensor([[1, 2, 3], [4, 5, 6]]) # shape: (2, 3)
        B = torch.tensor([[1, 4], [2, 5], [3, 6]]) # shape: (3, 2)
        C = torch.mm(A, B)
        print(C)
    """)
    assert same_words(out, "tensor([[14, 32],\n[32, 77]])")


def test_mul_elementwise():
    out = check_against_torch("""
        A = torch.tensor([[1, 2], [3, 4]]) # shape: (2, 2)
        B = torch.tensor([[5, 6], [7, 8]]) # shape: (2, 2)
        C = torch.mul(A, B) # shape: (2, 2)
        print(C)
    """)
    assert same_words(out, "tensor([[ 5, 12],\n[21, 32]])")


def test_add_vs_add_():
    """t.add は元のテンソルを変更しない / t.add_ は元のテンソルを変更します"""
    out = check_against_torch("""
        t = torch.tensor([1, 2, 3])
        u = t.add(10)
        print(t, u)
        v = t.add_(10)
        print(t, v, v is t)
    """)
    assert out == "tensor([1, 2, 3]) tensor([11, 12, 13])\ntensor([11, 12, 13]) tensor([11, 12, 13]) True\n"


def test_stack_dim0_and_dim1():
    out = check_against_torch('''
        A = torch.tensor([[1, 2], [3, 4]]) # (2,2)
        B = torch.tensor([[5, 6], [7, 8]]) # (2,2)
        C = torch.stack((A, B), dim=0)
        print(C.shape) # torch.Size([2, 2, 2])
        print(C)
        D = torch.stack((A, B), dim=1)
        print(D.shape) # torch.Size([2, 2, 2])
        print(D)
    ''')
    assert same_words(out, """torch.Size([2, 2, 2])
        tensor([[[1, 2],
        [3, 4]],
        [[5, 6],
        [7, 8]]])
        torch.Size([2, 2, 2])
        tensor([[[1, 2],
        [5, 6]],
        [[3, 4],
        [7, 8]]])""")


def test_cat_dim0_and_dim1():
    out = check_against_torch("""
        A = torch.randn(2, 3) # (2,3)
        B = torch.randn(2, 3) # (2,3)
        C = torch.cat((A, B), dim=0)
        print(C.shape) # torch.Size([4, 3])
        D = torch.cat((A, B), dim=1)
        print(D.shape) # torch.Size([2, 6])
        print(C)
        print(D)
    """)
    assert out.startswith("torch.Size([4, 3])\ntorch.Size([2, 6])\n")


def test_stack_and_cat_typical_uses():
    out = check_against_torch("""
        img1 = torch.randn(3, 224, 224) # 画像1(CHW)
        img2 = torch.randn(3, 224, 224) # 画像2
        batch = torch.stack((img1, img2), dim=0) # バッチ次元追加 (2,3,224,224)
        print(batch.shape)
        frame1 = torch.randn(256) # 特徴量ベクトル
        frame2 = torch.randn(256)
        sequence = torch.stack((frame1, frame2), dim=0) # (2,256)
        print(sequence.shape)
        image_features = torch.randn(10, 512) # 画像特徴量
        text_features = torch.randn(10, 256) # テキスト特徴量
        combined = torch.cat((image_features, text_features), dim=1) # (10,768)
        print(combined.shape)
        conv_out1 = torch.randn(32, 64, 64)
        conv_out2 = torch.randn(32, 64, 64)
        merged = torch.cat((conv_out1, conv_out2), dim=0) # (64, 64, 64)
        print(merged.shape)
        print(batch[1, 2, 100, :4], combined[9, 510:514], merged[40, 3, :4])
    """)
    shapes = out.splitlines()[:4]
    assert shapes == ["torch.Size([2, 3, 224, 224])", "torch.Size([2, 256])",
                      "torch.Size([10, 768])", "torch.Size([64, 64, 64])"]


def test_stack_shape_requirements():
    out = check_against_torch("""
        A = torch.rand(2,3)
        B = torch.rand(2,3)
        print(torch.stack((A, B)).shape) # OK
    """)
    assert out == "torch.Size([2, 2, 3])\n"


@pytest.mark.parametrize("code, error", [
    # the seed: stacking tensors of different shapes is a RuntimeError
    ("torch.stack((torch.rand(2,3), torch.rand(3,2)))", RuntimeError),
    # the seed says dim=2 is out of range for two (2,3) tensors, but stack adds a dim, so
    # PyTorch accepts dims -3..2 (dim=2 works, checked below) and dim=3 is the IndexError
    ("torch.stack((torch.rand(2,3), torch.rand(2,3)), dim=3)", IndexError),
    ("torch.stack((torch.rand(2,3), torch.rand(2,3)), dim=-4)", IndexError),
    ("torch.cat((torch.rand(2,3), torch.rand(2,3)), dim=2)", IndexError),
    ("torch.cat((torch.rand(2,3), torch.rand(3,2)), dim=0)", RuntimeError),
])
def test_stack_and_cat_errors(code, error):
    for lib in (real_torch, tritensor):
        with pytest.raises(error, match="."):
            run(code, lib)


@pytest.mark.parametrize("dim", [-3, -2, -1, 0, 1, 2])
def test_stack_every_valid_dim(dim):
    check_against_torch(f"""
        A = torch.tensor([[1, 2, 3], [4, 5, 6]])
        B = torch.tensor([[7, 8, 9], [10, 11, 12]])
        C = torch.stack((A, B), dim={dim})
        print(C.shape)
        print(C)
    """)


@pytest.mark.parametrize("dim", [-2, -1, 0, 1])
def test_cat_every_valid_dim(dim):
    check_against_torch(f"""
        A = torch.tensor([[1, 2, 3], [4, 5, 6]])
        B = torch.tensor([[7, 8, 9], [10, 11, 12]])
        C = torch.cat((A, B), dim={dim})
        print(C.shape)
        print(C)
    """)


# ---------------------------------------------------------------- 基本的な使い方, Tensor
@no_gpu
def test_version_and_cuda_availability():
    out = run("""
        print(torch.__version__) # pytorchバージョン
        print(torch.version.cuda) # cudaバージョン
        print(torch.cuda.is_available()) # cudaが利用可能かどうか
    """, tritensor)
    assert out == f"{tritensor.__version__}\nNone\nFalse\n"


LEGACY_TYPES = ["ByteTensor", "CharTensor", "ShortTensor", "IntTensor", "LongTensor", "FloatTensor",
                "DoubleTensor", "BoolTensor"]


@pytest.mark.parametrize("name", LEGACY_TYPES)
def test_legacy_tensor_types(name):
    check_against_torch(f"""
        t = torch.{name}([[1, 0, 3], [0, 5, 1]])
        print(t, t.dtype, t.type(), isinstance(t, torch.Tensor))
        e = torch.{name}(2, 3)
        print(e.shape, e.dtype)
    """)


@pytest.mark.parametrize("name", LEGACY_TYPES)
@no_gpu
def test_cuda_legacy_types_exist_and_refuse(name):
    cls = getattr(tritensor.cuda, name)
    with pytest.raises(RuntimeError, match="CUDA|cuda"):
        cls([1])


# ---------------------------------------------------------------- Tensor の作成
def test_tensor_from_numpy():
    code = """
        a = np.array([[ 0.55657307, -0.56752282, -1.29813938],
                      [ 0.19568811, -1.58711887,  0.96234087]])
        t = torch.tensor(a, dtype=torch.float32, device=torch.device('cpu'))
        print(t)
    """
    out = check_against_torch(code)
    # the seed ran this on 'cuda:2'; the values print the same on the CPU, without the suffix
    assert same_words(out, "tensor([[ 0.5566, -0.5675, -1.2981],\n[ 0.1957, -1.5871, 0.9623]])")


def test_randn():
    out = check_against_torch("""
        print(torch.randn([2,3]))
        print(torch.randn([2,3], dtype=torch.float64))
    """)
    assert out.count("tensor(") == 2 and "dtype=torch.float64" in out
    t = tritensor.randn([2, 3])
    assert t.shape == (2, 3) and t.dtype is tritensor.float32


def test_randn_is_standard_normal():
    tritensor.manual_seed(SEED)
    x = tritensor.randn(100_000, dtype=tritensor.float64).numpy()
    assert abs(x.mean()) < 0.02 and abs(x.std() - 1) < 0.02


def test_randint():
    out = check_against_torch("""
        print(torch.randint(0, 10, [2,3]))
        print(torch.randint(0, 10, [2,3], dtype=torch.int8))
        print(torch.randint(0, 10, [2,3]).dtype)
    """)
    assert out.endswith("dtype=torch.int8)\ntorch.int64\n")
    tritensor.manual_seed(SEED)
    values = tritensor.randint(0, 10, [1000]).numpy()
    assert set(values.tolist()) == set(range(10))


# ---------------------------------------------------------------- tensor の運算
OPERATIONS = [
    "torch.abs(A)",
    "torch.add(A, B)",
    "torch.add(A, 2.5)",
    "torch.clamp(A, -0.5, 0.5)",
    "torch.div(A, B)",
    "torch.div(A, 4)",
    "torch.mul(A, B)",
    "torch.mul(A, 3)",
    "torch.pow(A, 2)",
    "torch.mm(A, B.T)",
    "torch.mv(A, v)",
    "A[0, 1].item()",
    "A.numpy()",
    "A.size()",
    "A.shape",
    "A.dtype",
    "A.view(3, 2)",
    "A.view(-1)",
    "A.transpose(0, 1)",
    "A[1:]",
    "torch.stack((A, B), dim=-1)",
    "torch.diag(S)",
    "torch.diag(v)",
    "torch.diag_embed(v)",
    "torch.diag_embed(A)",
    "torch.unsqueeze(A, 0).shape",  # the seed's table says torch.unqueeze, a typo
    "torch.unsqueeze(A, -1)",
]


@pytest.mark.parametrize("expr", OPERATIONS)
def test_operations_table(expr):
    check_against_torch(f"""
        A = torch.randn(2, 3)
        B = torch.randn(2, 3)
        S = torch.randn(3, 3)
        v = torch.randn(3)
        print({expr})
    """)


def test_setitem_and_zero_():
    out = check_against_torch("""
        A = torch.tensor([[1., 2.], [3., 4.]])
        A[-1, -1] = 100
        print(A)
        print(A.zero_())
        print(A)
    """)
    assert same_words(out, "tensor([[ 1., 2.],\n[ 3., 100.]])\n" + "tensor([[0., 0.],\n[0., 0.]])\n" * 2)


# ---------------------------------------------------------------- CUDA の使い方 (the CPU fallback path)
@no_gpu
def test_device_selection_falls_back_to_cpu():
    out = check_against_torch("""
        device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
        A = torch.tensor([[1, 2], [3, 4]])
        A = A.to(device)
        print(A.device, A.cpu().device, A.cpu().numpy())
        print(torch.tensor([1,2], device=device))
    """)
    assert out.startswith("cpu cpu [[1 2]\n [3 4]]\n")


# ---------------------------------------------------------------- Autograd
def test_autograd_walkthrough():
    out = check_against_torch("""
        x = torch.randn(2, 2, requires_grad=True)
        print(x)
        y = x + 2
        z = y * y * 3
        out = z.mean()
        print(out)
        out.backward()
        print(x.grad)
    """)
    lines = out.splitlines()
    assert lines[1].endswith("requires_grad=True)")
    assert lines[2].startswith("tensor(") and lines[2].endswith(", grad_fn=<MeanBackward0>)")


def test_autograd_gradient_value():
    """d/dx mean(3 (x + 2)^2) = 6 (x + 2) / 4, whatever the random x."""
    x = tritensor.randn(2, 2, requires_grad=True)
    ((x + 2) * (x + 2) * 3).mean().backward()
    np.testing.assert_allclose(x.grad.numpy(), 1.5 * (x.detach().numpy() + 2), rtol=1e-6)


def test_disabling_gradients():
    out = check_against_torch("""
        x = torch.randn(2, 2, requires_grad=True)
        # 方法1: コンテキストマネージャー
        with torch.no_grad():
            y = x * 2
        print(y.requires_grad, y.grad_fn)
        # 方法2: メソッドの引数
        @torch.no_grad()
        def inference():
            y = x * 2
            return y
        print(inference().requires_grad)
        # 方法3: 属性設定
        print(x.requires_grad)
        print(x.requires_grad_(False))
        print(x.requires_grad)
    """)
    assert out.startswith("False None\nFalse\nTrue\ntensor(")
    assert out.endswith("]])\nFalse\n")


def test_detach_and_retain_grad():
    check_against_torch("""
        x = torch.randn(3, requires_grad=True)
        y = x * x
        y.retain_grad()
        d = y.detach()
        print(d.requires_grad, d.grad_fn, y.grad_fn.name())
        (y * y).sum().backward()
        print(y.grad)
        print(x.grad)
        print(x.is_leaf, y.is_leaf)
    """)


def test_grad_fn_names_of_the_seed_graph():
    out = check_against_torch("""
        x = torch.randn(2, 2, requires_grad=True)
        y = x + 2
        z = y * y * 3
        out = z.mean()
        print(y.grad_fn.name(), z.grad_fn.name(), z.grad_fn.next_functions[0][0].name(), out.grad_fn.name())
    """)
    assert out == "AddBackward0 MulBackward0 MulBackward0 MeanBackward0\n"


# ---------------------------------------------------------------- the README's example script
def test_example_tensor_basics_runs():
    import pathlib
    import runpy

    script = pathlib.Path(__file__).resolve().parents[1] / "examples" / "tensor_basics.py"
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        runpy.run_path(str(script), run_name="__main__")
    text = out.getvalue()
    assert "tensor([[14, 32],\n        [32, 77]])" in text
    assert "grad_fn=<MeanBackward0>" in text and "\nTrue\n" in text

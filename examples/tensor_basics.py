"""A tour of tritensor's tensors and autograd, written as ordinary PyTorch code.

It follows the basics tutorial in ../shared/seed (creation, mm vs mul, add vs add_,
stack vs cat, views, indexing, autograd). The only change from PyTorch is the import.

    python examples/tensor_basics.py
"""
import numpy as np

import tritensor as torch


def section(title):
    print(f"\n=== {title} ===")


def creation():
    section("creation")
    print(torch.Tensor(2, 3, 4).size())          # uninitialised, shape (2, 3, 4)
    print(torch.Tensor([2, 3, 4]).size())        # from data, shape (3,)
    print(torch.tensor([1, 2, 3], dtype=torch.float32))
    print(torch.zeros(2, 3), torch.ones(2, dtype=torch.int64), torch.arange(5), sep="\n")
    a = np.array([[0.5566, -0.5675, -1.2981], [0.1957, -1.5871, 0.9623]])
    print(torch.tensor(a, dtype=torch.float32))
    torch.manual_seed(0)
    print(torch.randn(2, 3))
    print(torch.randint(0, 10, [2, 3], dtype=torch.int8))
    print("cuda available:", torch.cuda.is_available())


def products():
    section("mm (matrix product) vs mul (elementwise)")
    A = torch.tensor([[1, 2, 3], [4, 5, 6]])
    B = torch.tensor([[1, 4], [2, 5], [3, 6]])
    print(torch.mm(A, B))
    A = torch.tensor([[1, 2], [3, 4]])
    B = torch.tensor([[5, 6], [7, 8]])
    print(torch.mul(A, B))
    print(A @ B)


def add_vs_add_():
    section("add vs add_ (in place)")
    t = torch.tensor([1.0, 2.0, 3.0])
    u = t.add(10)
    print("t.add(10) ->", u, "| t is unchanged:", t)
    t.add_(10)
    print("after t.add_(10), t =", t)


def joining():
    section("stack vs cat")
    A = torch.tensor([[1, 2], [3, 4]])
    B = torch.tensor([[5, 6], [7, 8]])
    print(torch.stack((A, B), dim=0).shape, torch.stack((A, B), dim=1).shape,
          torch.stack((A, B), dim=-1).shape)
    print(torch.cat((A, B), dim=0).shape, torch.cat((A, B), dim=1).shape)
    try:
        torch.stack((torch.rand(2, 3), torch.rand(3, 2)))
    except RuntimeError as e:
        print("RuntimeError:", e)
    try:
        torch.stack((torch.rand(2, 3), torch.rand(2, 3)), dim=3)
    except IndexError as e:
        print("IndexError:", e)


def views_and_indexing():
    section("views and indexing")
    A = torch.arange(6.0).view(2, 3)
    print(A)
    print(A.transpose(0, 1), A.transpose(0, 1).is_contiguous())
    print(A.view(3, 2), A.reshape(-1), A.unsqueeze(0).shape, sep="\n")
    print(A[1:], A[:, ::2], A[-1, -1].item(), sep="\n")
    A[-1, -1] = 100
    print(A)
    print(A[A > 2], torch.where(A > 2, A, 0.0), sep="\n")
    A.zero_()
    print(A)
    print(torch.abs(torch.tensor([-1.5, 2.0])), torch.clamp(torch.tensor([-2.0, 0.5, 3.0]), 0, 1),
          torch.pow(torch.tensor([2, 3]), 2), torch.mv(torch.eye(2), torch.tensor([3.0, 4.0])))


def autograd():
    section("autograd")
    torch.manual_seed(0)
    x = torch.randn(2, 2, requires_grad=True)
    y = x + 2
    z = y * y * 3
    out = z.mean()
    print(out)                      # tensor(..., grad_fn=<MeanBackward0>)
    out.backward()
    print(x.grad)                   # d(out)/dx = 6 * (x + 2) / 4
    print(torch.allclose(x.grad, 1.5 * (x.detach() + 2)))
    with torch.no_grad():
        print("under no_grad:", (x * 2).requires_grad)

    @torch.no_grad()
    def inference():
        return x * 2
    print("in a no_grad function:", inference().requires_grad)
    x.requires_grad_(False)
    print("after requires_grad_(False):", x.requires_grad)


if __name__ == "__main__":
    creation()
    products()
    add_vs_add_()
    joining()
    views_and_indexing()
    autograd()

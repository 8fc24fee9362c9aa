import tritensor as torch
import tritensor.nn as nn
from tritensor.utils.data import DataLoader, TensorDataset, random_split

# The main job: train an MLP classifier on scikit-learn's handwritten digits.
#
# Ordinary PyTorch code; the only change is the first line. 1797 real 8x8 digit images
# (bundled with scikit-learn, no download), split 80/20 into train and test sets, an MLP
# trained with a DataLoader, Adam or SGD, CrossEntropyLoss and a cosine learning-rate
# schedule. Prints the test accuracy (about 0.97), saves a checkpoint (model, optimizer
# and scheduler state) and a plot of the loss and accuracy per epoch to --out.
#
#     python examples/train_mlp.py                      # cpu (cuda when available), 20 epochs
#     python examples/train_mlp.py --optimizer sgd --epochs 40 --device cpu
import argparse
import os
import time

import matplotlib
matplotlib.use("Agg")  # write files, never open a window
import matplotlib.pyplot as plt
from sklearn.datasets import load_digits
from tqdm import tqdm


class MLP(nn.Module):
    def __init__(self, in_features=64, hidden=128, num_classes=10):
        super().__init__()
        self.net = nn.Sequential(
            nn.Linear(in_features, hidden), nn.ReLU(), nn.Dropout(0.2),
            nn.Linear(hidden, hidden), nn.ReLU(), nn.Dropout(0.2),
            nn.Linear(hidden, num_classes),
        )

    def forward(self, x):
        return self.net(x)


def parse_args(argv=None):
    p = argparse.ArgumentParser(description="Train an MLP on the scikit-learn digits.")
    p.add_argument("--device", choices=["cpu", "cuda"],
                   default="cuda" if torch.cuda.is_available() else "cpu")
    p.add_argument("--epochs", type=int, default=20)
    p.add_argument("--batch-size", type=int, default=64)
    p.add_argument("--optimizer", choices=["adam", "sgd"], default="adam")
    p.add_argument("--lr", type=float, default=None, help="default: 3e-3 for adam, 0.1 for sgd")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--out", default=os.path.join(os.path.dirname(os.path.abspath(__file__)), "out"))
    args = p.parse_args(argv)
    if args.device == "cuda" and not torch.cuda.is_available():
        p.error("--device cuda: no CUDA GPU is available here (use --device cpu)")
    return args


def digits_datasets(seed):
    """A seeded 80/20 train/test split of the digits, pixels scaled to [0, 1]."""
    digits = load_digits()
    x = torch.tensor(digits.data, dtype=torch.float32) / 16.0
    y = torch.tensor(digits.target, dtype=torch.long)
    generator = torch.Generator().manual_seed(seed)
    return random_split(TensorDataset(x, y), [0.8, 0.2], generator=generator)


def make_optimizer(name, params, lr):
    if name == "adam":
        return torch.optim.Adam(params, lr=lr or 3e-3, weight_decay=1e-4)
    return torch.optim.SGD(params, lr=lr or 0.1, momentum=0.9, nesterov=True, weight_decay=1e-4)


def train_one_epoch(model, loader, criterion, optimizer, device, desc):
    """One pass over ``loader``; returns the mean training loss."""
    model.train()
    total, seen = 0.0, 0
    bar = tqdm(loader, desc=desc, leave=False)
    for data, target in bar:
        data, target = data.to(device), target.to(device)
        optimizer.zero_grad()
        loss = criterion(model(data), target)
        loss.backward()
        optimizer.step()
        total += loss.item() * len(target)
        seen += len(target)
        bar.set_postfix(loss=f"{total / seen:.4f}")
    return total / seen


@torch.no_grad()
def evaluate(model, loader, device):
    """Fraction of ``loader``'s samples that ``model`` classifies correctly."""
    model.eval()
    correct, seen = 0, 0
    for data, target in loader:
        data, target = data.to(device), target.to(device)
        correct += (model(data).argmax(dim=1) == target).sum().item()
        seen += len(target)
    return correct / seen


def save_plot(history, path):
    fig, (ax_loss, ax_acc) = plt.subplots(1, 2, figsize=(9, 3.5))
    epochs = range(1, len(history["loss"]) + 1)
    ax_loss.plot(epochs, history["loss"], marker="o")
    ax_loss.set(xlabel="epoch", ylabel="training loss", yscale="log", title="Loss")
    ax_acc.plot(epochs, history["accuracy"], marker="o", color="tab:green")
    ax_acc.set(xlabel="epoch", ylabel="test accuracy", title="Accuracy")
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def main(argv=None):
    args = parse_args(argv)
    torch.manual_seed(args.seed)
    device = torch.device(args.device)
    os.makedirs(args.out, exist_ok=True)

    train_set, test_set = digits_datasets(args.seed)
    train_loader = DataLoader(train_set, batch_size=args.batch_size, shuffle=True)
    test_loader = DataLoader(test_set, batch_size=512)

    model = MLP().to(device)
    print(model)
    criterion = nn.CrossEntropyLoss()
    optimizer = make_optimizer(args.optimizer, model.parameters(), args.lr)
    scheduler = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=args.epochs)

    history = {"loss": [], "accuracy": []}
    start = time.perf_counter()
    for epoch in tqdm(range(1, args.epochs + 1), desc="training", unit="epoch"):
        loss = train_one_epoch(model, train_loader, criterion, optimizer, device,
                               desc=f"epoch {epoch}/{args.epochs}")
        scheduler.step()
        history["loss"].append(loss)
        history["accuracy"].append(evaluate(model, test_loader, device))
    elapsed = time.perf_counter() - start

    print(f"final training loss {history['loss'][-1]:.4f} after {args.epochs} epochs ({elapsed:.1f} s)")
    print(f"test accuracy: {history['accuracy'][-1]:.4f} ({len(test_set)} test images)")

    checkpoint = os.path.join(args.out, "mlp_digits.pt")
    torch.save({"model": model.state_dict(), "optimizer": optimizer.state_dict(),
                "scheduler": scheduler.state_dict(), "epoch": args.epochs, "history": history}, checkpoint)
    plot = os.path.join(args.out, "mlp_digits.png")
    save_plot(history, plot)
    print(f"saved checkpoint {checkpoint} and plot {plot}")


if __name__ == "__main__":
    main()

import tritensor as torch
import tritensor.nn as nn
from tritensor.utils.data import DataLoader, TensorDataset

# Regression: fit an MLP to a noisy synthetic function y = sin(3x) + 0.3 x^2 with MSELoss.
#
# Mini-batches from a DataLoader, Adam with a OneCycleLR schedule (stepped per batch). Prints
# the validation MSE before and after training (the noise floor is 0.0025), and saves the
# fitted curve as a plot when --out is given.
#
#     python examples/regression.py [--epochs 30] [--out DIR]
import argparse
import os

NOISE = 0.05


def target_function(x):
    return torch.sin(3 * x) + 0.3 * x ** 2


def make_data(n, generator):
    x = torch.rand(n, 1, generator=generator) * 4 - 2  # uniform on [-2, 2)
    y = target_function(x) + NOISE * torch.randn(n, 1, generator=generator)
    return x, y


@torch.no_grad()
def mse(model, x, y):
    model.eval()
    return nn.functional.mse_loss(model(x), y).item()


def save_plot(model, x_val, y_val, path):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    grid = torch.linspace(-2, 2, 200).unsqueeze(1)
    with torch.no_grad():
        fitted = model(grid)
    fig, ax = plt.subplots(figsize=(5, 3.5))
    ax.scatter(x_val.squeeze(1).tolist(), y_val.squeeze(1).tolist(), s=4, alpha=0.4, label="validation data")
    ax.plot(grid.squeeze(1).tolist(), target_function(grid).squeeze(1).tolist(), "k--", label="target")
    ax.plot(grid.squeeze(1).tolist(), fitted.squeeze(1).tolist(), label="MLP")
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def main():
    parser = argparse.ArgumentParser(description="Fit an MLP to a synthetic function with MSELoss.")
    parser.add_argument("--device", choices=["cpu", "cuda"],
                        default="cuda" if torch.cuda.is_available() else "cpu")
    parser.add_argument("--epochs", type=int, default=30)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", default=None, help="folder for regression.png (default: no plot)")
    args = parser.parse_args()

    torch.manual_seed(args.seed)
    device = torch.device(args.device)
    generator = torch.Generator().manual_seed(args.seed)
    x_train, y_train = make_data(1024, generator)
    x_val, y_val = make_data(256, generator)
    loader = DataLoader(TensorDataset(x_train, y_train), batch_size=64, shuffle=True)

    model = nn.Sequential(nn.Linear(1, 64), nn.Tanh(), nn.Linear(64, 64), nn.Tanh(),
                          nn.Linear(64, 1)).to(device)
    criterion = nn.MSELoss()
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-2)
    scheduler = torch.optim.lr_scheduler.OneCycleLR(optimizer, max_lr=2e-2, epochs=args.epochs,
                                                    steps_per_epoch=len(loader))
    x_val, y_val = x_val.to(device), y_val.to(device)
    print(f"initial validation MSE: {mse(model, x_val, y_val):.5f}")
    for epoch in range(args.epochs):
        model.train()
        for x, y in loader:
            x, y = x.to(device), y.to(device)
            optimizer.zero_grad()
            loss = criterion(model(x), y)
            loss.backward()
            optimizer.step()
            scheduler.step()
        if (epoch + 1) % 10 == 0:
            print(f"epoch {epoch + 1}: validation MSE {mse(model, x_val, y_val):.5f}")
    print(f"final validation MSE: {mse(model, x_val, y_val):.5f} (noise floor {NOISE ** 2:.5f})")

    if args.out:
        os.makedirs(args.out, exist_ok=True)
        path = os.path.join(args.out, "regression.png")
        save_plot(model.cpu(), x_val.cpu(), y_val.cpu(), path)
        print(f"saved plot {path}")


if __name__ == "__main__":
    main()

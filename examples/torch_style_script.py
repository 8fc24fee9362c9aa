import tritensor as torch

# An ordinary PyTorch script, unchanged except for the line above: every name below is
# reached through `torch.` exactly as in PyTorch (replace the first line with
# `import torch` and it runs on PyTorch; tests/test_examples.py does just that).
#
# It follows the seed's tutorial: a custom Dataset and a DataLoader with worker processes,
# an nn.Module, CrossEntropyLoss, an optimizer with per-layer parameter groups, a learning-rate
# warm-up written into param_group['lr'], gradient clipping, a StepLR scheduler, and a
# checkpoint of model + optimizer + scheduler saved, loaded and resumed.
#
#     python examples/torch_style_script.py [--out DIR]
import argparse
import os
import tempfile


class CustomDataset(torch.utils.data.Dataset):
    def __init__(self, data, targets):
        self.data = data
        self.targets = targets

    def __getitem__(self, index):
        return self.data[index], self.targets[index]

    def __len__(self):
        return len(self.data)


class SimpleNN(torch.nn.Module):
    def __init__(self):
        super(SimpleNN, self).__init__()
        self.base = torch.nn.Sequential(torch.nn.Linear(2, 32), torch.nn.ReLU())
        self.classifier = torch.nn.Linear(32, 3)

    def forward(self, x):
        return self.classifier(self.base(x))


def make_data(n=600):
    """Three classes: which of three angular sectors a 2-d point lies in."""
    x = torch.randn(n, 2)
    angle = torch.atan2(x[:, 1], x[:, 0])
    y = ((angle + torch.pi) / (2 * torch.pi / 3)).long().clamp(0, 2)
    return x, y


def train(model, loader, criterion, optimizer, scheduler, device, epochs, start_epoch=0, warmup_epochs=2):
    base_lrs = [group["lr"] for group in optimizer.param_groups]
    model.train()
    for epoch in range(start_epoch, start_epoch + epochs):
        if epoch < warmup_epochs:  # linear warm-up by hand, as in the tutorial
            for group, base_lr in zip(optimizer.param_groups, base_lrs):
                group["lr"] = base_lr * (epoch + 1) / warmup_epochs
        total, correct, seen = 0.0, 0, 0
        for batch_data, batch_labels in loader:
            batch_data, batch_labels = batch_data.to(device), batch_labels.to(device)
            optimizer.zero_grad()
            outputs = model(batch_data)
            loss = criterion(outputs, batch_labels)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), max_norm=5.0)
            optimizer.step()
            total += loss.item() * len(batch_labels)
            correct += int((outputs.argmax(1) == batch_labels).sum())
            seen += len(batch_labels)
        scheduler.step()
        print(f"epoch {epoch + 1}: loss {total / seen:.4f}, accuracy {correct / seen:.3f}, "
              f"lr {scheduler.get_last_lr()[0]:.4f}")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--epochs", type=int, default=6)
    parser.add_argument("--out", default=None, help="checkpoint folder (default: a temporary one)")
    args = parser.parse_args()

    torch.manual_seed(0)
    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    x, y = make_data()
    train_loader = torch.utils.data.DataLoader(CustomDataset(x, y), batch_size=64, shuffle=True,
                                               num_workers=2)

    model = SimpleNN().to(device)
    print(model)
    criterion = torch.nn.CrossEntropyLoss()
    optimizer = torch.optim.SGD([
        {"params": model.base.parameters(), "lr": 0.05},
        {"params": model.classifier.parameters(), "lr": 0.1},
    ], momentum=0.9)
    scheduler = torch.optim.lr_scheduler.StepLR(optimizer, step_size=3, gamma=0.5)
    train(model, train_loader, criterion, optimizer, scheduler, device, args.epochs)

    out = args.out or tempfile.mkdtemp()
    os.makedirs(out, exist_ok=True)
    path = os.path.join(out, "checkpoint.pt")
    torch.save({"model": model.state_dict(), "optimizer": optimizer.state_dict(),
                "scheduler": scheduler.state_dict(), "epoch": args.epochs}, path)

    # Resume from the checkpoint into fresh objects, as a restarted job would.
    checkpoint = torch.load(path)
    restored = SimpleNN().to(device)
    restored.load_state_dict(checkpoint["model"])
    restored_optimizer = torch.optim.SGD([
        {"params": restored.base.parameters()}, {"params": restored.classifier.parameters()},
    ], lr=0.1, momentum=0.9)
    restored_optimizer.load_state_dict(checkpoint["optimizer"])
    restored_scheduler = torch.optim.lr_scheduler.StepLR(restored_optimizer, step_size=3, gamma=0.5)
    restored_scheduler.load_state_dict(checkpoint["scheduler"])
    model.eval()
    restored.eval()
    with torch.no_grad():
        same = torch.equal(restored(x.to(device)), model(x.to(device)))
    print(f"checkpoint {path} (epoch {checkpoint['epoch']}): outputs identical = {same}, "
          f"lr restored = {restored_scheduler.get_last_lr() == scheduler.get_last_lr()}")
    train(restored, train_loader, criterion, restored_optimizer, restored_scheduler, device, 1,
          start_epoch=checkpoint["epoch"])


if __name__ == "__main__":
    main()

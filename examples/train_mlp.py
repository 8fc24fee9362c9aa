"""Train a small MLP classifier, written as ordinary PyTorch code (the seed's model half).

A Dataset + DataLoader (worker processes), an nn.Module with nn.Linear layers, the
cross-entropy loss, an optimizer, gradient clipping, and a checkpoint saved and loaded
with tritensor.save / tritensor.load. The only change from PyTorch is the import.

    python examples/train_mlp.py
"""
import os
import tempfile

import tritensor as torch
import tritensor.nn as nn
from tritensor.utils.data import DataLoader, Dataset


class CustomDataset(Dataset):
    def __init__(self, data, targets):
        self.data = data
        self.targets = targets

    def __getitem__(self, index):
        return self.data[index], self.targets[index]

    def __len__(self):
        return len(self.data)


class SimpleNN(nn.Module):
    def __init__(self):
        super(SimpleNN, self).__init__()
        self.fc1 = nn.Linear(2, 32)
        self.fc2 = nn.Linear(32, 3)

    def forward(self, x):
        x = torch.relu(self.fc1(x))
        return self.fc2(x)


def make_data(n=600):
    """Three classes: which of three angular sectors a 2-d point lies in."""
    x = torch.randn(n, 2)
    angle = torch.atan2(x[:, 1], x[:, 0])
    y = ((angle + 3.1416) / (2 * 3.1416 / 3)).long().clamp(0, 2)
    return x, y


def main():
    torch.manual_seed(0)
    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    x, y = make_data()
    train_loader = DataLoader(CustomDataset(x, y), batch_size=64, shuffle=True, num_workers=2)
    model = SimpleNN().to(device)
    print(model)
    criterion = nn.CrossEntropyLoss()
    optimizer = torch.optim.Adam(model.parameters(), lr=0.01)
    model.train()
    for epoch in range(15):
        total, correct, seen = 0.0, 0, 0
        for batch_data, batch_labels in train_loader:
            batch_data, batch_labels = batch_data.to(device), batch_labels.to(device)
            optimizer.zero_grad()
            outputs = model(batch_data)
            loss = criterion(outputs, batch_labels)
            loss.backward()
            nn.utils.clip_grad_norm_(model.parameters(), max_norm=5.0)
            optimizer.step()
            total += loss.item() * len(batch_labels)
            correct += int((outputs.argmax(1) == batch_labels).sum())
            seen += len(batch_labels)
        if epoch % 5 == 4:
            print(f"epoch {epoch + 1}: loss {total / seen:.4f}, accuracy {correct / seen:.3f}")

    path = os.path.join(tempfile.mkdtemp(), "mlp.safetensors")
    torch.save({"model": model.state_dict(), "epoch": 15}, path)
    checkpoint = torch.load(path)
    restored = SimpleNN().to(device)
    restored.load_state_dict(checkpoint["model"])
    restored.eval()
    with torch.no_grad():
        same = torch.equal(restored(x.to(device)), model.eval()(x.to(device)))
    print(f"checkpoint round trip (epoch {checkpoint['epoch']}): outputs identical = {same}")


if __name__ == "__main__":
    main()

"""The example scripts run end to end (as subprocesses, tiny settings) and produce their outputs."""
from __future__ import annotations

import ast
import importlib.util
import re
import subprocess
import sys
from pathlib import Path

import pytest

import tritensor

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
SCRIPTS = ["train_mlp.py", "regression.py", "torch_style_script.py"]


def run(script, *args, check=True):
    """Run ``script`` (a path) with ``args``; returns the CompletedProcess (stdout, stderr as text)."""
    proc = subprocess.run([sys.executable, str(script), *map(str, args)], capture_output=True, text=True,
                          timeout=300)
    if check:
        assert proc.returncode == 0, f"{script} failed:\n{proc.stdout}\n{proc.stderr}"
    return proc


def number_after(label, text):
    match = re.search(re.escape(label) + r"\s*([0-9.]+)", text)
    assert match, f"no '{label}' line in:\n{text}"
    return float(match.group(1))


def load_example(name):
    """Import an example script as a module (its main() is not run)."""
    spec = importlib.util.spec_from_file_location(name.removesuffix(".py"), EXAMPLES / name)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("name", SCRIPTS)
def test_example_starts_with_tritensor_as_torch(name):
    first = ast.parse((EXAMPLES / name).read_text()).body[0]
    assert ast.unparse(first) == "import tritensor as torch"


@pytest.mark.parametrize("optimizer,epochs", [("adam", 2), ("sgd", 1)])
def test_train_mlp(tmp_path, optimizer, epochs):
    proc = run(EXAMPLES / "train_mlp.py", "--epochs", epochs, "--optimizer", optimizer, "--seed", 1,
               "--device", "cpu", "--out", tmp_path)
    accuracy = number_after("test accuracy:", proc.stdout)
    assert 0.5 < accuracy <= 1.0  # ten classes: chance is 0.1; two epochs already reach ~0.8
    assert "loss=" in proc.stderr  # the tqdm bar shows the running loss

    plot = tmp_path / "mlp_digits.png"
    assert plot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"

    checkpoint = tritensor.load(tmp_path / "mlp_digits.pt")
    assert checkpoint["epoch"] == epochs
    assert checkpoint["scheduler"]["last_epoch"] == epochs
    assert len(checkpoint["history"]["loss"]) == epochs
    assert len(checkpoint["optimizer"]["state"]) == 6  # three Linear layers: weight and bias each
    example = load_example("train_mlp.py")
    model = example.MLP()
    model.load_state_dict(checkpoint["model"])
    _, test_set = example.digits_datasets(seed=1)
    test_loader = tritensor.utils.data.DataLoader(test_set, batch_size=512)
    restored_accuracy = example.evaluate(model, test_loader, tritensor.device("cpu"))
    assert f"{restored_accuracy:.4f}" == f"{accuracy:.4f}"  # the checkpoint holds the trained model


@pytest.mark.slow
def test_train_mlp_default_run_reaches_096(tmp_path):
    """The main job's promise: the default settings reach >= 0.96 test accuracy."""
    proc = run(EXAMPLES / "train_mlp.py", "--device", "cpu", "--out", tmp_path)
    assert number_after("test accuracy:", proc.stdout) >= 0.96


@pytest.mark.skipif(tritensor.cuda.is_available(), reason="checks the message shown without a GPU")
def test_train_mlp_cuda_without_gpu_is_a_clear_error(tmp_path):
    proc = run(EXAMPLES / "train_mlp.py", "--device", "cuda", "--out", tmp_path, check=False)
    assert proc.returncode == 2 and "no CUDA GPU" in proc.stderr


def test_regression(tmp_path):
    proc = run(EXAMPLES / "regression.py", "--epochs", 5, "--out", tmp_path)
    initial = number_after("initial validation MSE:", proc.stdout)
    final = number_after("final validation MSE:", proc.stdout)
    assert final < initial / 5
    assert (tmp_path / "regression.png").read_bytes()[:4] == b"\x89PNG"


def test_torch_style_script(tmp_path):
    proc = run(EXAMPLES / "torch_style_script.py", "--epochs", 3, "--out", tmp_path)
    assert "outputs identical = True, lr restored = True" in proc.stdout
    assert number_after("epoch 4: loss", proc.stdout) < number_after("epoch 1: loss", proc.stdout)
    assert set(tritensor.load(tmp_path / "checkpoint.pt")) == {"model", "optimizer", "scheduler", "epoch"}


def test_torch_style_script_is_unchanged_torch_code(tmp_path):
    """The same file with its first line replaced by ``import torch`` runs on PyTorch."""
    lines = (EXAMPLES / "torch_style_script.py").read_text().splitlines(keepends=True)
    assert lines[0] == "import tritensor as torch\n"
    script = tmp_path / "torch_script.py"
    script.write_text("import torch\n" + "".join(lines[1:]))
    proc = run(script, "--epochs", 3, "--out", tmp_path)
    assert "outputs identical = True, lr restored = True" in proc.stdout

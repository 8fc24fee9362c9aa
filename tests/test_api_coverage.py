"""docs/api-coverage.md stays true: every name it lists as supported (or supported with a
difference) exists in tritensor, and every name it lists as not yet does not, so the table
must be updated when an op lands."""
import pathlib
import re

import tritensor

DOC = pathlib.Path(__file__).resolve().parents[1] / "docs" / "api-coverage.md"
STATUSES = ("supported", "differs", "not yet")
NAME = re.compile(r"`((?:torch|Tensor)(?:\.[A-Za-z_][A-Za-z0-9_]*)+)`")


def rows():
    """(name, status) for each dotted `torch.x` / `Tensor.x` name in the table's first column."""
    for line in DOC.read_text(encoding="utf-8").splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) < 2 or cells[1] not in STATUSES:
            continue
        for name in NAME.findall(cells[0]):
            yield name, cells[1]


def resolve(name: str) -> bool:
    """Whether ``torch.a.b`` (as tritensor.a.b) or ``Tensor.m`` exists."""
    head, *parts = name.split(".")
    obj = tritensor if head == "torch" else tritensor.Tensor
    for part in parts:
        if not hasattr(obj, part):
            return False
        obj = getattr(obj, part)
    return True


ROWS = sorted(set(rows()))


def test_table_is_not_empty():
    assert len(ROWS) > 100


def test_supported_names_exist():
    missing = [name for name, status in ROWS if status != "not yet" and not resolve(name)]
    assert not missing, f"docs/api-coverage.md lists these as available, but tritensor lacks them: {missing}"


def test_not_yet_names_are_absent():
    present = [name for name, status in ROWS if status == "not yet" and resolve(name)]
    assert not present, f"these exist now: mark them in docs/api-coverage.md: {present}"

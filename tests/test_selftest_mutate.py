"""Automatic mutants (grader/instructor/selftest/mutate.py): each operator makes the bug it names, only inside the
solution markers, every mutant parses, ids survive edits elsewhere, samples are seeded and spread."""
from __future__ import annotations

import ast
from pathlib import Path

import pytest

from grader.instructor.selftest.mutate import OPERATORS, mutants, sample

ROOT = Path(__file__).resolve().parents[1]

SOURCE = '''import numpy as np


def outside(x):
    return x + 1 - np.sum(x, axis=0)


def f(X, W, b, n, xs):
    """Docstring."""
    # BEGIN SOLUTION
    y = np.sum(X @ W.T, axis=1, keepdims=True) / n + b
    z = np.argmax(y, axis=-1)
    if n > 0 and n == 3:
        y -= 2.0 * b
    for i in range(1, n):
        z = z + max(xs[1:n])
    return -y, z
    # END SOLUTION


def g(p):
    return p[0:4]  # SOLUTION
'''


def _afters(op: str) -> list[str]:
    return [m.line_after or m.after for m in mutants(SOURCE, "f.py", [op])]


@pytest.mark.parametrize("op, expected", [
    ("arith", "y = np.sum(X @ W.T, axis=1, keepdims=True) * n + b"),
    ("arith", "y += 2.0 * b"),
    ("swap-operands", "y = np.sum(W.T @ X, axis=1, keepdims=True) / n + b"),
    ("drop-term", "y = np.sum(X @ W.T, axis=1, keepdims=True) / n"),
    ("drop-factor", "y = np.sum(X @ W.T, axis=1, keepdims=True) + b"),
    ("drop-factor", "y -= b"),
    ("compare", "if n >= 0 and n == 3:"),
    ("compare", "if n > 0 and n != 3:"),
    ("boolean", "if n > 0 or n == 3:"),
    ("negate", "return y, z"),
    ("constant", "y -= 4.0 * b"),
    ("axis", "y = np.sum(X @ W.T, axis=0, keepdims=True) / n + b"),
    ("axis", "z = np.argmax(y, axis=0)"),
    ("keepdims", "y = np.sum(X @ W.T, axis=1) / n + b"),
    ("reduction", "z = np.argmin(y, axis=-1)"),
    ("reduction", "y = np.mean(X @ W.T, axis=1, keepdims=True) / n + b"),
    ("reduction", "z = z + min(xs[1:n])"),
    ("transpose", "y = np.sum(X @ W, axis=1, keepdims=True) / n + b"),
    ("slice", "z = z + max(xs[2:n])"),
    ("slice", "z = z + max(xs[1:n - 1])"),
    ("range", "for i in range(2, n):"),
    ("range", "for i in range(1, n - 1):"),
])
def test_each_operator_makes_its_bug(op, expected):
    assert expected in _afters(op), _afters(op)


def test_only_marked_code_is_mutated_and_every_mutant_parses():
    found = mutants(SOURCE, "f.py")
    assert {m.operator for m in found} == set(OPERATORS) - set()  # every operator applies somewhere here
    original = SOURCE.splitlines()
    marked = set(range(11, 18)) | {22}  # the block's lines and the one-line `# SOLUTION`
    for m in found:
        ast.parse(m.source)
        changed = [i + 1 for i, (a, b) in enumerate(zip(original, m.source.splitlines())) if a != b]
        assert changed and set(changed) <= marked, (m.id, changed)
        assert m.source != SOURCE
    assert len({m.source for m in found}) == len(found), "duplicates are left out"
    assert any(m.function == "g" for m in found) and not any(m.function == "outside" for m in found)


def test_parentheses_keep_the_meaning_of_the_edit():
    src = "def h(a, b, c):\n    # BEGIN SOLUTION\n    return a * (b - c)\n    # END SOLUTION\n"
    afters = [m.line_after for m in mutants(src, "h.py", ["arith", "drop-term"])]
    assert "return a * (b + c)" in afters and "return a * (b)" in afters  # the source's own parentheses kept
    assert "return a / (b - c)" in afters
    src = "def h(a, b, n):\n    # BEGIN SOLUTION\n    return -a ** n\n    # END SOLUTION\n"
    assert "return -(a * n)" in [m.line_after for m in mutants(src, "h.py", ["arith"])]  # ** → *: parenthesised


def test_ids_do_not_move_when_another_function_changes():
    before = {m.id: m.after for m in mutants(SOURCE, "f.py")}
    edited = SOURCE.replace("def g(p):\n    return p[0:4]  # SOLUTION",
                            "def g(p):\n    q = p * 3  # SOLUTION\n    return q[0:4]  # SOLUTION")
    after = {m.id: m.after for m in mutants(edited, "f.py")}
    f_ids = {i for i in before if ":f:" in i}
    assert f_ids and all(after.get(i) == before[i] for i in f_ids)


def test_no_markers_no_mutants_and_unknown_operators_refused():
    assert mutants("def f(x):\n    return x + 1\n", "plain.py") == []
    with pytest.raises(ValueError, match="unknown mutation operators"):
        mutants(SOURCE, "f.py", ["flip"])


def test_sample_is_seeded_and_spread_over_files_and_operators():
    found = []
    for p in sorted((ROOT / "reference" / "backprop").glob("*.py")):
        found += mutants(p.read_text(), p.name)
    assert len(found) > 200
    a, b = sample(found, 30, seed=1), sample(found, 30, seed=1)
    assert [m.id for m in a] == [m.id for m in b] and len(a) == 30
    assert [m.id for m in sample(found, 30, seed=2)] != [m.id for m in a]
    assert len({m.file for m in a}) == 4 and len({m.operator for m in a}) >= 8
    assert sample(found, None) == found and sample(found, 10_000) == found


def test_every_reference_has_mutants_in_every_task_module():
    from grader.engine import assignment

    for name in assignment.available():
        asg = assignment.load(name)
        for task in asg.tasks:
            for module in task.modules:
                src = (ROOT / "reference" / name / f"{module}.py").read_text()
                assert mutants(src, f"{module}.py"), f"{name}/{module}.py: no marked code to mutate"

"""The hostile batch (tests/hostile_batch/, README there): innocent A1 submissions beside four that
attack the machine, and the course assignment that grades them with small limits.

Shared by tests/test_hostile_batch.py and bench/bench_hostile_batch.py. The assignment `hostile_a1`
lives in a course folder made here ($GRADER_ASSIGNMENTS): A1's softmax checks with the limits of
LIMITS, which $HOSTILE_BATCH_LIMITS (JSON of Limits fields) may override, e.g. {"disk_mb": 0} to
grade with no disk bound (the bench's "before").
"""
from __future__ import annotations

import json
import os
import secrets
import shutil
from pathlib import Path

from assignments.backprop.cases import WRONG as MUTANTS

TESTS = Path(__file__).resolve().parent
ROOT = TESTS.parent
HOSTILE_DIR = TESTS / "hostile_batch"
REF = ROOT / "reference" / "backprop"
ASSIGNMENT = "hostile_a1"
LIMITS_ENV = "HOSTILE_BATCH_LIMITS"
# Small limits keep the batch at about a minute; each attack runs in softmax(), i.e. in two checks
LIMITS = {"timeout": 4.0, "memory_mb": 256, "processes": 32, "file_size_mb": 16, "disk_mb": 64}
CHECKS = ("softmax.values", "softmax.stable", "softmax.cross_entropy")
HOSTILE = ("fork_bomb_hold", "spinner", "memory_tree", "filler")
SOFTMAX_MUTANTS = [m for m in MUTANTS if m.file == "softmax.py"]
# correct, partially correct and unsolved: each scores the same whatever its neighbours do
PARTIAL = ("softmax_no_max_shift", "softmax_wrong_axis", "cross_entropy_sum_not_mean")  # each loses a check
INNOCENT = ("reference", "loops", "template", *(f"mutant:{name}" for name in PARTIAL))

_INIT = '''"""A1's softmax task with small limits: the hostile batch (tests/hostile_batch_class.py)."""
from grader.api import Assignment
from assignments.backprop import ASSIGNMENT as A1

ASSIGNMENT = Assignment(name="{name}", title="A1 softmax, small limits (hostile batch)",
                        tasks=[t for t in A1.tasks if t.name == "softmax"], package=__name__, seed=A1.seed)
'''
_CHECKS = '''"""A1's checks {ids} with the hostile batch's limits (same inputs: same seed, same ids)."""
import json
import os
from dataclasses import replace

from assignments.backprop import ASSIGNMENT as A1
from grader.api import CheckList, Limits, Visibility

LIMITS = Limits(**{{**{limits}, **json.loads(os.environ.get("{env}") or "{{}}")}})
CHECKS = CheckList(Visibility.PUBLIC)
CHECKS.extend(replace(c, limits=LIMITS) for c in A1.checks(hidden=True) if c.id in {ids})
'''


def limits() -> dict:
    """The limits the batch is graded with now (LIMITS and the environment's overrides)."""
    return {**LIMITS, **json.loads(os.environ.get(LIMITS_ENV) or "{}")}


def build_course(root: Path) -> Path:
    """A course folder holding the assignment `hostile_a1`; put it in $GRADER_ASSIGNMENTS."""
    folder = root / "assignments" / ASSIGNMENT
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "__init__.py").write_text(_INIT.format(name=ASSIGNMENT))
    (folder / "checks.py").write_text(_CHECKS.format(ids=repr(CHECKS), limits=repr(LIMITS), env=LIMITS_ENV))
    shutil.copy(ROOT / "assignments" / "backprop" / "probes.py", folder / "probes.py")
    _readable(root)
    return root


def _files(kind: str, dest: Path) -> None:
    dest.mkdir(parents=True)
    if kind == "reference":
        shutil.copy(REF / "softmax.py", dest / "softmax.py")
    elif kind == "loops":
        shutil.copy(ROOT / "assignments" / "backprop" / "variants" / "loops" / "softmax.py", dest / "softmax.py")
    elif kind == "template":
        shutil.copy(ROOT / "student_template" / "backprop" / "softmax.py", dest / "softmax.py")
    elif kind.startswith("mutant:"):
        m = next(m for m in SOFTMAX_MUTANTS if m.name == kind.split(":", 1)[1])
        text = (REF / "softmax.py").read_text()
        assert text.count(m.old) == 1, m.name
        (dest / "softmax.py").write_text(text.replace(m.old, m.new))
    else:
        shutil.copy(HOSTILE_DIR / kind / "softmax.py", dest / "softmax.py")
        # a marker per attack: its processes are named after it, its files hold it (survivor search)
        (dest / "case.json").write_text(json.dumps({"marker": "hb" + secrets.token_hex(6)}))


def build_class(root: Path, kinds=INNOCENT + HOSTILE) -> dict[str, str]:
    """One folder per submission under `root` ({student: kind}); hostile ones interleaved with the
    innocents, so that each innocent is graded beside an attack."""
    students = {}
    innocent = [k for k in kinds if k not in HOSTILE]
    hostile = [k for k in kinds if k in HOSTILE]
    order = []
    while innocent or hostile:
        if hostile:
            order.append(hostile.pop(0))
        if innocent:
            order.append(innocent.pop(0))
    for i, kind in enumerate(order):
        student = f"s{i:02d}-{kind.replace(':', '-').replace('_', '-')}"
        _files(kind, root / student)
        students[student] = kind
    _readable(root)
    return students


def marker(folder: Path) -> str:
    return json.loads((folder / "case.json").read_text())["marker"]


def _readable(root: Path) -> None:
    """Readable (not writable) by the sandbox user, as an instructor keeps a class."""
    for p in [root, *root.rglob("*")]:
        os.chmod(p, 0o755 if p.is_dir() else 0o644)

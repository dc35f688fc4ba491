"""The student wheel holds no answers (docs/install.md, "What the student edition holds"): two scans
that survive renaming, each shown to catch a planted paraphrase (tests/answer_scan.py)."""
from __future__ import annotations

import dataclasses
import json
import os
import pickle
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from grader.engine.sandbox.isolation import bwrap_works
from grader.instructor.publish.wheel import build_student_wheel, wheel_contents

from answer_scan import MIN_TOKENS, iter_shipped_sources, record_calls, statements, token_scan

ROOT = Path(__file__).resolve().parents[1]
REFERENCE = ROOT / "reference"
PROBE = Path(__file__).with_name("answer_probe.py")
ASSIGNMENTS = ("backprop", "relu_fit", "fashion_mlp", "regularised_cnn")

# Planted into a copy of the wheel: the probe must flag the numpy softmax (A1 1.1's answer under
# other names) and nothing else of this module: the torch one computes with torch, which is allowed.
PLANTED = '''
import numpy as np


def rows_normalised(scores):
    shifted = scores - scores.max(axis=-1, keepdims=True)
    ex = np.exp(shifted)
    return ex / ex.sum(axis=-1, keepdims=True)


def rows_normalised_torch(scores):
    import torch
    return torch.softmax(torch.as_tensor(scores, dtype=torch.float64), -1).numpy()
'''


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    return build_student_wheel(tmp_path_factory.mktemp("dist"))


# ------------------------------------------------------------------------------- token scan
def test_token_scan_finds_no_statement_of_a_solution_in_the_wheel(wheel):
    shipped = dict(iter_shipped_sources(wheel_contents(wheel.read_bytes())))
    assert "assignments/regularised_cnn/oracle.py" in shipped and "grader/engine/judge.py" in shipped
    assert token_scan(shipped, REFERENCE) == []


def test_token_scan_sees_through_renaming():
    """A solution's statements with every name changed, other spacing and a different target
    (`return e / …` as `out = ex / …`) are found; the same computation written otherwise is not."""
    paraphrase = ("def rows(scores):\n    shifted = scores - np.max(scores, axis=-1, keepdims=True)\n"
                  "    ex = np.exp(shifted)\n    out = ex/np.sum(ex, axis = -1, keepdims = True)\n    return out\n")
    found = token_scan({"planted.py": paraphrase}, REFERENCE)
    assert any(f.startswith("planted.py:4 holds reference/backprop/softmax.py") for f in found), found
    assert token_scan({"other.py": "def rows(s):\n    return torch.softmax(s, -1)\n"}, REFERENCE) == []
    # the threshold: idioms below it are everywhere (`n = X.shape[0]` is 8 tokens)
    assert len(statements("n = X.shape[0]\n")[0].tokens) < MIN_TOKENS


# -------------------------------------------------------------------------- functional probe
def _unpack(wheel: Path, dest: Path) -> Path:
    with zipfile.ZipFile(wheel) as z:
        z.extractall(dest)  # what pip puts into site-packages (purelib)
    return dest


def _probe_command(stage: Path, calls: Path, out: Path, work: Path) -> list[str]:
    cmd = [sys.executable, "-P", str(PROBE), str(stage), str(calls), str(out)]
    if not bwrap_works():
        return cmd
    # every function is called with arbitrary inputs: in bubblewrap, nothing of this machine is
    # writable but `work`, and signals reach only the probe's own processes
    # a checkout and venv under /tmp (CI's fresh clone) stay visible over the empty /tmp
    under_tmp = [p for p in dict.fromkeys(os.path.realpath(p) for p in (sys.prefix, sys.base_prefix, PROBE.parent))
                 if p.startswith("/tmp/")]
    keep = [arg for p in under_tmp for arg in ("--ro-bind", p, p)]
    return [shutil.which("bwrap"), "--ro-bind", "/", "/", "--dev", "/dev", "--proc", "/proc", "--tmpfs", "/tmp",
            *keep, "--bind", str(work), str(work), "--unshare-pid", "--unshare-net", "--die-with-parent",
            "--new-session", "--chdir", str(work), *cmd]


def test_functional_probe_finds_no_answer_in_the_wheel(wheel, tmp_path):
    """Every function of the student edition, called like each student function (same number of
    arguments) on the inputs the checks give it, must not return the reference's answer (or a part
    of it) unless it computes with torch: with torch unimportable, it then fails."""
    calls = []
    share = tmp_path / "share"
    share.mkdir()
    for name in ASSIGNMENTS:
        calls += record_calls(name, REFERENCE / name, share)
    keys = {c.key for c in calls}
    # every student-facing function of a task with plain-data inputs was called
    assert {"softmax.softmax", "softmax.cross_entropy_grad", "scalar_backprop.backward", "scalar_backprop.sgd_step",
            "warmup.mean_minimizer", "relu_net.loss_grad", "relu_net.fit", "numpy_mlp.sample_grads",
            "linear.loss_and_grads", "linear.train", "penalties.l1_grad", "metrics.accuracy",
            "optim.adam_step", "layers.Linear.forward"} <= keys, sorted(keys)
    work = tmp_path / "work"
    stage = _unpack(wheel, work / "stage")
    (stage / "assignments" / "planted_probe.py").write_text(PLANTED)
    (work / "calls.pkl").write_bytes(pickle.dumps([dataclasses.asdict(c) for c in calls]))
    out = work / "report.json"
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME")}
    env["PYTHONPATH"] = str(stage)
    proc = subprocess.run(_probe_command(stage, work / "calls.pkl", out, work), env=env, cwd=work,
                          stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0 and out.exists(), proc.stderr[-3000:]
    report = json.loads(out.read_text())
    assert report["import_failures"] == {}  # every module of the wheel imports without torch, and was probed
    assert report["timeouts"] == []  # a call that never returned was not judged
    assert report["modules"] > 40 and report["functions"] > 300 and report["calls"] > 1000, report
    planted = [f for f in report["findings"] if f.startswith("assignments.planted_probe.")]
    assert planted and all(f.startswith("assignments.planted_probe.rows_normalised returns") for f in planted), planted
    assert [f for f in report["findings"] if f not in planted] == []

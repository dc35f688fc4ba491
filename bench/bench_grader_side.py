"""What grading costs the grader itself: peak memory, scratch disk and report size, per case.

    python bench/bench_grader_side.py            # A1 reference + every grader-side hostile case

Each case is graded in a fresh Python process (so that its peak RSS is its own) with a private
temporary folder whose disk use is sampled every 50 ms. Prints one row per case: the grader's peak
resident memory, the peak disk use of its temporary folders (snapshot + scratch copies + runtime),
the largest student-facing report (any format) and the wall time.
"""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
REFERENCE = ROOT / "reference" / "backprop"
CASES = ROOT / "tests" / "hostile_grader"

CHILD = r'''
import json, os, resource, sys, tempfile, threading, time
from dataclasses import replace
from pathlib import Path
sub, ids, tmp = Path(sys.argv[1]), sys.argv[2].split(","), sys.argv[3]
tempfile.tempdir = tmp
peak = [0]
def disk():
    total = 0
    for d, dirs, files in os.walk(tmp):
        for f in files + dirs:
            try:
                total += os.lstat(os.path.join(d, f)).st_blocks * 512
            except OSError:
                pass
    return total
def sample():
    while not done.is_set():
        peak[0] = max(peak[0], disk())
        time.sleep(0.05)
done = threading.Event()
threading.Thread(target=sample, daemon=True).start()
from grader import reports
from grader.engine.assignment import Assignment, load
from grader.engine.model import Limits
from grader.engine.runner import grade
a = load("backprop")
checks = [replace(c, limits=replace(c.limits, timeout=min(c.limits.timeout, 30)))
          for c in a.checks(hidden=True) if c.id in ids]
asg = Assignment(a.name, a.title, a.tasks, a.package, a.seed, _checks=checks)
t0 = time.monotonic()
report = grade(sub, asg, hidden=True)
wall = time.monotonic() - t0
done.set()
sizes = {f: len(fn(report).encode()) for f, fn in reports.FORMATS.items()}
print(json.dumps({"rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                  "disk_mb": peak[0] / 2**20, "report_kb": max(sizes.values()) / 1024,
                  "wall_s": wall, "status": report.status, "score": report.score,
                  "max": report.max_score}))
'''

FAST = "softmax.values,softmax.cross_entropy"
PLAIN = "scalar.plain_python"


def _ref(dest: Path, files=("softmax.py", "scalar_backprop.py")) -> Path:
    dest.mkdir(parents=True)
    for f in files:
        shutil.copy(REFERENCE / f, dest / f)
    return dest


def _notebook(path: Path, *cells: str) -> None:
    import nbformat

    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(c) for c in cells]
    nbformat.write(nb, str(path))


def build(work: Path) -> list[tuple[str, Path, str]]:
    """(name, submission folder, check ids) for every case."""
    out = []
    ref = work / "reference"
    shutil.copytree(REFERENCE, ref)
    out.append(("A1 reference (softmax, scalar, layers, mlp; no FashionMNIST)", ref,
                ",".join(c for c in _all_ids() if c.split(".")[0] in ("softmax", "scalar", "layers", "mlp")
                         and "fashion" not in c)))
    numpy_scalar = (REFERENCE / "scalar_backprop.py").read_text().replace("import math\n", "import math\nimport numpy\n")
    s = _ref(work / "fifo", ("softmax.py",))
    os.mkfifo(s / "scalar_backprop.py")
    _notebook(s / "scalar_backprop.ipynb", numpy_scalar)
    out.append(("FIFO named like the module", s, PLAIN))
    s = _ref(work / "devzero", ("softmax.py",))
    (s / "scalar_backprop.py").symlink_to("/dev/zero")
    _notebook(s / "scalar_backprop.ipynb", numpy_scalar)
    out.append(("link to /dev/zero", s, PLAIN))
    s = _ref(work / "sparse")
    with open(s / "big.bin", "wb") as f:
        f.truncate(2**40)
    out.append(("sparse 1 TiB file", s, FAST))
    s = _ref(work / "links")
    (s / "blob.bin").write_bytes(os.urandom(2**20))
    for i in range(150):
        (s / f"l{i}").symlink_to("blob.bin")
        os.link(s / "blob.bin", s / f"h{i}")
    out.append(("150 links + 150 hard links to 1 MiB", s, FAST))
    s = _ref(work / "loops")
    (s / "loop").symlink_to(".")
    (s / "x").symlink_to("y")
    (s / "y").symlink_to("x")
    out.append(("link loops", s, FAST))
    s = _ref(work / "nested")
    os.makedirs(s / ("d/" * 200))
    out.append(("200 nested folders", s, FAST))
    for name in sorted(p.name for p in CASES.iterdir() if p.is_dir()):
        shutil.copytree(CASES / name, work / name)
        out.append((name, work / name, FAST))
    s = _ref(work / "longline", ())
    ce = (CASES / "huge_reply" / "softmax.py").read_text().split("def softmax", 1)[1].split("\n\n\n", 1)[1]
    (s / "softmax.py").write_text("import numpy as np\n\n\ndef softmax(o):\n    raise ValueError('"
                                  + "x" * 4_000_000 + "')\n\n\n" + ce)
    out.append(("4 MB traceback line", s, FAST))
    s = _ref(work / "magics", ("softmax.py",))
    _notebook(s / "scalar_backprop.ipynb", numpy_scalar,
              "\n".join(["!pip install numpy", "%matplotlib inline", "x = (1,", "  2)"] * 6000))
    out.append(("400 KB of notebook magics", s, PLAIN))
    for p in work.rglob("*"):
        if not p.is_symlink() and not p.is_fifo():
            os.chmod(p, 0o755 if p.is_dir() else 0o644)
    os.chmod(work, 0o755)
    return out


def _all_ids() -> list[str]:
    sys.path.insert(0, str(ROOT))
    from grader.engine.assignment import load

    return [c.id for c in load("backprop").checks(hidden=True)]


def main() -> None:
    work = Path(tempfile.mkdtemp(prefix="bench-grader-side-"))
    os.chmod(work, 0o755)
    try:
        print(f"{'case':<58} {'peak RSS':>9} {'peak disk':>10} {'report':>9} {'wall':>7}  result")
        for name, path, ids in build(work):
            tmp = tempfile.mkdtemp(prefix="bench-tmp-")
            try:
                out = subprocess.run([sys.executable, "-c", CHILD, str(path), ids, tmp], cwd=ROOT,
                                     capture_output=True, text=True, timeout=600)
                if out.returncode:
                    print(f"{name:<58} failed: {out.stderr[-500:]}")
                    continue
                r = json.loads(out.stdout.strip().splitlines()[-1])
                print(f"{name:<58} {r['rss_mb']:>6.0f} MB {r['disk_mb']:>7.1f} MB {r['report_kb']:>6.1f} kB "
                      f"{r['wall_s']:>6.1f}s  {r['status']} {r['score']:g}/{r['max']:g}")
            finally:
                shutil.rmtree(tmp, ignore_errors=True)
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()

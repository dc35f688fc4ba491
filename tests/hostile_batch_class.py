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
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Optional

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

# (fields this grader's Limits lacks are left out: the bench measures older graders too)
LIMITS = Limits(**{{k: v for k, v in {{**{limits}, **json.loads(os.environ.get("{env}") or "{{}}")}}.items()
                   if k in Limits.__dataclass_fields__}})
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
    # the grader's alone, as `grade protect` leaves an assignment: without bubblewrap instructor
    # grading is refused while the sandbox user could read it (grader.engine.sandbox.exposure)
    os.chmod(folder, 0o700)
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
        # the memory tree is the hostile corpus's own case (tests/hostile/memory_tree, also in test_bounds)
        source = TESTS / "hostile" / kind if kind == "memory_tree" else HOSTILE_DIR / kind
        shutil.copy(source / "softmax.py", dest / "softmax.py")
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


# --- running the batch and watching the host ------------------------------------------------------
@dataclass
class Peaks:
    """What the sampler saw during the batch (bytes; seconds)."""

    sandbox_memory: int = 0  # proportional set size (PSS) of the sandbox users' processes, at once
    grader_memory: int = 0  # PSS of the grader's own processes (batch, grading processes, bwrap)
    total_memory: int = 0  # both, at once
    scratch_disk: int = 0  # the scratch folders' used bytes (a tmpfs's blocks, or allocated), at once
    scratch_disk_each: int = 0  # the largest one scratch folder at any time
    free_drop: int = 0  # how far the free space of the scratch's file system fell below its start
    shm_drop: int = 0  # the same for /dev/shm (the host's memory)
    samples: int = 0
    # per submission's grading process (its pid → the sandbox memory of its tree, at most)
    tree_memory: dict = field(default_factory=dict)


def _pss(pid: int) -> int:
    """A process's proportional set size (its share of shared pages: forked copies are not counted
    twice), from /proc/<pid>/smaps_rollup; its RSS where that file is missing."""
    try:
        for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
            if line.startswith("Pss:"):
                return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    try:
        return int(Path(f"/proc/{pid}/statm").read_text().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):
        return 0


class Sampler(threading.Thread):
    """Samples, every `period` s, the memory of this process's descendants (split by uid: the grader's
    own vs the sandbox users') and, every `disk_period` s in a thread of its own (a full scratch lives
    for a fraction of a second: the bound stops the worker, its scratch is removed), the size of the
    scratch folders under `scratch_root`."""

    def __init__(self, scratch_root: Path, period: float = 0.2, disk_period: float = 0.02):
        super().__init__(daemon=True, name="hostile-batch-sampler")
        import psutil

        self.psutil = psutil
        self.root, self.period, self.disk_period = scratch_root, period, disk_period
        self._disk_thread = threading.Thread(target=self._disk_loop, daemon=True, name="hostile-batch-disk")
        self.peaks = Peaks()
        self._stop_event = threading.Event()
        self._free0 = os.statvfs(scratch_root).f_bavail * os.statvfs(scratch_root).f_frsize
        self._shm0 = self._free("/dev/shm")

    @staticmethod
    def _free(path: str) -> int:
        try:
            s = os.statvfs(path)
            return s.f_bavail * s.f_frsize
        except OSError:
            return 0

    def run(self) -> None:
        self._disk_thread.start()
        while not self._stop_event.is_set():
            self.sample()
            self._stop_event.wait(self.period)

    def _disk_loop(self) -> None:
        while not self._stop_event.is_set():
            self.sample_disk()
            self._stop_event.wait(self.disk_period)

    def stop(self) -> Peaks:
        self._stop_event.set()
        self.join(10)
        self._disk_thread.join(10)
        return self.peaks

    def sample(self) -> None:
        me = os.geteuid()
        sandbox = grader = 0
        trees: dict[int, int] = {}
        try:
            children = self.psutil.Process().children(recursive=True)
        except self.psutil.Error:
            children = []
        for p in children:
            try:
                uid = p.uids().real
            except self.psutil.Error:
                continue
            pss = _pss(p.pid)
            if uid == me:
                grader += pss
            else:
                sandbox += pss
                top = _grading_process(p, self.psutil)
                if top is not None:
                    trees[top] = trees.get(top, 0) + pss
        pk = self.peaks
        pk.samples += 1
        pk.sandbox_memory = max(pk.sandbox_memory, sandbox)
        pk.grader_memory = max(pk.grader_memory, grader)
        pk.total_memory = max(pk.total_memory, sandbox + grader)
        for pid, used in trees.items():
            pk.tree_memory[pid] = max(pk.tree_memory.get(pid, 0), used)

    def sample_disk(self) -> None:
        pk = self.peaks
        used_total = 0
        for folder in self.root.glob("grader-sub-*"):
            bound = folder / "disk"
            if os.path.ismount(bound):
                try:
                    s = os.statvfs(bound)
                except OSError:  # unmounted meanwhile
                    continue
                used = (s.f_blocks - s.f_bfree) * s.f_frsize
            else:
                used = _tree_size(folder)
            used_total += used
            pk.scratch_disk_each = max(pk.scratch_disk_each, used)
        pk.scratch_disk = max(pk.scratch_disk, used_total)
        pk.free_drop = max(pk.free_drop, self._free0 - self._free(str(self.root)))
        pk.shm_drop = max(pk.shm_drop, self._shm0 - self._free("/dev/shm"))


def _tree_size(root: Path) -> int:
    """Allocated bytes under `root` (grader.engine.sandbox.disk.tree_size, kept here so that the
    bench can measure graders that lack it)."""
    total, stack = 0, [str(root)]
    while stack:
        try:
            with os.scandir(stack.pop()) as it:
                for entry in it:
                    try:
                        st = entry.stat(follow_symlinks=False)
                    except OSError:
                        continue
                    total += max(4096, st.st_blocks * 512)
                    if entry.is_dir(follow_symlinks=False):
                        stack.append(entry.path)
        except OSError:
            continue
    return total


def _grading_process(p, psutil) -> Optional[int]:
    """The pid of the grading process (a child of this process) above `p`."""
    me = os.getpid()
    try:
        for parent in p.parents():
            if parent.ppid() == me:
                return parent.pid
    except psutil.Error:
        pass
    return None


def run_hostile_batch(class_dir: Path, out: Path, scratch_root: Path, jobs: int = 2, isolation: str = "bwrap"):
    """`grade batch` of the class with `jobs` slots, its scratch folders under `scratch_root` (a
    private $TMPDIR), each grading in a fresh process (no forkserver: its environment would be older);
    returns (BatchSummary, Peaks). The caller sets $GRADER_ASSIGNMENTS to the course folder."""
    from grader.instructor.batch.run import BatchOptions, run_batch

    saved = {k: os.environ.get(k) for k in ("TMPDIR", "GRADER_BATCH_FORK")}
    os.environ.update(TMPDIR=str(scratch_root), GRADER_BATCH_FORK="0")
    sampler = Sampler(scratch_root)
    sampler.start()
    try:
        summary = run_batch(BatchOptions(submissions=class_dir, assignment=ASSIGNMENT, out=out, jobs=jobs,
                                         isolation=isolation, quiet=True, similarity=False))
    finally:
        peaks = sampler.stop()
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
    return summary, peaks


def processes_with(marker: str) -> list[str]:
    """Live processes named after `marker` (the hostile submissions name every process they make)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            comm = (entry / "comm").read_text().strip()
            state = (entry / "stat").read_text().rsplit(")", 1)[1].split()[0]
        except OSError:
            continue
        if state != "Z" and marker in comm:
            found.append(f"{entry.name} [{state}] {comm}")
    return found

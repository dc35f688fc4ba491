"""A similarity screen across a class: which students' code is too alike, the template discounted.

`screen(SUBMISSIONS, assignment, out)` reads every submission as `grade batch` does (the same
layouts and safe archive reading), keeps each student's module files (a notebook by its code cells),
and compares them pairwise per module with copydetect's winnowing fingerprints, with the
assignment's template as boilerplate: code the template gives everyone never counts. It writes

* `similarity.csv`: every pair of students whose files share at least `threshold` of their
  fingerprints (either direction), most similar first;
* `similarity.html`: copydetect's report, the flagged files side by side with the shared regions
  highlighted.

A flag is a reason to look, not a verdict: short modules and closed-form answers are alike by nature.
"""
from __future__ import annotations

import csv
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Optional

from . import assignment as assignments
from .batch.archives import ArchiveRejected
from .batch.layouts import discover, read_entry

DEFAULT_THRESHOLD = 0.5  # share of a file's fingerprints found in the other (docs/similarity.md)
NOISE_T = 25  # tokens: matches shorter than this are noise (copydetect's default)
GUARANTEE_T = 30  # tokens: matches at least this long are always found


@dataclass(frozen=True)
class Pair:
    student_a: str
    student_b: str
    module: str
    similarity_a: float  # share of a's fingerprints found in b
    similarity_b: float
    overlap: int  # tokens in common

    @property
    def similarity(self) -> float:
        return max(self.similarity_a, self.similarity_b)


def _code(rel: str, data: bytes, tmp: Path) -> str:
    """Python source of a module file; a notebook's code cells (magics neutralised)."""
    if not rel.endswith(".ipynb"):
        return data.decode("utf-8", errors="replace")
    from .worker.loader import notebook_source

    path = tmp / "nb.ipynb"
    path.write_bytes(data)
    try:
        return notebook_source(path)
    except ImportError:
        return ""


def _template_dir(name: str, tmp: Path) -> Optional[Path]:
    """The assignment's template module files (the boilerplate), from the generator."""
    try:
        from .template import ROOT, template_files
    except ImportError:  # the student edition: no generator
        return None
    ref = ROOT / "reference" / name
    if not ref.is_dir():
        return None
    out = tmp / "template"
    out.mkdir()
    for rel, text in template_files(name, ref).items():
        if rel.endswith(".py") and "/" not in rel:
            (out / rel).write_text(text)
    return out


def stage(submissions: Path, name: str, dest: Path) -> tuple[list[str], list[str]]:
    """Write dest/<student>/<module>.py for every readable submission; (students, notes)."""
    asg = assignments.load(name)
    modules = {m for t in asg.tasks for m in t.modules}
    students, notes = [], []
    for entry in discover(Path(submissions), asg):
        try:
            files, _ = read_entry(entry, asg)
        except (ArchiveRejected, OSError) as exc:
            notes.append(f"{entry.student}: not compared ({exc})")
            continue
        folder = dest / entry.student
        folder.mkdir(parents=True)
        for m in sorted(modules):
            for ext in (".py", ".ipynb"):
                if f"{m}{ext}" in files:
                    (folder / f"{m}.py").write_text(_code(f"{m}{ext}", files[f"{m}{ext}"], dest))
                    break
        students.append(entry.student)
    return students, notes


def screen(submissions: Path, name: str, out: Path, threshold: float = DEFAULT_THRESHOLD) -> list[Pair]:
    """Compare the class pairwise; write similarity.csv and similarity.html in `out`."""
    from copydetect import CopyDetector

    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="grader-similarity-") as tmp:
        tmp = Path(tmp)
        staged = tmp / "class"
        staged.mkdir()
        students, notes = stage(submissions, name, staged)
        template = _template_dir(name, tmp)
        detector = CopyDetector(test_dirs=[str(staged)], boilerplate_dirs=[str(template)] if template else [],
                                extensions=["py"], noise_t=NOISE_T, guarantee_t=GUARANTEE_T,
                                display_t=threshold, same_name_only=True, autoopen=False, silent=True,
                                out_file=str(out / "similarity.html"))
        detector.run()
        pairs: dict[tuple[str, str, str], Pair] = {}
        for sim_a, sim_b, file_a, file_b, *_rest, overlap in detector.get_copied_code_list():
            a, b = Path(file_a), Path(file_b)
            sa, sb = a.parent.name, b.parent.name
            if sa == sb:
                continue
            (sa, sim_a), (sb, sim_b) = sorted([(sa, float(sim_a)), (sb, float(sim_b))])
            pair = Pair(sa, sb, a.stem, round(sim_a, 4), round(sim_b, 4), int(overlap))
            key = (sa, sb, a.stem)
            if max(pair.similarity_a, pair.similarity_b) >= threshold and (
                    key not in pairs or pair.similarity > pairs[key].similarity):
                pairs[key] = pair
        detector.generate_html_report()
    found = sorted(pairs.values(), key=lambda p: (-p.similarity, p.student_a, p.student_b, p.module))
    with open(out / "similarity.csv", "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["student_a", "student_b", "module", "similarity_a", "similarity_b", "overlap_tokens"])
        for p in found:
            w.writerow([p.student_a, p.student_b, p.module, p.similarity_a, p.similarity_b, p.overlap])
    (out / "similarity-notes.txt").write_text(
        f"{len(students)} submissions compared, threshold {threshold:g}\n" + "".join(n + "\n" for n in notes))
    return found

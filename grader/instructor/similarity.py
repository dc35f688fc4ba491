"""A similarity screen across a class: which students' code is too alike, the template discounted.

The parts, for `grade batch` (grader/instructor/batch/screen.py, which reads the class once and
also serves `grade similarity`):

* `module_code(student, files, modules)`: a student's module files as the code compared (a notebook
  by its code cells), bounded;
* `stage(codes, dest)`: write that code as dest/<student>/<module>.py for copydetect;
* `detect(staged, ...)`: compare them pairwise per module with copydetect's winnowing fingerprints,
  the assignment's template as boilerplate (code the template gives everyone never counts): the
  flagged pairs with their shared spans and code;
* `highlighted`, `write_csv`: the side-by-side view and similarity.csv.

A flag is a reason to look, not a verdict: short modules and closed-form answers are alike by nature.
Nothing here reads SUBMISSIONS or imports the batch: the batch hands in what it read.
"""
from __future__ import annotations

import csv
import html
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Optional, Sequence

from .spreadsheet import safe_cell

FOLDER = "similarity"  # under a batch's OUT: similarity.csv and one page per listed pair
MAX_LISTED = 100  # pairs in report.html's table, each with its side-by-side page; all are in the CSV
DEFAULT_THRESHOLD = 0.5  # share of a file's fingerprints found in the other (docs/similarity.md)
NOISE_T = 25  # tokens: matches shorter than this are noise (copydetect's default)
GUARANTEE_T = 30  # tokens: matches at least this long are always found
MAX_CODE_CHARS = 200_000  # a module's code beyond this is not compared: no real answer is that long


@dataclass(frozen=True)
class Pair:
    student_a: str
    student_b: str
    module: str
    similarity_a: float  # share of a's fingerprints found in b
    similarity_b: float
    overlap: int  # tokens in common
    # the copied character ranges of each side's code (for the side-by-side view)
    spans_a: tuple[tuple[int, int], ...] = field(default=(), repr=False, compare=False)
    spans_b: tuple[tuple[int, int], ...] = field(default=(), repr=False, compare=False)

    @property
    def similarity(self) -> float:
        return max(self.similarity_a, self.similarity_b)


def _code(rel: str, data: bytes) -> str:
    """Python source of a module file; a notebook's code cells (magics neutralised)."""
    if not rel.endswith(".ipynb"):
        return data.decode("utf-8", errors="replace")
    from ..worker.loader import notebook_source

    with tempfile.TemporaryDirectory(prefix="grader-similarity-nb-") as tmp:
        path = Path(tmp) / "nb.ipynb"
        path.write_bytes(data)
        try:
            return notebook_source(path)
        except ImportError:
            return ""


def _template_dir(name: str, tmp: Path) -> Optional[Path]:
    """The assignment's template module files (the boilerplate), from the generator."""
    try:
        from .publish.template import ROOT, template_files
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


def module_code(student: str, files: dict[str, bytes], modules: Iterable[str]) -> tuple[dict[str, str], list[str]]:
    """{module: the code compared} of one student's files, and notes on what was left out.

    A module whose code exceeds MAX_CODE_CHARS, or that cannot be decoded, is left out with a note.
    """
    code: dict[str, str] = {}
    notes: list[str] = []
    for m in sorted(set(modules)):
        for ext in (".py", ".ipynb"):
            if f"{m}{ext}" in files:
                try:  # a notebook is parsed here (never run): any failure costs only this file
                    text = _code(f"{m}{ext}", files[f"{m}{ext}"])
                except Exception as exc:  # noqa: BLE001 - untrusted input; the class goes on
                    notes.append(f"{student}: {m}{ext} not compared ({type(exc).__name__})")
                    break
                if len(text) > MAX_CODE_CHARS:
                    notes.append(f"{student}: {m}{ext} not compared (over {MAX_CODE_CHARS} characters)")
                else:
                    code[m] = text
                break
    return code, notes


def stage(codes: dict[str, dict[str, str]], dest: Path) -> list[str]:
    """Write dest/<student>/<module>.py for every student's compared code; the students staged."""
    for student, modules in codes.items():
        folder = dest / student
        folder.mkdir(parents=True)
        for m, text in modules.items():
            (folder / f"{m}.py").write_text(text, encoding="utf-8")
    return list(codes)


@dataclass
class Detection:
    """What one comparison of a staged class found."""

    pairs: list[Pair]  # flagged, most similar first
    file_pairs: int  # same-module file pairs compared
    code: dict[tuple[str, str], str]  # (student, module) -> the compared code, for the flagged ones
    detector: Any  # copydetect's CopyDetector (its HTML report)


def detect(staged: Path, name: str, tmp: Path, threshold: float = DEFAULT_THRESHOLD,
           html_out: Optional[Path] = None) -> Detection:
    """Compare every staged student's modules pairwise (same module only), the template discounted."""
    from copydetect import CopyDetector

    template = _template_dir(name, tmp)
    detector = CopyDetector(test_dirs=[str(staged)], boilerplate_dirs=[str(template)] if template else [],
                            extensions=["py"], noise_t=NOISE_T, guarantee_t=GUARANTEE_T,
                            display_t=threshold, same_name_only=True, autoopen=False, silent=True,
                            out_file=str(html_out or tmp / "similarity.html"))
    if not detector.test_files:  # nothing to compare (copydetect would only log an error)
        return Detection([], 0, {}, detector)
    detector.run()
    # both orders of every compared pair are filled in (-1: not compared)
    file_pairs = int((detector.similarity_matrix[:, :, 0] >= 0).sum()) // 2
    pairs: dict[tuple[str, str, str], Pair] = {}
    for sim_a, sim_b, file_a, file_b, *_rest, overlap in detector.get_copied_code_list():
        a, b = Path(file_a), Path(file_b)
        if a.parent.name == b.parent.name:
            continue
        slices = detector.slice_matrix.get((file_a, file_b))
        sl_a, sl_b = (slices if slices is not None else detector.slice_matrix[(file_b, file_a)][::-1])
        (sa, sim_a, sl_a), (sb, sim_b, sl_b) = sorted([(a.parent.name, float(sim_a), _spans(sl_a)),
                                                      (b.parent.name, float(sim_b), _spans(sl_b))])
        pair = Pair(sa, sb, a.stem, round(sim_a, 4), round(sim_b, 4), int(overlap), sl_a, sl_b)
        key = (sa, sb, a.stem)
        if pair.similarity >= threshold and (key not in pairs or pair.similarity > pairs[key].similarity):
            pairs[key] = pair
    found = sorted(pairs.values(), key=lambda p: (-p.similarity, p.student_a, p.student_b, p.module))
    # the very text copydetect read (its spans index it), by the files' paths in the staged class
    raw = {(Path(f).parent.name, Path(f).stem): d.raw_code for f, d in detector.file_data.items()}
    code = {(s, p.module): raw[(s, p.module)] for p in found for s in (p.student_a, p.student_b)}
    return Detection(found, file_pairs, code, detector)


def _spans(slices) -> tuple[tuple[int, int], ...]:
    """copydetect's 2xN array of copied character ranges as ((start, end), ...)."""
    return tuple((int(s), int(e)) for s, e in zip(slices[0], slices[1]))


def highlighted(code: str, spans: Sequence[tuple[int, int]], css_class: str) -> str:
    """The code as escaped HTML, the copied spans in <span class=css_class> (copydetect's highlighter)."""
    import numpy as np
    from copydetect.utils import highlight_overlap

    if not spans:
        return html.escape(code)
    slices = np.array(sorted(spans), dtype=int).T
    return highlight_overlap(code, slices, f"<span class='{css_class}'>", "</span>", escape_html=True)[0]


def write_csv(path: Path, pairs: Sequence[Pair]) -> Path:
    """similarity.csv: one row per flagged pair and module, most similar first (ids formula-safe)."""
    with open(path, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["student_a", "student_b", "module", "similarity_a", "similarity_b", "overlap_tokens"])
        for p in pairs:
            w.writerow([safe_cell(p.student_a), safe_cell(p.student_b), p.module, p.similarity_a, p.similarity_b, p.overlap])
    return path

"""Everything only an instructor has: never in the student edition (`grade dist student`).

    isolated/    grade one submission in a process of its own, within a budget (`grade_isolated`:
                 used by batch, selftest and the Gradescope runner)
    batch/       grade a whole class (`grade batch`, `grade report`; docs/batch.md)
    selftest/    prove an assignment's checks (`grade selftest`; docs/selftest.md)
    similarity   compare a class's code for copies (the batch reads the class; docs/similarity.md)
    spreadsheet  CSV cells a spreadsheet never runs as formulas (grades.csv, similarity.csv)
    curves       record the reference's training curves (`python -m grader.instructor.curves`)
    publish/     what goes out: student templates (`grade template`), the student edition's wheel
                 (`grade dist student`), the Gradescope autograder (`grade gradescope`)

The student edition is `grader/` without this package; `assignments/` are filtered by
`publish.wheel.STUDENT_FILES` (an allow-list: a new instructor-only file is never shipped by accident).
"""
from pathlib import Path

# This source tree: the folder holding grader/, assignments/, reference/ and pyproject.toml.
SOURCE_ROOT = Path(__file__).resolve().parents[2]

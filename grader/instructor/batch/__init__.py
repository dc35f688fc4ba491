"""Instructor batch grading: `grade batch` and `grade report` (docs/batch.md).

One module per job:
  layouts.py    recognise the submissions in a folder (per-student folders, GitHub Classroom, zips,
                Canvas, Moodle, Gradescope exports) and read each one's files, bounded
  archives.py   read untrusted .zip files safely (no traversal, links, devices, bombs, nesting)
  gradebook.py  the SQLite gradebook: submissions and check results, one transaction per submission
  pool.py       grade one submission in its own process with a wall-clock budget; the local pool and
                the Dask backend
  child.py      that process: `grader.engine.runner.grade(...)` on one submission, its result as JSON
  run.py        the batch itself: discover, skip what is up to date, dispatch, record, report
  feedback.py   per-student feedback in every `grade check` format, with the hidden-check policy
  grades_csv.py grades.csv for an LMS
  html.py       report.html, self-contained, matplotlib plots
  progress.py   the rich progress bar, or plain log lines
"""

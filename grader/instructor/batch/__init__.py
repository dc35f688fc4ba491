"""Instructor batch grading: `grade batch` and `grade report` (docs/batch.md).

The batch is a pipeline, run.py: plan (one intake) → grade → record → report. One module per job:
  layouts.py    recognise the submissions in a folder (per-student folders, GitHub Classroom, zips,
                Canvas, Moodle, Gradescope exports) and read each one's files, bounded
  archives.py   read untrusted .zip files safely (no traversal, links, devices, bombs, nesting)
  intake.py     each submission read once: files, content hash, notes, the code the screen compares
  gradebook.py  the SQLite gradebook (all the batch's SQL): reports in and out as Report.to_dict /
                Report.from_dict, one transaction per submission
  pool.py       where submissions are graded: the local pool, or one Dask task each
                (each one by grader.instructor.isolated.grade_isolated)
  run.py        the batch itself: plan (skip what is up to date), grade, record, report
  screen.py     the similarity screen of a batch (and `grade similarity`)
  feedback.py   per-student feedback in every `grade check` format, with the hidden-check policy
  grades_csv.py grades.csv for an LMS
  html.py       report.html, self-contained, matplotlib plots
  progress.py   the rich progress bar, or plain log lines
  late.py       the late policy: LatePolicy, the parsers, `assess` (pure: lateness, penalty, final score, words)
  times.py      when each submission was handed in (Gradescope, Moodle's worksheet, a times CSV, commits)
  commit_time.py a GitHub Classroom clone's HEAD commit time, read by dulwich in a bounded child
  lateness.py   the late options of a command applied to a gradebook (`settle`)
"""

"""Grade one submission in a process of its own, with a wall-clock budget: `grade_isolated`.

The one way out of process, behind every door that grades for an instructor: `grade batch` (the
local pool and Dask tasks), `grade selftest` and the Gradescope runner.

  grade.py    GradeRequest (files or a folder, the assignment, checks, options, budget) and
              grade_isolated(request) -> Report: a timeout, crash or grader error is a Report with a
              submission-level status and message, never an exception
  process.py  the grading process: forked from a preloaded forkserver (or a fresh interpreter), its
              own process group, killed whole at the budget or when the caller stops
  child.py    what runs in that process: `grader.engine.runner.grade`, the Report as JSON
  preload.py  what the forkserver imports once (the engine, torch, every assignment's checks)
"""

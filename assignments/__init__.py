"""Assignment definitions: one package per assignment (statement, tasks, probes, checks).

An author's assignments may live elsewhere: each folder on `GRADER_ASSIGNMENTS_PATH` (separated like
PATH) holds more assignment packages, found by `grade check`, `grade selftest`, `grade template` and
the rest (docs/assignments.md). They come after this folder: a shipped assignment is never replaced.
"""
import os

ENV_PATH = "GRADER_ASSIGNMENTS_PATH"

__path__ += [os.path.realpath(p) for p in os.environ.get(ENV_PATH, "").split(os.pathsep)
             if p and os.path.isdir(p) and os.path.realpath(p) not in __path__]

"""Imported once by the grading forkserver (grader/instructor/isolated/process.py), before it forks grading processes.

What every grading process would otherwise import again: the engine, torch (for the oracles:
~1.7 s), and every assignment's public and hidden checks. Importing only — no torch operation runs
here, so no thread pool exists yet when the forkserver forks.
"""
from grader.engine import assignment as _assignments
from grader.engine import oracles as _oracles  # noqa: F401
from grader.engine import runner as _runner  # noqa: F401

try:
    import torch as _torch  # noqa: F401
except ImportError:  # pragma: no cover - torch is a core dependency
    pass

for _name in _assignments.available():
    try:
        _assignments.load(_name).checks(hidden=True)
    except Exception:  # a broken assignment fails in the grading process, with its traceback
        pass

"""An emulated non-POSIX Python, on Linux: how tests (and bench/) run the grader as Windows would.

`python_cmd(code)` is a command running `code` in this venv's interpreter after a prelude that makes
the POSIX-only modules unimportable (`pwd`, `resource`, `fcntl`, `grp`, `termios`: a meta path
finder raising ModuleNotFoundError, as on Windows, except for psutil's own Linux backend, which
Windows' psutil does not have) and removes `os.fork`, `os.forkpty`, `os.killpg`,
`os.getpgid`, `os.setsid` and `os.geteuid` (absent on Windows). `env()` hides bubblewrap (an empty PATH).
The grader finds all this by feature detection: nothing tells it the platform.

What it cannot emulate: Windows itself (handles instead of descriptor numbers, no `select` on pipes,
SYSTEMROOT). The grader takes the portable code paths for those in the `process` mode everywhere
(threaded channel I/O, psutil tree kill and memory watch); only handle passing is Windows-only code.
The worker is a fresh interpreter started by the grader (`python -I`, its own environment): the
prelude does not reach it, as the worker imports none of these modules.
"""
from __future__ import annotations

import atexit
import functools
import os
import sys
import tempfile

PRELUDE = r'''
import importlib.abc, os, sys
_GONE = {"pwd", "resource", "fcntl", "grp", "termios"}
class _NonPosix(importlib.abc.MetaPathFinder):
    """Emulated non-POSIX system: these modules do not exist here."""
    def find_spec(self, name, path=None, target=None):
        if name.partition(".")[0] in _GONE and not _from_psutil():
            raise ModuleNotFoundError(f"No module named {name!r} (emulated non-POSIX system)", name=name)
        return None
def _from_psutil():
    # psutil's Linux backend imports resource itself; on Windows psutil has a backend of its own
    f = sys._getframe(2)
    while f is not None and f.f_globals.get("__name__", "").startswith(("importlib", "_frozen_importlib")):
        f = f.f_back
    return f is not None and f.f_globals.get("__name__", "").startswith("psutil")
sys.meta_path.insert(0, _NonPosix())
for _m in _GONE:
    sys.modules.pop(_m, None)
try:  # now, while only psutil may import them: then they leave sys.modules for everyone else
    import psutil
except ImportError:
    pass
for _m in _GONE:
    sys.modules.pop(_m, None)
for _f in ("fork", "forkpty", "killpg", "getpgid", "setsid", "geteuid"):
    if hasattr(os, _f):
        delattr(os, _f)
del _m, _f
'''


def python_cmd(code: str) -> list[str]:
    """The command running `code` in an emulated non-POSIX interpreter (this venv's Python)."""
    return [sys.executable, "-c", PRELUDE + "\n" + code]


def cli_cmd(*args: str) -> list[str]:
    """`grade ARGS...` in an emulated non-POSIX interpreter."""
    return python_cmd(f"import sys\nsys.argv = ['grade', *{list(args)!r}]\n"
                      "from grader.cli import main\nmain()")


def env(**extra: str) -> dict[str, str]:
    """The environment for it: no bubblewrap on PATH (a folder holding nothing), no isolation forced."""
    base = {k: v for k, v in os.environ.items() if k not in ("GRADER_ISOLATION", "PYTEST_XDIST_WORKER")}
    base["PATH"] = _empty_folder()
    base.update(extra)
    return base


@functools.lru_cache(maxsize=None)
def _empty_folder() -> str:
    folder = tempfile.mkdtemp(prefix="nonposix-path-")
    atexit.register(os.rmdir, folder)
    return folder

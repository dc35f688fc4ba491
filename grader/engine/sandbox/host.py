"""What this operating system offers a sandbox, found by feature detection (never by platform name
alone): POSIX resource limits, file descriptors passed by number, process groups, a root user.

Windows has none of the POSIX modules (`pwd`, `resource`, `fcntl`) nor `os.fork`/`os.killpg`;
the grader must still start there (students run `grade check` on their laptops), so the rest of the
sandbox package imports them only through this module.
"""
from __future__ import annotations

import os
import sys
from types import ModuleType
from typing import Optional


def _optional(name: str) -> Optional[ModuleType]:
    try:
        return __import__(name)
    except ImportError:
        return None


resource = _optional("resource")  # POSIX only: RLIMIT_AS, RLIMIT_CPU, ...
pwd = _optional("pwd")  # POSIX only: the sandbox user's uid
fcntl = _optional("fcntl")  # POSIX only: the per-slot uid locks (slots.py)

HAVE_RLIMITS = resource is not None
# subprocess's pass_fds, start_new_session and user= exist where os.name is "posix"
POSIX_SPAWN = os.name == "posix"
HAVE_KILLPG = hasattr(os, "killpg")
# macOS accepts RLIMIT_AS but does not enforce it: memory must be watched from outside there
RLIMIT_AS_ENFORCED = HAVE_RLIMITS and sys.platform.startswith(("linux", "freebsd"))


def is_root() -> bool:
    """True when the grader runs as root (never on Windows, which has no effective uid)."""
    return hasattr(os, "geteuid") and os.geteuid() == 0


def psutil_module() -> Optional[ModuleType]:
    """psutil (a dependency; imported lazily: Linux with bwrap or rlimits never needs it)."""
    return _optional("psutil")

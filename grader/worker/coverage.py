"""Which functions of the submission's own files ran: `file:qualname` names, for `grade selftest`.

Only the self-test asks for it (GradeOptions.coverage): it grades the reference once with coverage
on, then grades each automatic mutant only on the checks that ran the mutated function.

One interface, two hooks: `sys.monitoring` (3.12+: a PY_START event per code object, disabled
after its first report, so a hot loop costs nothing) or, on 3.11, a profile hook (`sys.setprofile`,
and `threading.setprofile` for threads started meanwhile). The profile hook chains to the one
already installed (the audit's, worker/audit.py), and a probe's own `sys.settrace` (the
vectorised check's line counter) does not disturb it.

Names are normalised to what mutate.py calls a mutant's function: `f.<locals>.g` is `f.g`, and a
lambda or comprehension counts as the function that holds it (`f.<locals>.<lambda>` is `f`).
"""
from __future__ import annotations

import os
import sys
import threading
from typing import Any, Callable, Optional

_ANONYMOUS = ("<lambda>", "<listcomp>", "<dictcomp>", "<setcomp>", "<genexpr>")


def function_name(qualname: str) -> str:
    """A code object's qualified name as mutate.py names the function (see the module docstring)."""
    parts = [p for p in qualname.split(".") if p != "<locals>"]
    while len(parts) > 1 and parts[-1] in _ANONYMOUS:
        parts.pop()
    return ".".join(parts) or qualname


class Coverage:
    """Record `file:function` for every frame of a file below `folder` (or a notebook cell)."""

    def __init__(self, folder: str):
        self.folder = folder.rstrip("/" + os.sep) + os.sep
        self._names: dict[Any, Optional[str]] = {}  # code object -> its name, or None: not the submission's
        self._ran: set[str] = set()
        self._lock = threading.Lock()
        self._previous: Optional[Callable] = None
        self._monitoring = _monitoring()
        self.on = False

    def _name(self, code) -> Optional[str]:
        name = self._names.get(code, "")
        if name == "":
            file = code.co_filename
            rel: Optional[str] = None
            if ".ipynb[cell" in file:
                rel = os.path.basename(file).split("[cell")[0]
            elif file.startswith(self.folder):
                rel = file[len(self.folder):].replace(os.sep, "/")
            qual = getattr(code, "co_qualname", code.co_name)
            name = f"{rel}:{function_name(qual)}" if rel is not None else None
            self._names[code] = name
        return name

    def _record(self, code) -> None:
        name = self._name(code)
        if name is not None and name not in self._ran:
            with self._lock:
                self._ran.add(name)

    # --- 3.11: a profile hook, chained to the one already installed ----------------------------
    def _profile(self, frame, event: str, arg: Any) -> None:
        if event == "call":
            try:
                self._record(frame.f_code)
            except Exception:  # a hook must never break the code it watches
                pass
        previous = self._previous
        if previous is not None:
            previous(frame, event, arg)

    # --- 3.12+: sys.monitoring ------------------------------------------------------------------
    def _py_start(self, code, offset: int) -> Any:
        try:
            self._record(code)
        except Exception:
            pass
        return self._monitoring.DISABLE  # once per code object and recording: restarted by start()

    def start(self) -> None:
        """Record from now on, in this thread and in threads started from now."""
        if self.on:
            return
        self.on = True
        mon = self._monitoring
        if mon is not None:
            mon.use_tool_id(mon.COVERAGE_ID, "dl-grader")
            mon.register_callback(mon.COVERAGE_ID, mon.events.PY_START, self._py_start)
            mon.restart_events()
            mon.set_events(mon.COVERAGE_ID, mon.events.PY_START)
            return
        self._previous = sys.getprofile()
        sys.setprofile(self._profile)
        threading.setprofile(self._profile)

    def stop(self) -> None:
        """Stop recording (again: nothing); the hook that was there before is back."""
        if self.on:
            self.on = False
            mon = self._monitoring
            if mon is not None:
                mon.set_events(mon.COVERAGE_ID, 0)
                mon.register_callback(mon.COVERAGE_ID, mon.events.PY_START, None)
                mon.free_tool_id(mon.COVERAGE_ID)
            else:
                sys.setprofile(self._previous)
                threading.setprofile(self._previous)
                self._previous = None

    def take(self) -> list[str]:
        """What ran since the last `take`, sorted."""
        with self._lock:
            ran, self._ran = sorted(self._ran), set()
        return ran


def _monitoring() -> Any:
    """sys.monitoring where it exists (3.12+) and its coverage tool id is free, else None."""
    mon = getattr(sys, "monitoring", None)
    if mon is None:
        return None
    try:
        return None if mon.get_tool(mon.COVERAGE_ID) is not None else mon
    except Exception:
        return None

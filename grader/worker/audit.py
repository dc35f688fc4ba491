"""What the student's code imports and calls, attributed to lines of the student's own files.

For checks that a task is done by hand (no torch autograd in a `backward`, plain Python in the
scalar network): the worker records

* every import made from a student frame: an audit hook (`sys.addaudithook`, which cannot be
  removed) sees first-time imports however they are spelled (`exec`, `importlib`, `__import__` of
  a computed name, a notebook cell), and wrappers of `builtins.__import__` and
  `importlib.import_module` see imports of modules already loaded (numpy is, by the worker itself);
* while an audited probe runs, every call from a student frame into a watched package (numpy,
  torch, jax, ...): a profile hook (`sys.setprofile`, and `threading.setprofile` for new threads).

A frame is the student's when its file lies in the submission folder or is a notebook cell; frames
of code with no real file (`exec` of a string) are attributed to the frame that ran them.
This is an in-process record: code written to tamper with the worker itself could erase it, so
checks built on it also require correct values (docs/security.md).
"""
from __future__ import annotations

import builtins
import importlib
import os
import sys
import threading
from typing import Any, Optional

# Packages whose use the record keeps (imports are kept whatever the module).
WATCHED = frozenset({"numpy", "torch", "jax", "jaxlib", "tensorflow", "keras", "scipy", "autograd",
                     "sklearn", "cupy", "mxnet", "paddle", "numba", "functorch"})
MAX_EVENTS = 500  # distinct (module, file, line, how) per probe: the record is bounded
_HERE = os.path.dirname(os.path.abspath(__file__))
_IMPORTLIB = os.path.dirname(os.path.abspath(importlib.__file__))


class Recorder:
    def __init__(self, folder: str):
        self.folder = folder.rstrip("/" + os.sep) + os.sep
        self._seen: dict[tuple, None] = {}
        self._profiling = False
        self._lock = threading.Lock()

    # --- attribution ----------------------------------------------------------------------
    def _student_file(self, filename: str) -> Optional[str]:
        if ".ipynb[cell" in filename:
            return os.path.basename(filename)
        if filename.startswith(self.folder):
            return filename[len(self.folder):]
        return None

    def _place(self, frame) -> Optional[tuple[str, int]]:
        """(file, line) of the student frame that caused an event at `frame`, else None.

        Frames without a real file (`<string>`, `<frozen importlib._bootstrap>`), of the import
        machinery and of the worker are skipped; the first other frame decides.
        """
        depth = 0
        while frame is not None and depth < 200:
            name = frame.f_code.co_filename
            own = self._student_file(name)
            if own is not None:
                return own, frame.f_lineno
            skip = (not os.path.isabs(name) or name.startswith(_HERE) or
                    os.path.dirname(name) == _IMPORTLIB)
            if not skip:
                return None
            frame, depth = frame.f_back, depth + 1
        return None

    def _add(self, module: str, how: str, frame) -> None:
        place = self._place(frame)
        if place is None:
            return
        key = (str(module), place[0], place[1], how)
        with self._lock:
            if key not in self._seen and len(self._seen) < MAX_EVENTS:
                self._seen[key] = None

    def take(self) -> list[dict]:
        """The events recorded since the last call, as plain data."""
        with self._lock:
            events, self._seen = list(self._seen), {}
        return [{"module": m, "file": f, "line": line, "how": how} for m, f, line, how in events]

    # --- hooks ----------------------------------------------------------------------------
    def install(self) -> None:
        sys.addaudithook(self._audit_hook)
        original_import = builtins.__import__
        original_import_module = importlib.import_module
        recorder = self

        def __import__(name, globals=None, locals=None, fromlist=(), level=0):
            if level == 0 and isinstance(name, str):
                recorder._add(name, "import", sys._getframe(1))
            return original_import(name, globals, locals, fromlist, level)

        def import_module(name, package=None):
            if isinstance(name, str) and not name.startswith("."):
                recorder._add(name, "import", sys._getframe(1))
            return original_import_module(name, package)

        builtins.__import__ = __import__
        importlib.import_module = import_module

    def _audit_hook(self, event: str, args: tuple) -> None:
        if event == "import" and args and isinstance(args[0], str):
            try:
                self._add(args[0], "import", sys._getframe(1))
            except Exception:  # an audit hook must never break the import it watches
                pass

    def _profile(self, frame, event: str, arg: Any) -> None:
        try:
            if event == "call":
                module = frame.f_globals.get("__name__", "")
                if isinstance(module, str) and module.partition(".")[0] in WATCHED:
                    self._add(module, "call", frame.f_back)
            elif event == "c_call":
                module = getattr(arg, "__module__", None) or type(getattr(arg, "__self__", None)).__module__
                if isinstance(module, str) and module.partition(".")[0] in WATCHED:
                    self._add(module, "call", frame)
        except Exception:
            pass

    def watch(self, on: bool) -> None:
        """Record calls into watched packages (on) or stop (off), in this and in new threads."""
        hook = self._profile if on else None
        sys.setprofile(hook)
        threading.setprofile(hook)

"""The worker: imports the student's modules and runs probes on request, returning plain data.

Started by `grader.engine.sandbox` (under bubblewrap where available) with its stdout/stderr pointing at a
capture file: whatever student code prints lands there and is only ever shown, never parsed.
Requests and results travel on two private pipes (see protocol.py).
"""
from __future__ import annotations

import importlib
import importlib.util
import json
import os
import random
import sys
import traceback
from pathlib import Path
from typing import Any

from . import audit, coverage, loader, protocol


class MissingName(Exception):
    """The student's module lacks a function or class the assignment asks for."""


class Submission:
    """What a probe sees of the submission: its modules, loaded on first use."""

    def __init__(self, folder: Path, finder: loader.NotebookFinder):
        self.folder = folder
        self.finder = finder

    def module(self, name: str):
        if name in sys.modules:
            return sys.modules[name]
        self.finder.stand_ins.add(name)  # a module a probe asks for: the assignment's
        if (not (self.folder / f"{name}.py").exists() and not (self.folder / name / "__init__.py").exists()
                and self.finder.notebook_for(name) is None):
            why = self.finder.single()[1]
            raise MissingName(f"{name}.py (or {name}.ipynb, or one notebook holding it) is not in the "
                              "submission" + (f": {why}" if why else ""))
        return importlib.import_module(name)

    def fn(self, module: str, name: str):
        """The student's `module.name` (a function or a class)."""
        mod = self.module(module)
        try:
            return getattr(mod, name)
        except AttributeError:
            raise MissingName(f"{module} has no `{name}`") from None

    def source_path(self, module: str) -> Path:
        if (self.folder / f"{module}.py").exists():
            return self.folder / f"{module}.py"
        nb = self.finder.notebook_for(module)
        if nb is not None:
            return nb
        raise MissingName(f"{module}.py is not in the submission")


def _seed(seed: int) -> None:
    """Same submission, same numbers: seed every RNG the student may use before each probe."""
    random.seed(seed)
    import numpy as np

    np.random.seed(seed % (2**32))
    if "torch" in sys.modules:  # never import torch just to seed it: it costs ~1.7 s
        sys.modules["torch"].manual_seed(seed)


def _student_traceback(exc: BaseException, folder: Path) -> str:
    """The traceback lines that point into the student's files, then the exception itself."""
    frames = traceback.extract_tb(exc.__traceback__)
    own = [f for f in frames if f.filename.startswith(str(folder)) or ".ipynb[cell" in f.filename]
    lines = []
    for f in own[-6:]:
        name = Path(f.filename).name if not f.filename.startswith("<") else f.filename
        name = f.filename if ".ipynb[cell" in f.filename else name
        lines.append(f'  File "{name}", line {f.lineno}, in {f.name}')
        if f.line:
            lines.append(f"    {f.line.strip()}")
    try:
        summary = "".join(traceback.format_exception_only(type(exc), exc)).strip()
    except Exception:  # an exception whose __str__ raises: still say what it was
        summary = type(exc).__name__
    lines.append(summary[:2000])
    return "\n".join(lines)


def _where(exc: BaseException, folder: Path) -> str:
    """`softmax.py: softmax()`: the innermost frame of the student's own code, for the message."""
    found, tb = "", exc.__traceback__
    while tb is not None:
        code = tb.tb_frame.f_code
        if code.co_filename.startswith(str(folder)) or ".ipynb[cell" in code.co_filename:
            name = code.co_filename if ".ipynb[cell" in code.co_filename else Path(code.co_filename).name
            qual = getattr(code, "co_qualname", code.co_name)  # `Sigmoid.forward`, not `forward`
            found = f"{name}: {qual}()" if code.co_name != "<module>" else name
        tb = tb.tb_next
    return found


def _failure(exc: BaseException, folder: Path) -> dict:
    reply = _failure_kind(exc, folder)
    if not isinstance(exc, MissingName):
        try:
            reply["where"] = _where(exc, folder)
        except Exception:
            pass
    return reply


def _failure_kind(exc: BaseException, folder: Path) -> dict:
    if isinstance(exc, MissingName):
        return {"ok": False, "kind": "missing", "message": str(exc)}
    if isinstance(exc, MemoryError):
        return {"ok": False, "kind": "memory", "message": "ran out of memory (MemoryError)",
                "traceback": _student_traceback(exc, folder)}
    if isinstance(exc, NotImplementedError):
        # the student's own words say what is missing (the template's text is "name: not implemented yet")
        return {"ok": False, "kind": "not_implemented", "message": str(exc),
                "traceback": _student_traceback(exc, folder)}
    if isinstance(exc, protocol.NotPlainData):
        return {"ok": False, "kind": "bad_return", "message": str(exc)}
    if isinstance(exc, SystemExit):
        return {"ok": False, "kind": "exception", "message": f"called sys.exit({exc.code!r})",
                "traceback": _student_traceback(exc, folder)}
    return {"ok": False, "kind": "exception", "message": f"raised {type(exc).__name__}",
            "traceback": _student_traceback(exc, folder)}


def _flush() -> None:
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except Exception:
            pass


def _origin(module: Any, folder: Path) -> Any:
    """The file the module was imported from, relative to the submission; None if not from it."""
    path = getattr(module, "__file__", None)
    if not isinstance(path, str):
        return None
    prefix = str(folder).rstrip("/" + os.sep) + os.sep
    path = os.path.abspath(path)
    # relative and '/'-separated on every OS: the grader looks it up in its snapshot's file list
    return path[len(prefix):].replace(os.sep, "/") if path.startswith(prefix) else None


def serve(config: dict[str, Any]) -> None:
    req_fd, res_fd = config["req_fd"], config["res_fd"]
    if config.get("handles"):  # Windows: inherited handles, not descriptor numbers
        import msvcrt

        req_fd, res_fd = msvcrt.open_osfhandle(req_fd, os.O_RDONLY), msvcrt.open_osfhandle(res_fd, 0)
    folder = Path(config["submission"])
    os.chdir(folder)
    sys.path.insert(0, str(folder))
    finder = loader.install(folder, config.get("notebook_mode", "definitions"))
    recorder = audit.Recorder(str(folder))
    recorder.install()
    ran = coverage.Coverage(str(folder))  # only when a request asks for it (`grade selftest`)
    sub = Submission(folder, finder)
    spec = importlib.util.spec_from_file_location("_grader_probes", config["probes"])
    probes = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(probes)
    protocol.write_frame(res_fd, {"ok": True, "ready": True, "pid": os.getpid()})
    while True:
        try:
            req = protocol.read_frame(req_fd)
        except EOFError:
            return
        op, rid = req.get("op"), req.get("id")
        audited = op == "probe" and bool(req.get("audit"))
        covered = op in ("import", "probe") and bool(req.get("coverage"))
        reply: dict[str, Any]
        recorder.take()  # what earlier requests recorded is not this one's
        try:
            if op == "shutdown":
                return
            elif op == "import":
                _seed(req.get("seed", 0))
                # every module of the assignment: a notebook's `from layers import Linear` finds the
                # one notebook too when it holds all the tasks
                finder.stand_ins.update(m for m in req.get("modules", []) if isinstance(m, str))
                if covered:
                    ran.start()
                mod = sub.module(req["module"])
                reply = {"ok": True, "warnings": finder.warnings.get(req["module"], []),
                         "origin": _origin(mod, folder), "imports": recorder.take()}
            elif op == "probe":
                _seed(req.get("seed", 0))
                fn = getattr(probes, req["probe"])
                if audited:
                    recorder.watch(True)
                if covered:  # after the audit's hook: coverage's chains to it
                    ran.start()
                try:
                    value = fn(sub, *req.get("args", []), **req.get("kwargs", {}))
                finally:
                    ran.stop()  # first: it puts back the audit's hook, which the audit then removes
                    if audited:
                        recorder.watch(False)
                reply = {"ok": True, "value": protocol.to_plain(value)}
            else:
                reply = {"ok": False, "kind": "protocol", "message": f"unknown op {op!r}"}
        except BaseException as exc:  # SystemExit and KeyboardInterrupt from student code included
            reply = _failure(exc, folder)
        if covered:
            ran.stop()
            reply["coverage"] = ran.take()
        _flush()
        if audited:
            reply["audit"] = recorder.take()
        reply["id"] = rid
        try:
            protocol.write_frame(res_fd, reply)
        except (ValueError, TypeError) as exc:  # e.g. NaN in a message: report, never die silently
            protocol.write_frame(res_fd, {"id": rid, "ok": False, "kind": "bad_return", "message": str(exc)})


def _drop_privileges(uid: int, gid: int) -> None:
    os.setgroups([])
    os.setgid(gid)
    os.setuid(uid)
    if os.getuid() == 0 or os.geteuid() == 0:  # never run student code as root
        raise SystemExit("could not drop root privileges")


def main(argv: list[str]) -> None:
    config = json.loads(argv[0])
    if config.get("drop_to"):
        _drop_privileges(*config["drop_to"])
    os.umask(0o077)
    serve(config)
    _flush()
    os._exit(0)  # skip interpreter teardown: student atexit hooks and threads must not delay us

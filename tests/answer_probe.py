"""The functional probe of the student wheel, run by tests/test_no_answers.py in a process of its own:

    python -P answer_probe.py STAGE CALLS OUT

STAGE is the unpacked student wheel (alone on PYTHONPATH), CALLS a pickle of recorded calls of
student functions with the reference's answers (tests/answer_scan.py, written by the test itself),
OUT the JSON report. torch cannot be imported here: whatever computes with torch fails, so a shipped
function that gives back the reference's answer computed it in numpy or plain Python.

Every function of every module of the wheel is called like every recorded call with a matching
number of arguments, whatever it does: the process is kept from harming the machine (the test
runs it in bubblewrap where available; here, calls that signal, spawn, delete or exit are replaced
by ones that raise, each call has a time limit and the process an address-space limit).
"""
from __future__ import annotations

import copy
import importlib
import inspect
import json
import os
import pickle
import pkgutil
import resource
import signal
import sys
import time
from pathlib import Path
from typing import Any

sys.modules["torch"] = None  # `import torch` raises ImportError from here on

import numpy as np  # noqa: E402

CALL_SECONDS = 2.0  # per call; one that runs out of it is tried once more with RETRY_SECONDS
RETRY_SECONDS = 20.0
RECORDS_PER_FUNCTION = 3  # the first few recorded calls of each student function that say something
RTOL, ATOL = 1e-4, 1e-6  # the checks' own tolerance: within it, a student would get the points
_setitimer, _exit = signal.setitimer, os._exit


class Call:
    """A recorded call (tests/answer_scan.Call, as plain dicts: this process cannot import the tests)."""

    def __init__(self, key: str, args: tuple, kwargs: dict, result: Any):
        self.key, self.args, self.kwargs, self.result = key, args, kwargs, result


class Blocked(Exception):
    """A call this probe does not let a shipped function make."""


class CallTimeout(BaseException):  # BaseException: `except Exception` in the callee cannot swallow it
    pass


def _refuse(name: str):
    def refused(*args, **kwargs):
        raise Blocked(name)
    return refused


def guard() -> None:
    """Replace what could signal, spawn, delete, exit or change limits by functions that raise."""
    import shutil
    import socket
    import subprocess

    for mod, names in ((os, ("kill", "killpg", "fork", "forkpty", "system", "popen", "execv", "execve", "execvp",
                             "execvpe", "execl", "execle", "execlp", "execlpe", "spawnv", "spawnve", "spawnvp",
                             "spawnvpe", "posix_spawn", "posix_spawnp", "remove", "unlink", "rmdir", "removedirs",
                             "rename", "renames", "replace", "truncate", "ftruncate", "chmod", "chown", "lchown",
                             "setuid", "setgid", "seteuid", "setegid", "setreuid", "setregid", "setresuid",
                             "setresgid", "setsid", "setpgid", "setpgrp", "close", "closerange", "dup2", "_exit",
                             "abort", "chdir", "chroot", "symlink", "link", "mkfifo", "pidfd_open")),
                       (signal, ("signal", "setitimer", "alarm", "pthread_kill", "pthread_sigmask", "raise_signal")),
                       (subprocess, ("Popen", "run", "call", "check_call", "check_output", "getoutput",
                                     "getstatusoutput")),
                       (shutil, ("rmtree", "move", "copytree", "copy", "copy2", "copyfile", "chown")),
                       (socket, ("socket", "create_connection", "create_server")),
                       (resource, ("setrlimit", "prlimit"))):
        for name in names:
            if hasattr(mod, name):
                setattr(mod, name, _refuse(f"{mod.__name__}.{name}"))
    sys.exit = _refuse("sys.exit")


def shipped_modules(stage: Path) -> tuple[list[Any], dict[str, str]]:
    """Every module of the wheel, imported (torch unimportable); {module: error} of those that fail."""
    mods, failed = [], {}
    import grader.worker  # probes import it as `gradeworker`, the name the sandbox gives it

    sys.modules["gradeworker"] = grader.worker
    for m in pkgutil.iter_modules(grader.worker.__path__):
        sys.modules[f"gradeworker.{m.name}"] = importlib.import_module(f"grader.worker.{m.name}")
    for top in ("grader", "assignments"):
        pkg = importlib.import_module(top)
        assert Path(pkg.__file__).resolve().is_relative_to(stage.resolve()), pkg.__file__
        names = [top] + [m.name for m in pkgutil.walk_packages(pkg.__path__, top + ".")]
        for name in names:
            try:
                mods.append(importlib.import_module(name))
            except BaseException as exc:  # noqa: BLE001 - reported, never hidden
                failed[name] = f"{type(exc).__name__}: {exc}"
    return mods, failed


def functions(mods: list[Any]) -> list[tuple[str, Any]]:
    """(qualified name, function) of every function defined at module level or as a static or
    class method of a module-level class."""
    out, seen = [], set()
    for mod in mods:
        for name, obj in sorted(vars(mod).items()):
            if inspect.isfunction(obj) and obj.__module__ == mod.__name__ and id(obj) not in seen:
                seen.add(id(obj))
                out.append((f"{mod.__name__}.{name}", obj))
            elif inspect.isclass(obj) and obj.__module__ == mod.__name__:
                for attr, raw in sorted(vars(obj).items()):
                    if isinstance(raw, (staticmethod, classmethod)):
                        fn = getattr(obj, attr)
                        if id(raw) not in seen:
                            seen.add(id(raw))
                            out.append((f"{mod.__name__}.{name}.{attr}", fn))
    return out


# --------------------------------------------------------------------------- comparing answers
def _numbers(x: Any):
    if x is None or isinstance(x, (bool, str, dict)):
        return None
    try:
        arr = np.asarray(x, dtype=np.float64)
    except (TypeError, ValueError, OverflowError):
        return None
    return arr


def same(got: Any, expected: Any) -> bool:
    """Whether `got` is `expected` within the checks' tolerance (same shapes, keys and lengths)."""
    if isinstance(expected, dict):
        return (isinstance(got, dict) and set(got) == set(expected)
                and all(same(got[k], expected[k]) for k in expected))
    e = _numbers(expected)
    if e is not None:
        g = _numbers(got)
        with np.errstate(all="ignore"):
            return g is not None and g.shape == e.shape and bool(np.allclose(g, e, rtol=RTOL, atol=ATOL))
    if isinstance(expected, (list, tuple)):
        return isinstance(got, (list, tuple)) and len(got) == len(expected) and all(map(same, got, expected))
    return type(got) is type(expected) and got == expected


def informative(value: Any) -> bool:
    """False for answers anything could give: None, booleans, 0, ±1, arrays of one repeated value."""
    if isinstance(value, dict):
        return any(informative(v) for v in value.values())
    arr = _numbers(value)
    if arr is not None:
        if arr.size == 0 or not np.all(np.isfinite(arr)):
            return False
        if arr.size == 1:
            return float(arr.reshape(())) not in (0.0, 1.0, -1.0)
        return bool(np.ptp(arr) > 0)
    if isinstance(value, (list, tuple)):
        return any(informative(v) for v in value)
    return isinstance(value, str) and bool(value)


def answers(call: Any) -> list[tuple[str, Any]]:
    """What a shipped function must not return for this call: the reference's answer, and each
    part of it (an element of a returned tuple, list or dict), unless it says nothing or merely
    repeats an input."""
    inputs = list(call.args) + list(call.kwargs.values())
    result = call.result
    parts = [("the answer", result)]
    if isinstance(result, (list, tuple)) and 2 <= len(result) <= 8:
        parts += [(f"part [{i}] of the answer", v) for i, v in enumerate(result)]
    elif isinstance(result, dict):
        parts += [(f"part [{k!r}] of the answer", v) for k, v in result.items()]
    return [(what, v) for what, v in parts if informative(v) and not any(same(v, a) for a in inputs)]


# --------------------------------------------------------------------------------------- probe
def _on_alarm(signum, frame):
    raise CallTimeout()


_NOTHING = object()


def call_once(fn: Any, positional: list, seconds: float) -> Any:
    """fn(*positional) on copies of the inputs within `seconds`: its result, _NOTHING when it
    fails, CallTimeout when it runs out of time."""
    try:
        _setitimer(signal.ITIMER_REAL, seconds)
        return fn(*copy.deepcopy(positional))
    except CallTimeout:
        raise
    except BaseException:  # noqa: BLE001 - a function that fails gives no answer
        return _NOTHING
    finally:
        _setitimer(signal.ITIMER_REAL, 0)


def probe(calls: list[Any], funcs: list[tuple[str, Any]]) -> dict:
    by_key: dict[str, list] = {}
    for call in calls:
        wanted = answers(call)
        if wanted and len(by_key.setdefault(call.key, [])) < RECORDS_PER_FUNCTION:
            by_key[call.key].append((call, wanted))
    signatures = {}
    for qual, fn in funcs:
        try:
            signatures[qual] = inspect.signature(fn)
        except (TypeError, ValueError):
            pass
    findings: set[str] = set()
    made = 0
    timeouts: set[str] = set()
    for key, recorded in sorted(by_key.items()):
        for call, wanted in recorded:
            positional = list(call.args) + list(call.kwargs.values())  # renamed keywords: by position
            for qual, fn in funcs:
                try:
                    signatures[qual].bind(*positional)
                except (KeyError, TypeError):
                    continue  # no signature, or another arity: not called like the student's function
                made += 1
                try:
                    got = call_once(fn, positional, CALL_SECONDS)
                except CallTimeout:
                    try:  # a loaded machine: once more, with time to spare
                        got = call_once(fn, positional, RETRY_SECONDS)
                    except CallTimeout:
                        timeouts.add(f"{qual} called like {key}")  # never answered: reported
                        continue
                for what, value in wanted:
                    try:
                        hit = got is not _NOTHING and same(got, value)
                    except BaseException:  # noqa: BLE001 - an odd object is no answer
                        hit = False
                    if hit:
                        findings.add(f"{qual} returns {what} of {key}")
                        break
    return {"findings": sorted(findings), "student_functions": sorted(by_key), "calls": made,
            "timeouts": sorted(timeouts)}


def main(stage: str, calls_path: str, out_path: str) -> None:
    t0 = time.monotonic()
    resource.setrlimit(resource.RLIMIT_AS, (6 << 30, 6 << 30))
    resource.setrlimit(resource.RLIMIT_FSIZE, (64 << 20, 64 << 20))
    with open(calls_path, "rb") as f:
        calls = [Call(**c) for c in pickle.load(f)]  # written by the test itself, a moment ago
    out = open(out_path, "w")  # opened before the guards (they take away os.close and friends)
    signal.signal(signal.SIGALRM, _on_alarm)
    mods, failed = shipped_modules(Path(stage))
    funcs = functions(mods)
    guard()
    report = probe(calls, funcs)
    report.update(modules=len(mods), functions=len(funcs), import_failures=failed,
                  seconds=round(time.monotonic() - t0, 1))
    out.write(json.dumps(report, indent=1))
    out.flush()
    _exit(0)  # no atexit handlers or threads the probed functions may have left behind


if __name__ == "__main__":
    main(*sys.argv[1:4])

"""One submission's grading, in a process of its own: forked from the preloaded forkserver
(`forked_main`), or `python -m grader.instructor.isolated.child < request.json` (a Dask worker,
`GRADER_BATCH_FORK=0`).

The request (grade.py builds it: the submission folder, the assignment, the checks, the grading
options) says where to write the result: `{"ok": true, "report": Report.to_dict(internal=True)}`
as JSON (never to stdout, which the engine or a library might print to), or `{"ok": false, message,
traceback}` when the grading itself crashed. Whatever goes wrong in here — a bug in a judge, in the
engine, a crash — stays in this process: the caller gets it as this submission's error.

The process exits when its parent dies (SIGKILL included): a watchdog thread sees the parent
change, and the engine's workers die with this process (PR_SET_PDEATHSIG, bwrap --die-with-parent).
"""
from __future__ import annotations

import json
import os
import sys
import threading
import time
import traceback
from pathlib import Path


def _watch_parent(parent: int) -> None:
    while True:
        time.sleep(0.5)
        if os.getppid() != parent:
            os._exit(70)


def _limit_threads(threads: int) -> None:
    """The judge's torch (the oracles) on `threads` threads, like the sandboxed worker: a grading is
    one core's work, and `--jobs N` gradings on N cores must not each start a thread per core."""
    try:
        import torch
    except ImportError:  # pragma: no cover - torch is a core dependency
        return
    torch.set_num_threads(max(1, threads))


def run(request: dict) -> dict:
    """Grade the request's folder; the result as plain data (the report with its instructor-only details)."""
    from grader.engine import assignment as assignments
    from grader.engine.runner import grade
    from grader.engine.session import GradeOptions

    # the course folders the caller saw ($GRADER_ASSIGNMENTS), not the forkserver's older copy;
    # set in the environment so that the sandboxed workers started from here see them too
    os.environ[assignments.ENV_PATH] = request.get("courses", "")
    threads = int(request.get("threads", 1))
    _limit_threads(threads)
    data_dir = request.get("data_dir")
    options = GradeOptions(isolation=request.get("isolation", "auto"),
                           notebook_mode=request.get("notebook_mode", "definitions"),
                           data_dir=Path(data_dir) if data_dir else None, threads=threads,
                           allow_unisolated=bool(request.get("allow_unisolated", False)),
                           coverage=bool(request.get("coverage", False)),
                           stop_early=bool(request.get("stop_early", False)))
    asg = assignments.load(request["assignment"])
    report = grade(Path(request["submission"]), asg, hidden=bool(request.get("hidden", True)), options=options,
                   check_ids=request.get("check_ids") or None)
    # internal=True: the instructor's details (a judge's traceback) cross to the caller, which
    # decides who sees them (the gradebook keeps them; student feedback never shows them)
    return {"ok": True, "report": report.to_dict(internal=True)}


def _finish(request: dict) -> None:
    try:
        result = run(request)
    except BaseException as exc:  # noqa: BLE001 - everything is this submission's error
        result = {"ok": False, "message": f"the grading of this submission crashed: {type(exc).__name__}: {exc}",
                  "traceback": traceback.format_exc()}
    out = Path(request["result"])
    tmp = out.with_suffix(".tmp")
    tmp.write_text(json.dumps(result, allow_nan=True))
    os.replace(tmp, out)  # the caller reads a whole result or none


def forked_main(request: dict, stderr_path: str) -> None:
    """Entry point in a process forked from the preloaded forkserver (grader/instructor/isolated/process.py)."""
    os.setsid()  # its own session and process group: the budget kills it whole
    err = os.open(stderr_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    os.dup2(err, 2)
    null = os.open(os.devnull, os.O_WRONLY)
    os.dup2(null, 1)
    # the forkserver is our parent: it exits when the caller dies, and then so do we
    threading.Thread(target=_watch_parent, args=(os.getppid(),), daemon=True).start()
    _finish(request)
    sys.stdout.flush()
    os._exit(0)  # no multiprocessing atexit work: the result is on disk


def main() -> None:
    threading.Thread(target=_watch_parent, args=(os.getppid(),), daemon=True).start()
    _finish(json.loads(sys.stdin.read()))


if __name__ == "__main__":
    main()

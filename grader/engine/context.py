"""What a check's judge receives: CheckContext (probes into the worker, the submission's source, data,
a seeded RNG) and Audit (what the student's code imported and called)."""
from __future__ import annotations

import time
import zlib
from typing import TYPE_CHECKING, Any, Iterable, Optional

import numpy as np

from . import text
from .model import Check
from .sandbox import WorkerTimeout
from .statuses import probe_error

if TYPE_CHECKING:
    from .session import Session


class Audit:
    """What the student's code imported and called while some probes ran (see worker/audit.py).

    `events` are dicts {"module", "file", "line", "how"} attributed to the student's own files.
    """

    def __init__(self, session: "Session", modules: Iterable[str]):
        self.events: list[dict] = []
        modules = list(modules)
        files = {session.origins.get(m) for m in modules} - {None}
        for m, events in session.import_events.items():
            if session.shared_notebook(m):
                # one notebook holding several tasks imports, at its top, what every task needs
                # (numpy for one, torch for another): only what the functions import and call
                # while they run can be told apart by task
                continue
            # what ran when the module was imported counts too, also when another module of the
            # submission imported it first (then its events are in that module's record)
            self.events += [e for e in events if m in modules or e.get("file") in files]

    def add(self, events: Any) -> None:
        if isinstance(events, list):
            self.events += [e for e in events[:200] if isinstance(e, dict)]

    def using(self, modules: Iterable[str], allowed: Iterable[str] = ()) -> list[str]:
        """'file line N: imports torch' for each event whose top-level module is in `modules`
        (or, when `modules` is empty, not in `allowed`); each place listed once."""
        modules, allowed = set(modules), set(allowed)
        found: dict[str, None] = {}
        for e in self.events:
            top = str(e.get("module", "")).partition(".")[0]
            if (top in modules) if modules else (top not in allowed):
                how = "imports" if e.get("how") == "import" else "calls"
                where = text.cap(e.get("file", "?"), 120)
                found[f"{where}, line {e.get('line', '?')}: {how} {text.cap(top, 60)}"] = None
        return list(found)


class CheckContext:
    """What a check's judge may use: probes into the worker, the submission's source, data, an RNG."""

    def __init__(self, session: "Session", check: Check, budget: float):
        # the check's time limit counts the time spent in the worker only: the grader's own work
        # between probes (importing torch for an oracle, a slow machine) never costs the student
        self._session, self.check, self._left = session, check, budget
        seed = (session.assignment.seed * 1_000_003 + zlib.crc32(check.id.encode())) % 2**32
        self.seed = seed
        self.rng = np.random.default_rng(seed)  # the check's inputs: fixed per assignment and check
        self.last_call = ""  # the student's function the last probe called (for messages)
        self.last_value: Any = None
        self._audit: Optional[Audit] = None

    def probe(self, name: str, *args: Any, reply_mb: Optional[int] = None, **kwargs: Any) -> Any:
        """Run probes.py's `name(submission, *args, **kwargs)` in the worker; return its plain value.

        The reply may be at most `reply_mb` MB (default: the check's `limits.reply_mb`).
        """
        if self._left <= 0:
            raise WorkerTimeout()
        if name == "call" and len(args) >= 2 and all(isinstance(a, str) for a in args[:2]):
            self.last_call = f"{args[0]}.py: {args[1]}()"
        else:
            self.last_call = f"the code of {self.check.module or 'the submission'}" + (
                ".py" if self.check.module else "")
        request = {"op": "probe", "probe": name, "args": list(args), "kwargs": kwargs, "seed": self.seed}
        if self._audit is not None:
            request["audit"] = True
        if self._session.options.coverage:
            request["coverage"] = True
        t0 = time.monotonic()
        try:
            reply = self._session.worker.request(request, self._left,
                                                 max_bytes=(reply_mb or self.check.limits.reply_mb) * 2**20)
        finally:
            self._left -= time.monotonic() - t0
        self._session.add_coverage(self.check.id, reply.get("coverage"))
        if self._audit is not None:
            self._audit.add(reply.get("audit"))
        if not reply.get("ok"):
            raise probe_error(reply, name)
        self.last_value = reply.get("value")
        return self.last_value

    def audit(self, *modules: str) -> Audit:
        """Record what the student's code imports and calls in the probes from now on (and what it
        imported when `modules` were imported): for checks that a task is done by hand."""
        for m in modules:
            self._session._import(m)
        self._audit = Audit(self._session, modules)
        return self._audit

    def source(self, module: str) -> str:
        """The source of the file the worker imported for `module` (code cells of a notebook), as
        handed in: read here from the grader's checked copy, never executed."""
        text_ = self._session.source(module)
        # a judge that reads the source may see a change in any function of it: all of it counts
        self._session.add_coverage(self.check.id, [f"{self._session.origins.get(module)}:*"])
        return text_

    def shared_notebook(self, module: str) -> bool:
        """Whether `module` came from a notebook under another name, which may hold other tasks
        too (then its top-level imports are not the task's own)."""
        self._session._import(module)
        return self._session.shared_notebook(module)

    def share(self, name: str, array: np.ndarray) -> str:
        """Write an array the worker may read with np.load; returns the path the worker sees."""
        return self._session.share(name, array)

    def data(self):
        from grader.data import load_fashion_mnist

        return load_fashion_mnist(self._session.options.data_dir)

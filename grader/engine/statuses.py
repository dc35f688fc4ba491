"""How a check's fate becomes a status and a message: the worker's reply kinds, and the table that
turns the exception a check ended with (or its outcome) into a Verdict."""
from __future__ import annotations

import traceback
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Callable, Optional

import numpy as np

from . import text
from grader.data import DatasetMissing
from .model import Check, CheckFailed, Outcome, Status
from .sandbox import ReplyTooLarge, WorkerDied, WorkerOutOfDisk, WorkerOutOfMemory, WorkerTimeout

if TYPE_CHECKING:
    from .context import CheckContext

# Exceptions a judge raises when a returned value has an unexpected structure (a list where it
# indexes a dict, an int too large for a float): the submission's fault, a clean failed check.
VALUE_ERRORS = (TypeError, KeyError, IndexError, ValueError, AttributeError, OverflowError,
                ZeroDivisionError, FloatingPointError)


class ProbeError(Exception):
    """The worker could not produce a value: the student's code raised, is missing, etc."""

    def __init__(self, status: Status, message: str):
        super().__init__(message)
        self.status, self.message = status, message


KIND_STATUS = {  # the "kind" of a worker's failed reply → the check's status
    "missing": Status.MISSING,
    "memory": Status.OUT_OF_MEMORY,
    "not_implemented": Status.FAILED,
    "bad_return": Status.FAILED,
    "exception": Status.ERROR,
    "protocol": Status.ERROR,
}


def probe_error(reply: dict, what: str) -> ProbeError:
    """The ProbeError for a failed reply of the worker to `what` (a probe, an import)."""
    kind = reply.get("kind", "exception")
    kind = kind if isinstance(kind, str) else "exception"
    message = text.cap_lines(reply.get("message", "failed"))
    # name the student's function (from the worker's traceback), not our internal probe
    what = text.cap(reply.get("where") or what, text.LINE_CHARS)
    if kind == "not_implemented":
        # keep a student's own explanation; the template's "name: not implemented yet" says nothing more
        detail = message.strip() if isinstance(message, str) else ""
        own = detail and detail != "failed" and "not implemented yet" not in detail
        message_text = f"{what}: not implemented yet" + (f" (NotImplementedError: {detail})" if own else "")
    elif kind == "missing":
        message_text = message  # the status already says "missing"
    else:
        message_text = f"{what}: {message}"
    tb = reply.get("traceback")
    if tb and kind != "not_implemented":
        message_text += "\n" + text.cap_lines(tb)
    return ProbeError(KIND_STATUS.get(kind, Status.ERROR), text.cap(message_text))


def describe_value(value: Any) -> str:
    """A short description of a returned value's structure, for messages (never the value itself)."""
    if isinstance(value, np.ndarray):
        return f"an array of shape {tuple(value.shape)} and dtype {value.dtype}"
    if isinstance(value, dict):
        keys = sorted(str(k) for k in list(value)[:8])
        return f"a dict with keys {text.cap(keys, 200)}"
    if isinstance(value, list):
        return f"a list of {len(value)} item(s)"
    if isinstance(value, (bool, int, float)):
        return f"the {type(value).__name__} {text.cap(repr(value), 40)}"
    if isinstance(value, str):
        return f"a string of {len(value)} characters"
    return "None" if value is None else f"a {type(value).__name__}"


@dataclass
class Verdict:
    """What a check's result says: its status, the fraction of its points, the student's message."""

    status: Status
    message: str
    fraction: float = 0.0
    figures: list[dict] = field(default_factory=list)
    internal: str = ""  # for the instructor only (a traceback)
    kill_worker: bool = False  # the worker is in an unknown state: keep its output, then kill it
    grader_error: bool = False  # a bug of ours: listed in the report's `internal` too


def _fraction(value: float) -> float:
    return min(1.0, max(0.0, float(value)))


def from_outcome(outcome: Optional[Outcome]) -> Verdict:
    """A judge that returned: full marks when it returned nothing, else its fraction."""
    if outcome is None:
        outcome = Outcome(1.0, "")
    fraction = _fraction(outcome.fraction)
    return Verdict(Status.PASSED if fraction >= 1.0 else Status.FAILED, outcome.message, fraction,
                   list(outcome.figures))


def from_exception(exc: Exception, check: Check, ctx: Optional[CheckContext]) -> Verdict:
    """The first rule of EXCEPTION_VERDICTS that matches `exc` and gives a verdict."""
    for kinds, rule in EXCEPTION_VERDICTS:
        if isinstance(exc, kinds):
            verdict = rule(exc, check, ctx)
            if verdict is not None:
                return verdict
    raise AssertionError("unreachable: the last rule takes every Exception")


def _judged_wrong(exc: CheckFailed, check: Check, ctx: Optional[CheckContext]) -> Verdict:
    return Verdict(Status.FAILED, exc.message, _fraction(exc.fraction), list(exc.figures))


def _probe_failed(exc: ProbeError, check: Check, ctx: Optional[CheckContext]) -> Verdict:
    return Verdict(exc.status, exc.message)


def _reply_too_large(exc: ReplyTooLarge, check: Check, ctx: Optional[CheckContext]) -> Verdict:
    return Verdict(Status.FAILED, f"{ctx.last_call if ctx else check.module}: {exc}", kill_worker=True)


def _timed_out(exc: WorkerTimeout, check: Check, ctx: Optional[CheckContext]) -> Verdict:
    return Verdict(Status.TIMEOUT, f"did not finish within the time limit of {check.limits.timeout:g} s "
                   "(an endless loop, or far too slow?)", kill_worker=True)


def _out_of_memory(exc: WorkerOutOfMemory, check: Check, ctx: Optional[CheckContext]) -> Verdict:
    return Verdict(Status.OUT_OF_MEMORY, f"{exc} while running this check", kill_worker=True)


def _out_of_disk(exc: WorkerOutOfDisk, check: Check, ctx: Optional[CheckContext]) -> Verdict:
    return Verdict(Status.OUT_OF_DISK, f"{exc} while running this check", kill_worker=True)


def _worker_died(exc: WorkerDied, check: Check, ctx: Optional[CheckContext]) -> Verdict:
    hint = " (os._exit, a crash in native code?)" if exc.returncode is not None else ""
    return Verdict(Status.ERROR, f"{exc} while running this check{hint}", kill_worker=True)


def _no_data(exc: DatasetMissing, check: Check, ctx: Optional[CheckContext]) -> Verdict:
    return Verdict(Status.ERROR, f"cannot run this check here: {exc}")


def _unusable_value(exc: Exception, check: Check, ctx: Optional[CheckContext]) -> Optional[Verdict]:
    """The judge could not use what the student's code returned: the submission's fault. None when
    no student function was called (then it is a grader error)."""
    if ctx is None or not ctx.last_call:
        return None
    return Verdict(Status.FAILED, f"{ctx.last_call}: returned a value this check cannot use "
                   f"({describe_value(ctx.last_value)}); see the statement for what it must return",
                   internal=_details(exc, check))


def _grader_error(exc: Exception, check: Check, ctx: Optional[CheckContext]) -> Verdict:
    """A bug of ours (or a data problem): never take the batch down, tell the instructor."""
    return Verdict(Status.ERROR, f"this check could not be graded (internal grader error in check "
                   f"{check.id}); your instructor can see the details",
                   internal=_details(exc, check), grader_error=True)


def _details(exc: Exception, check: Check) -> str:
    return f"{check.id}: {''.join(traceback.format_exception(exc, limit=8))}"


Rule = Callable[[Any, Check, Optional["CheckContext"]], Optional[Verdict]]
# In order: the first match that gives a verdict wins (ReplyTooLarge is a kind of WorkerDied).
EXCEPTION_VERDICTS: tuple[tuple[type[Exception] | tuple[type[Exception], ...], Rule], ...] = (
    (CheckFailed, _judged_wrong),
    (ProbeError, _probe_failed),
    (ReplyTooLarge, _reply_too_large),
    (WorkerTimeout, _timed_out),
    (WorkerOutOfMemory, _out_of_memory),
    (WorkerOutOfDisk, _out_of_disk),
    (WorkerDied, _worker_died),
    (DatasetMissing, _no_data),
    (VALUE_ERRORS, _unusable_value),
    (Exception, _grader_error),
)

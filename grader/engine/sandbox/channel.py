"""The framed channel to a worker: a request pipe and a result pipe, each frame an 8-byte length
and the protocol's JSON; every write and read has a deadline, and a reply larger than the request
allows is never read.

Two ways to wait with a deadline: `select` on the pipes (POSIX), or, where `select` does not take
pipes (Windows; also the `process` mode everywhere, so that this path is tested on Linux), each
blocking read or write in a helper thread, waited for with a timeout.
"""
from __future__ import annotations

import os
import select
import threading
import time
from concurrent.futures import Future, TimeoutError as FutureTimeout
from typing import Callable, Optional

from ...worker import protocol
from .errors import ReplyTooLarge, WorkerDied, WorkerTimeout

DEFAULT_REPLY_BYTES = 32 * 2**20  # the default reply limit per request (Limits.reply_mb)


def pipes() -> tuple[tuple[int, int], tuple[int, int]]:
    """Two pipes: the worker's ends (request read, result write), the grader's (request write,
    result read)."""
    req_r, req_w = os.pipe()
    res_r, res_w = os.pipe()
    return (req_r, res_w), (req_w, res_r)


def _in_thread(fn: Callable[[], object]) -> Future:
    """Run a blocking call in a daemon thread (never delays the grader's exit); its Future."""
    fut: Future = Future()

    def run() -> None:
        try:
            fut.set_result(fn())
        except BaseException as exc:  # noqa: BLE001 - handed to the waiting caller
            fut.set_exception(exc)

    threading.Thread(target=run, daemon=True, name="grader-channel").start()
    return fut


class Channel:
    """The grader's ends of the pipes. `died` says why the worker is gone when a pipe breaks.

    `threaded`: blocking I/O in helper threads instead of `select` (see the module docstring).
    """

    def __init__(self, req: int, res: int, died: Callable[[], WorkerDied], threaded: bool = False):
        self._threaded = threaded or os.name == "nt"
        if not self._threaded:
            os.set_blocking(req, False)  # requests are written with a deadline (see write)
        self._req, self._res, self._died = req, res, died
        self._pending: dict[int, Future] = {}  # fd → its unfinished blocking call (threaded mode)

    # --- threaded mode ----------------------------------------------------------------------
    def _wait(self, fd: int, fn: Callable[[], object], timeout: float) -> object:
        if fd < 0 or fd in self._pending:  # closed, or still busy with a call that timed out
            raise self._died()
        fut = _in_thread(fn)
        self._pending[fd] = fut
        try:
            result = fut.result(timeout=max(0.0, timeout))
        except FutureTimeout:
            raise WorkerTimeout() from None  # the call stays pending: the caller kills the worker
        except OSError:  # EPIPE, EINVAL: the worker is gone
            del self._pending[fd]
            raise self._died() from None
        del self._pending[fd]
        return result

    def _read_exact(self, n: int) -> bytes:
        buf = bytearray()
        while len(buf) < n:
            chunk = os.read(self._res, min(n - len(buf), 1 << 20))
            if not chunk:
                break
            buf += chunk
        return bytes(buf)

    def _write_all(self, data: bytes) -> None:
        view = memoryview(data)
        while view:
            view = view[os.write(self._req, view):]

    def _read_threaded(self, timeout: float, max_bytes: int) -> bytes:
        deadline = time.monotonic() + timeout
        head = self._wait(self._res, lambda: self._read_exact(8), timeout)
        if len(head) < 8:
            raise self._died()
        size = int.from_bytes(head, "big")
        self._check_size(size, max_bytes)
        body = self._wait(self._res, lambda: self._read_exact(size), deadline - time.monotonic())
        if len(body) < size:
            raise self._died()
        return body

    # --- both modes -------------------------------------------------------------------------
    @staticmethod
    def _check_size(size: int, max_bytes: int) -> None:
        if size > min(max_bytes, protocol.MAX_FRAME):
            raise ReplyTooLarge(f"returned {size / 2**20:.1f} MB of data, more than the "
                                f"{max_bytes / 2**20:g} MB this check expects")

    def write(self, data: bytes, deadline: float) -> None:
        """Write a request; a worker that stops reading (e.g. a thread holding the GIL) times out."""
        if self._threaded:
            self._wait(self._req, lambda: self._write_all(data), deadline - time.monotonic())
            return
        view = memoryview(data)
        while view:
            try:
                view = view[os.write(self._req, view):]
                continue
            except BlockingIOError:
                pass
            except OSError:  # EPIPE: the worker is gone
                raise self._died() from None
            left = deadline - time.monotonic()
            if left <= 0:
                raise WorkerTimeout()
            select.select([], [self._req], [], left)

    def read(self, timeout: float, max_bytes: int = DEFAULT_REPLY_BYTES) -> dict:
        """The next frame, decoded, within `timeout` seconds and at most `max_bytes` long."""
        if self._threaded:
            return self._decode(self._read_threaded(timeout, max_bytes))
        deadline = time.monotonic() + timeout
        buf = bytearray()
        need = 8
        size = None
        while len(buf) < need:
            left = deadline - time.monotonic()
            if left <= 0:
                raise WorkerTimeout()
            ready, _, _ = select.select([self._res], [], [], left)
            if not ready:
                continue
            chunk = os.read(self._res, min(need - len(buf), 1 << 20))
            if not chunk:
                raise self._died()
            buf += chunk
            if size is None and len(buf) >= 8:
                size = int.from_bytes(buf[:8], "big")
                self._check_size(size, max_bytes)
                need = 8 + size
        return self._decode(bytes(buf[8:]))

    @staticmethod
    def _decode(data: bytes) -> dict:
        try:
            return protocol.loads(data)
        except protocol.ProtocolError as exc:  # garbage written on the pipe by student code
            raise WorkerDied(f"the worker sent a malformed frame ({exc})") from None

    def close(self) -> None:
        for fd in (self._req, self._res):
            if fd < 0:
                continue
            pending: Optional[Future] = self._pending.pop(fd, None)
            if pending is not None and not pending.done():
                # a helper thread still blocks on fd (the worker, killed by now, will end it):
                # closing it under the thread could let it read a reused descriptor number
                pending.add_done_callback(lambda _f, fd=fd: _close(fd))
            else:
                _close(fd)
        self._req = self._res = -1  # a later write or read fails as a dead worker's would


def _close(fd: int) -> None:
    try:
        os.close(fd)
    except OSError:
        pass

"""The framed channel to a worker: a request pipe and a result pipe, each frame an 8-byte length
and the protocol's JSON; every write and read has a deadline, and a reply larger than the request
allows is never read."""
from __future__ import annotations

import os
import select
import time
from typing import Callable

from ...worker import protocol
from .errors import ReplyTooLarge, WorkerDied, WorkerTimeout

DEFAULT_REPLY_BYTES = 32 * 2**20  # the default reply limit per request (Limits.reply_mb)


def pipes() -> tuple[tuple[int, int], tuple[int, int]]:
    """Two pipes: the worker's ends (request read, result write), the grader's (request write,
    result read)."""
    req_r, req_w = os.pipe()
    res_r, res_w = os.pipe()
    return (req_r, res_w), (req_w, res_r)


class Channel:
    """The grader's ends of the pipes. `died` says why the worker is gone when a pipe breaks."""

    def __init__(self, req: int, res: int, died: Callable[[], WorkerDied]):
        os.set_blocking(req, False)  # requests are written with a deadline (see write)
        self._req, self._res, self._died = req, res, died

    def write(self, data: bytes, deadline: float) -> None:
        """Write a request; a worker that stops reading (e.g. a thread holding the GIL) times out."""
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
                if size > min(max_bytes, protocol.MAX_FRAME):
                    raise ReplyTooLarge(f"returned {size / 2**20:.1f} MB of data, more than the "
                                        f"{max_bytes / 2**20:g} MB this check expects")
                need = 8 + size
        try:
            return protocol.loads(bytes(buf[8:]))
        except protocol.ProtocolError as exc:  # garbage written on the pipe by student code
            raise WorkerDied(f"the worker sent a malformed frame ({exc})") from None

    def close(self) -> None:
        for fd in (self._req, self._res):
            try:
                os.close(fd)
            except OSError:
                pass
        self._req = self._res = -1  # a later write or read fails as a dead worker's would

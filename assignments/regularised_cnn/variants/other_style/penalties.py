"""A correct variant: loops over the entries, float32 arithmetic, signs by comparisons."""
import numpy as np


def l1_penalty(weights, lam):
    total = np.float32(0)
    for w in weights:
        for v in np.asarray(w, dtype=np.float32).ravel():
            total += abs(v)
    return lam * total


def l2_penalty(weights, lam):
    return lam * sum(float(np.dot(w.ravel(), w.ravel())) for w in weights)


def l1_grad(weights, lam):
    out = []
    for w in weights:
        w = np.asarray(w, dtype=np.float32)
        out.append(lam * ((w > 0).astype(np.float32) - (w < 0).astype(np.float32)))
    return out


def l2_grad(weights, lam):
    return [np.float32(2 * lam) * np.asarray(w, dtype=np.float32) for w in weights]


def regularised_cross_entropy(probs, labels, weights, lam, kind):
    penalties = {"l1": l1_penalty, "l2": l2_penalty}
    if kind not in penalties:
        raise ValueError("unknown regularisation kind: " + str(kind))
    nll = [-np.log(probs[i][int(c)]) for i, c in enumerate(labels)]
    return sum(nll) / len(nll) + penalties[kind](weights, lam)

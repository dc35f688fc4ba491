"""Worker-side helpers for assignments whose submission includes trained weights (A3, A4).

Imported by probes as `gradeworker.weights` (the worker package as the sandbox sees it).
"""
from __future__ import annotations

import os
from pathlib import Path

WEIGHT_SUFFIXES = (".pt", ".pth", ".ckpt", ".bin")


def plain_state(module_or_dict):
    """A state_dict as ordered plain data: {"keys": [...], "arrays": [...]} (non-tensors skipped)."""
    import torch

    sd = module_or_dict.state_dict() if isinstance(module_or_dict, torch.nn.Module) else module_or_dict
    keys, arrays = [], []
    for k, v in sd.items():
        if isinstance(v, torch.Tensor):
            keys.append(str(k))
            arrays.append(v.detach().cpu())
    return {"keys": keys, "arrays": arrays}


def load_state_file(folder: Path, name: str, max_mb: float) -> dict:
    """Load the submitted weights `folder/name` safely (weights_only=True) here, in the sandbox.

    Returns {"state": ..., "nested": key or None} or {"problem": what, "detail": text}; never
    raises for a bad file.
    """
    import torch

    path = Path(folder) / name
    if not path.is_file():
        others = sorted(p.name for p in Path(folder).iterdir() if p.is_file() and p.suffix in WEIGHT_SUFFIXES)
        return {"problem": "missing", "detail": ", ".join(others)}
    size = os.path.getsize(path)
    if size > max_mb * 2**20:
        return {"problem": "too_big", "detail": f"{size / 2**20:.1f} MB"}
    try:
        obj = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # not a torch file, a pickled model, custom classes: all refused
        return {"problem": "unloadable", "detail": f"{type(exc).__name__}: {str(exc)[:400]}"}
    nested = None
    if isinstance(obj, dict) and not all(isinstance(v, torch.Tensor) for v in obj.values()):
        # a training checkpoint {"model_state_dict": ..., "optimizer": ...}: take the model's part
        for key in ("state_dict", "model_state_dict", "model"):
            inner = obj.get(key)
            if isinstance(inner, dict) and inner and all(isinstance(v, torch.Tensor) for v in inner.values()):
                obj, nested = inner, key
                break
    if not isinstance(obj, dict) or not obj or not all(isinstance(v, torch.Tensor) for v in obj.values()):
        kind = type(obj).__name__
        if isinstance(obj, dict):
            kind += " with keys " + ", ".join(repr(str(k)) for k in list(obj)[:8])
        return {"problem": "not_state_dict", "detail": kind}
    return {"state": plain_state(obj), "nested": nested}

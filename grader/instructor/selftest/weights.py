"""Wrong weights files for an assignment's registered cases, built from the reference's checkpoint.

Each function returns a `build(files)` for `Wrong(..., build=...)`: it changes the submission's
files in memory. They run in the grader's process on the reference's own files (the author's
code, not a student's); torch is imported only when a case is built.
"""
from __future__ import annotations

import io
import types
from typing import Any, Callable

from .cases import Files

Build = Callable[[Files], None]


def _torch():
    import torch

    return torch


def load(files: Files, name: str) -> dict:
    return _torch().load(io.BytesIO(files[name]), map_location="cpu", weights_only=True)


def dump(obj: Any) -> bytes:
    buf = io.BytesIO()
    _torch().save(obj, buf)
    return buf.getvalue()


def missing(name: str, saved_as: str = "model.pth") -> Build:
    """The checkpoint saved under another name (the message must name the one expected)."""
    def build(files: Files) -> None:
        files[saved_as] = files.pop(name)
    return build


def garbage(name: str) -> Build:
    def build(files: Files) -> None:
        files[name] = b"this is not a torch file\x00" * 10
    return build


def transformed(name: str, change: Callable[[dict], Any]) -> Build:
    """The reference's state_dict passed through `change` (which returns what is saved instead)."""
    def build(files: Files) -> None:
        files[name] = dump(change(load(files, name)))
    return build


def untrained(name: str, scale: float = 0.05) -> Build:
    """Random weights of the right shapes: the accuracy check must say how well it does."""
    def change(sd: dict) -> dict:
        torch = _torch()
        g = torch.Generator().manual_seed(0)
        return {k: torch.randn(v.shape, generator=g) * scale for k, v in sd.items()}
    return transformed(name, change)


def pickled_model(name: str, module: str, factory: str) -> Build:
    """The whole model pickled (`torch.save(model)`) instead of its state_dict: the reference's own
    `factory()` from `module` builds it (executed here, from the reference's source)."""
    def build(files: Files) -> None:
        namespace = types.ModuleType(f"_reference_{module.removesuffix('.py')}")
        exec(compile(files[module].decode("utf-8"), module, "exec"), namespace.__dict__)  # the reference's code
        model = getattr(namespace, factory)()
        model.load_state_dict(load(files, name))
        files[name] = dump(model)
    return build

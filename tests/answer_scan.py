"""The two scans proving that the student edition holds no answers (docs/install.md), used by
tests/test_no_answers.py. Both survive renaming, unlike a verbatim comparison of lines.

* `record_calls` runs the reference solution through an assignment's checks in this process (no
  worker: the probes call the reference directly) and records every call of a student function or
  method whose inputs and answer are plain data. `tests/answer_probe.py` then calls every function
  the student wheel ships like each recorded call, in a process that imports only the wheel and
  where torch cannot be imported: a function that gives back the reference's answer there computed
  it without torch, in numpy or plain Python.
* `token_scan` abstracts identifiers in the tokens of the reference's solution blocks and of every
  module the wheel ships, and finds the solution's statements (or short runs of them) in the wheel.
"""
from __future__ import annotations

import copy
import functools
import importlib
import inspect
import io
import keyword
import pkgutil
import random
import sys
import tokenize
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterator, Optional

import numpy as np

from grader.engine import assignment as assignments_mod
from grader.engine.context import CheckContext
from grader.engine.model import CheckFailed
from grader.instructor.publish.template import BEGIN_RE, END_RE
from grader.worker import protocol

# Calls whose inputs hold more numbers than this are not recorded: those are training runs on a data
# set (60,000 synthetic points), whose answers no closed form reproduces; the token scan covers
# trainers. The 784-32-32-10 network's parameters (26,432 numbers) are below it.
MAX_RECORDED_NUMBERS = 100_000
# The probe uses the first few informative calls of each function: a training loop's thousands of
# layer calls need not all be copied.
MAX_CALLS_PER_FUNCTION = 20


@dataclass
class Call:
    """One call of a student function by a probe, with the reference's answer."""

    key: str  # "module.function" or "module.Class.method"
    args: tuple
    kwargs: dict
    result: Any


# ------------------------------------------------------------------------------ plain data
def plain_size(value: Any, depth: int = 0) -> Optional[int]:
    """How many numbers `value` holds when it is plain data (numbers, strings, arrays, lists,
    tuples, str-keyed dicts; a numpy Generator as an input), else None."""
    if depth > 8:
        return None
    if value is None or isinstance(value, (bool, int, float, str, np.generic)):
        return 1
    if isinstance(value, np.ndarray):
        return int(value.size) if value.dtype.kind in "biuf" else None
    if isinstance(value, np.random.Generator):
        return 1
    if isinstance(value, (list, tuple)):
        sizes = [plain_size(v, depth + 1) for v in value]
        return None if None in sizes else sum(sizes)
    if isinstance(value, dict) and all(isinstance(k, str) for k in value):
        sizes = [plain_size(v, depth + 1) for v in value.values()]
        return None if None in sizes else sum(sizes)
    return None


# ------------------------------------------------------------------ the reference, recorded
def _recording(key: str, fn: Callable, calls: list[Call], counts: Counter) -> Callable:
    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        if counts[key] >= MAX_CALLS_PER_FUNCTION:
            return fn(*args, **kwargs)
        size = plain_size((args, kwargs))
        before = copy.deepcopy((args, kwargs)) if size is not None and size <= MAX_RECORDED_NUMBERS else None
        result = fn(*args, **kwargs)
        if before is not None and plain_size(result) is not None:
            calls.append(Call(key, before[0], before[1], copy.deepcopy(result)))
            counts[key] += 1
        return result
    return wrapper


def _torch_class(cls: type) -> bool:
    return any(c.__module__.split(".")[0] == "torch" for c in cls.__mro__)


def _recording_class(key: str, cls: type, calls: list[Call], counts: Counter) -> Callable:
    """A factory of `cls` instances whose public methods record their calls."""
    def make(*args, **kwargs):
        obj = cls(*args, **kwargs)
        for name in dir(cls):
            if not name.startswith("_") and inspect.isfunction(getattr(cls, name, None)):
                setattr(obj, name, _recording(f"{key}.{name}", getattr(obj, name), calls, counts))
        return obj
    return make


class _Reference:
    """What a probe sees of the submission (grader.worker.main.Submission), here the reference,
    its functions and methods recorded."""

    def __init__(self, folder: Path, calls: list[Call]):
        self.folder, self.calls, self.counts = folder, calls, Counter()

    def module(self, name: str) -> Any:
        """The reference's module itself (a probe that traces its lines: layers.vectorised)."""
        return __import__(name)

    def fn(self, module: str, name: str) -> Any:
        obj = getattr(__import__(module), name)
        if inspect.isfunction(obj):
            return _recording(f"{module}.{name}", obj, self.calls, self.counts)
        if inspect.isclass(obj) and not _torch_class(obj):
            return _recording_class(f"{module}.{name}", obj, self.calls, self.counts)
        return obj


class _NoAudit:
    def using(self, *args, **kwargs) -> list[str]:
        return []


class _Session:  # what CheckContext's constructor reads
    def __init__(self, asg):
        self.assignment = asg


class _RecordingContext(CheckContext):
    """A check's context whose probes run here, on the reference, through the wire format."""

    def __init__(self, asg, check, probes, ref: _Reference, share_dir: Path):
        super().__init__(_Session(asg), check, budget=1e9)
        self._probes, self._ref, self._share_dir = probes, ref, share_dir

    def probe(self, name: str, *args: Any, reply_mb: Optional[int] = None, **kwargs: Any) -> Any:
        def wire(value):  # what the worker receives and sends back: plain data, tuples as lists
            return protocol.loads(protocol.dumps({"v": protocol.to_plain(value)})[8:])["v"]  # past the length

        random.seed(self.seed)  # as the worker does before each probe
        np.random.seed(self.seed % 2**32)
        value = getattr(self._probes, name)(self._ref, *wire(list(args)), **wire(kwargs))
        self.last_value = wire(value)
        return self.last_value

    def audit(self, *modules: str) -> _NoAudit:
        return _NoAudit()

    def source(self, module: str) -> str:
        return (self._ref.folder / f"{module}.py").read_text()

    def shared_notebook(self, module: str) -> bool:
        return False

    def share(self, name: str, array: np.ndarray) -> str:
        path = self._share_dir / f"{name}.npy"
        np.save(path, array)
        return str(path)


def alias_worker_package() -> list[str]:
    """Probes import the worker's helpers as `gradeworker` (the name the sandbox gives grader.worker):
    the names it adds to sys.modules."""
    import grader.worker

    added = []
    for name, module in [("gradeworker", "grader.worker")] + [
            (f"gradeworker.{m.name}", f"grader.worker.{m.name}") for m in pkgutil.iter_modules(grader.worker.__path__)]:
        if name not in sys.modules:
            sys.modules[name] = importlib.import_module(module)
            added.append(name)
    return added


def record_calls(name: str, reference: Path, share_dir: Path) -> list[Call]:
    """Every plain-data call of a student function or method while the reference runs through
    assignment `name`'s checks (public and hidden; not those reading FashionMNIST: training on it)."""
    aliases = alias_worker_package()
    asg = assignments_mod.load(name)
    calls: list[Call] = []
    ref = _Reference(reference, calls)
    modules = {p.stem for p in reference.glob("*.py")}
    sys.path.insert(0, str(reference))
    try:
        probes = importlib.import_module(f"{asg.package}.probes")
        for check in asg.checks(hidden=True):
            if check.needs_data:
                continue
            try:
                check.run(_RecordingContext(asg, check, probes, ref, share_dir))
            except CheckFailed as exc:  # the reference passes every check: this is a bug of the scan
                raise AssertionError(f"{check.id}: the reference failed: {exc.message}") from None
    finally:
        sys.path.remove(str(reference))
        for m in [*modules, *aliases]:  # as it was: another assignment may have a module of that name
            sys.modules.pop(m, None)
    return calls


# ------------------------------------------------------------------------------ token scan
# A reference statement is searched for when its abstracted core (below) has at least MIN_TOKENS
# tokens and MIN_OPERATORS arithmetic or comparison operators. Below the first are idioms every numpy
# program has: `W = W - lr * dW` (5 tokens in its core), `n = X.shape[0]` (6),
# `rng = np.random.default_rng(seed)` (8; the template has it too). Without an operator a statement
# is plumbing, not a formula: a call passing names on (`N(N, N, N, N, N)`, 12 tokens, is every
# call of five arguments), a loop over `zip(sizes[:-1], sizes[1:])`, a dict of results; with names
# abstracted those are everywhere in the grader, and none is a task's answer.
MIN_TOKENS = 12
MIN_OPERATORS = 1
OPERATORS = {"+", "-", "*", "/", "//", "%", "@", "**", "<", ">", "<=", ">=", "==", "!=", "~", "not"}
# Runs of up to WINDOW consecutive statements of a block are searched for as well (each at least
# MIN_RUN_STATEMENT tokens, together at least MIN_TOKENS and MIN_OPERATORS): a solution paraphrased
# one short line at a time.
WINDOW = 3
MIN_RUN_STATEMENT = 5


def operators(tokens: list[str]) -> int:
    """How many arithmetic or comparison operators `tokens` hold; a minus sign of a literal (the
    `-1.0` of `axis=-1`, `sizes[:-1]`) is part of the number, not an operation."""
    count = 0
    for i, tok in enumerate(tokens):
        literal = (tok == "-" and i + 1 < len(tokens) and tokens[i + 1][:1].isdigit()
                   and (i == 0 or tokens[i - 1] in ("(", "[", ",", ":", "=", "return")))
        count += tok in OPERATORS and not literal
    return count
SKIPPED_TOKENS = {tokenize.COMMENT, tokenize.NL, tokenize.INDENT, tokenize.DEDENT, tokenize.ENCODING,
                  tokenize.ENDMARKER, tokenize.TYPE_COMMENT}


@dataclass
class Statement:
    line: int
    tokens: list[str]  # abstracted: identifiers are "N", strings "S", numbers their float value

    @property
    def core(self) -> list[str]:
        """The statement without what a renaming changes freely: a leading `return` and the
        targets of an assignment (`d = expr`, `return expr` and `x += expr` share `expr`)."""
        toks = self.tokens[1:] if self.tokens[:1] == ["return"] else self.tokens
        depth, cut = 0, 0
        for i, tok in enumerate(toks):
            if tok in "([{":
                depth += 1
            elif tok in ")]}":
                depth -= 1
            elif depth == 0 and (tok == "=" or (tok.endswith("=") and tok not in ("==", "!=", "<=", ">="))):
                cut = i + 1
        return toks[cut:]


def _abstract(tok: tokenize.TokenInfo) -> str:
    if tok.type == tokenize.NAME:
        return tok.string if keyword.iskeyword(tok.string) else "N"
    if tok.type == tokenize.STRING or tok.type == getattr(tokenize, "FSTRING_START", -1):
        return "S"
    if tok.type == tokenize.NUMBER:
        try:
            return repr(float(tok.string.replace("_", "")))
        except ValueError:  # complex or hex literals: as written
            return tok.string
    return tok.string


def statements(source: str) -> list[Statement]:
    """The logical lines of `source`, abstracted; comments and docstrings dropped."""
    out: list[Statement] = []
    current: list[str] = []
    start = 0
    for tok in tokenize.generate_tokens(io.StringIO(source).readline):
        if tok.type in SKIPPED_TOKENS:
            continue
        if tok.type == tokenize.NEWLINE:
            if current and current != ["S"]:  # a lone string is a docstring
                out.append(Statement(start, current))
            current = []
            continue
        if not current:
            start = tok.start[0]
        current.append(_abstract(tok))
    if current and current != ["S"]:
        out.append(Statement(start, current))
    return out


def solution_blocks(source: str) -> list[list[Statement]]:
    """The statements of each BEGIN SOLUTION … END SOLUTION block (what the template leaves out)."""
    ranges, begin = [], None
    for i, line in enumerate(source.splitlines(), start=1):
        if BEGIN_RE.match(line):
            begin = i
        elif END_RE.match(line) and begin is not None:
            ranges.append((begin, i))
            begin = None
    stmts = statements(source)
    return [[s for s in stmts if lo < s.line < hi] for lo, hi in ranges]


def _joined(tokens: list[str]) -> str:
    return " " + " ".join(tokens) + " "


@dataclass
class Needle:
    where: str  # "reference/backprop/softmax.py:31"
    tokens: list[str]
    run: bool  # several statements (searched in the statements' cores) or one (in all tokens)


def needles(reference: Path) -> list[Needle]:
    """What the token scan looks for: each long enough statement of every solution block, and
    each run of 2..WINDOW consecutive statements of a block that is long enough together."""
    out: list[Needle] = []
    for path in sorted(reference.glob("*/*.py")):
        where = path.relative_to(reference.parent).as_posix()
        for block in solution_blocks(path.read_text()):
            cores = [s.core for s in block]
            alone = [len(c) >= MIN_TOKENS and operators(c) >= MIN_OPERATORS for c in cores]
            for s, core, searched in zip(block, cores, alone):
                if searched:
                    out.append(Needle(f"{where}:{s.line}", core, run=False))
            for k in range(2, WINDOW + 1):
                for i in range(len(block) - k + 1):
                    run = cores[i:i + k]
                    tokens = [t for c in run for t in c + [";"]]
                    if (all(len(c) >= MIN_RUN_STATEMENT for c in run) and len(tokens) - k >= MIN_TOKENS
                            and operators(tokens) >= MIN_OPERATORS and not any(alone[i:i + k])):
                        out.append(Needle(f"{where}:{block[i].line}-{block[i + k - 1].line}", tokens, run=True))
    return out


def token_scan(shipped: dict[str, str], reference: Path) -> list[str]:
    """'<shipped file>:<line> holds <reference file>:<line>: <tokens>' for every needle found."""
    found = []
    wanted = needles(reference)
    for name, source in sorted(shipped.items()):
        stmts = statements(source)
        everything = _joined([t for s in stmts for t in s.tokens + [";"]])
        cores = _joined([t for s in stmts for t in s.core + [";"]])
        for needle in wanted:
            text = _joined(needle.tokens)
            hay = cores if needle.run else everything
            at = hay.find(text)
            if at >= 0:
                line = _line_at(stmts, hay[:at].count(";"))
                found.append(f"{name}:{line} holds {needle.where}: {' '.join(needle.tokens)}")
    return found


def _line_at(stmts: list[Statement], index: int) -> int:
    return stmts[min(index, len(stmts) - 1)].line if stmts else 0


def iter_shipped_sources(entries: dict[str, bytes]) -> Iterator[tuple[str, str]]:
    """(name, source) of every Python module of a wheel's entries."""
    for name, data in entries.items():
        if name.endswith(".py"):
            yield name, data.decode("utf-8")

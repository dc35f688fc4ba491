"""Automatic mutants of a reference solution: small wrong edits of the student's part of the code.

Only code inside the reference's solution markers (`# BEGIN SOLUTION` … `# END SOLUTION`, one-line
`# SOLUTION`; see grader/instructor/publish/template.py) is mutated: that is what a student writes. Each mutant changes
one expression (or one augmented assignment) and leaves every other character of the file as it
was, so its diff is one line a reader recognises.

Operators (the bugs students make in this kind of code):

  arith          + ↔ -, * ↔ /, // → /, ** → *, @ → *       (also in `x -= y`: aug-assign)
  swap-operands  a @ b → b @ a, a - b → b - a, a / b → b / a
  drop-term      a + b → a | b, a - b → a                    (a forgotten term)
  drop-factor    a * b → a | b, a / b → a                    (a forgotten factor, 1/N, 2·)
  compare        < ↔ <=, > ↔ >=, == ↔ !=, is ↔ is not
  boolean        and ↔ or, not x → x
  negate         -x → x
  constant       c → 2·c, 0 → 1                            (a constant off by a factor)
  axis           axis=/dim= k: 0 → 1, 1 → 0, -1 → 0, k → 0  (argmax, sum, softmax over the wrong axis)
  keepdims       keepdims=True dropped
  reduction      sum ↔ mean, max ↔ min, argmax ↔ argmin, maximum ↔ minimum
  transpose      x.T → x, np.transpose(x) → x
  slice          a[i:j] → a[i+1:j] | a[i:j-1]              (off by one)
  range          range(n) → range(n - 1), range(a, b) → range(a + 1, b) | range(a, b - 1)

Why not a mutation-testing library: mutmut and cosmic-ray mutate a package in place to run its test
suite (trampolines, a database of runs, parso and a dozen dependencies), and neither knows the
array bugs above (axis, transpose, keepdims, reductions). We need only "this file, one edit, its
diff", which Python's `ast` gives with exact source positions.

A mutant's id, `file:function:operator:n` (n counts that operator's mutants in that function, in
source order), stays the same when other functions change: it is what an assignment's
`EQUIVALENT` marks name.
"""
from __future__ import annotations

import ast
import copy
import difflib
import random
from dataclasses import dataclass
from typing import Callable, Iterable, Iterator, Optional

from grader.instructor.publish.template import solution_lines

OPERATORS = ("arith", "swap-operands", "drop-term", "drop-factor", "compare", "boolean", "negate", "constant",
             "axis", "keepdims", "reduction", "transpose", "slice", "range")

_ARITH = {ast.Add: ast.Sub, ast.Sub: ast.Add, ast.Mult: ast.Div, ast.Div: ast.Mult, ast.FloorDiv: ast.Div,
          ast.Pow: ast.Mult, ast.MatMult: ast.Mult}
_COMPARE = {ast.Lt: ast.LtE, ast.LtE: ast.Lt, ast.Gt: ast.GtE, ast.GtE: ast.Gt, ast.Eq: ast.NotEq,
            ast.NotEq: ast.Eq, ast.Is: ast.IsNot, ast.IsNot: ast.Is}
_REDUCTION = {"sum": "mean", "mean": "sum", "max": "min", "min": "max", "amax": "amin", "amin": "amax",
              "argmax": "argmin", "argmin": "argmax", "maximum": "minimum", "minimum": "maximum", "nansum": "nanmean"}
_AXIS_KEYWORDS = ("axis", "dim")
# operator precedence (Python's, low to high): a replacement that binds less tightly than the
# expression it replaces is parenthesised (the source's own parentheses fitted the original)
_BINOP_PREC = {ast.Add: 11, ast.Sub: 11, ast.Mult: 12, ast.Div: 12, ast.FloorDiv: 12, ast.Mod: 12,
               ast.MatMult: 12, ast.Pow: 14, ast.LShift: 10, ast.RShift: 10, ast.BitAnd: 9, ast.BitXor: 8,
               ast.BitOr: 7}


@dataclass(frozen=True)
class Mutant:
    """One automatic mutant of one reference file."""

    id: str  # file:function:operator:n
    file: str
    line: int
    function: str
    operator: str
    before: str  # the source text replaced
    after: str  # what replaces it
    source: str  # the whole mutated file
    line_before: str = ""  # the changed line, before and after (stripped)
    line_after: str = ""
    scope: str = ""  # the function whose frame runs the change (coverage's name; see _walk)

    @property
    def description(self) -> str:
        """`file:line (function): what → what`; the whole line where the edit alone says too little."""
        if len(self.before) < 16 and self.line_before:
            return f"{self.file}:{self.line} ({self.function}): {self.line_before} → {self.line_after}"
        return f"{self.file}:{self.line} ({self.function}): {self.before} → {self.after}"

    def diff(self, original: str) -> str:
        return "".join(difflib.unified_diff(original.splitlines(True), self.source.splitlines(True),
                                            f"a/{self.file}", f"b/{self.file}", n=1))


def _num(value: float | int) -> ast.expr:
    return ast.Constant(value) if value >= 0 else ast.UnaryOp(ast.USub(), ast.Constant(-value))


def _int_value(node: ast.AST) -> Optional[int]:
    """The int a node spells (`3`, `-1`), or None."""
    if isinstance(node, ast.Constant) and type(node.value) is int:
        return node.value
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub) and isinstance(node.operand, ast.Constant) \
            and type(node.operand.value) is int:
        return -node.operand.value
    return None


def _plus(node: ast.expr, k: int) -> ast.expr:
    value = _int_value(node)
    if value is not None:
        return _num(value + k)
    return ast.BinOp(copy.deepcopy(node), ast.Add() if k > 0 else ast.Sub(), ast.Constant(abs(k)))


# Each operator: node (and its parent) -> the replacement nodes it proposes.
def _arith(node, parent):
    if isinstance(node, ast.BinOp) and type(node.op) in _ARITH:
        yield ast.BinOp(node.left, _ARITH[type(node.op)](), node.right)
    if isinstance(node, ast.AugAssign) and type(node.op) in _ARITH:
        yield ast.AugAssign(node.target, _ARITH[type(node.op)](), node.value)


def _swap(node, parent):
    if isinstance(node, ast.BinOp) and isinstance(node.op, (ast.MatMult, ast.Sub, ast.Div)):
        yield ast.BinOp(node.right, node.op, node.left)


def _dropper(either: type, left_only: type) -> Callable:
    """`a either b` → `a` or `b`; `a left_only b` → `a` (what is left when one operand is forgotten)."""
    def propose(node, parent):
        if isinstance(node, ast.BinOp) and isinstance(node.op, (either, left_only)):
            yield node.left
            if isinstance(node.op, either):
                yield node.right
    return propose


_drop_term = _dropper(ast.Add, ast.Sub)
_drop_factor = _dropper(ast.Mult, ast.Div)


def _compare(node, parent):
    if isinstance(node, ast.Compare) and len(node.ops) == 1 and type(node.ops[0]) in _COMPARE:
        yield ast.Compare(node.left, [_COMPARE[type(node.ops[0])]()], node.comparators)


def _boolean(node, parent):
    if isinstance(node, ast.BoolOp):
        yield ast.BoolOp(ast.Or() if isinstance(node.op, ast.And) else ast.And(), node.values)
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not):
        yield node.operand


def _negate(node, parent):
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub) and _int_value(node) is None \
            and not (isinstance(node.operand, ast.Constant) and isinstance(node.operand.value, (int, float))):
        yield node.operand


def _constant(node, parent):
    if not (isinstance(node, ast.Constant) and type(node.value) in (int, float)):
        return
    if isinstance(parent, (ast.Slice, ast.keyword)) or (isinstance(parent, ast.UnaryOp)):
        return  # slices: `slice`; axis=: `axis`; -1: the literal is the UnaryOp's
    yield ast.Constant(node.value * 2 if node.value != 0 else type(node.value)(1))


def _axis(node, parent):
    if isinstance(node, ast.keyword) and node.arg in _AXIS_KEYWORDS:
        k = _int_value(node.value)
        if k is not None:
            yield ast.keyword(node.arg, _num({0: 1, 1: 0, -1: 0}.get(k, 0)))


def _keepdims(node, parent):
    if isinstance(node, ast.Call) and any(k.arg in ("keepdims", "keepdim") for k in node.keywords):
        yield ast.Call(node.func, node.args, [k for k in node.keywords if k.arg not in ("keepdims", "keepdim")])


def _reduction(node, parent):
    if not isinstance(node, ast.Call):
        return
    f = node.func
    if isinstance(f, ast.Attribute) and f.attr in _REDUCTION:
        yield ast.Call(ast.Attribute(f.value, _REDUCTION[f.attr], ast.Load()), node.args, node.keywords)
    elif isinstance(f, ast.Name) and f.id in ("max", "min"):
        yield ast.Call(ast.Name({"max": "min", "min": "max"}[f.id], ast.Load()), node.args, node.keywords)


def _transpose(node, parent):
    if isinstance(node, ast.Attribute) and node.attr == "T" and isinstance(node.ctx, ast.Load):
        yield node.value
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "transpose":
        if not node.args and not node.keywords:  # x.transpose()
            yield node.func.value
        elif len(node.args) == 1 and not node.keywords and isinstance(node.func.value, ast.Name):  # np.transpose(x)
            yield node.args[0]


def _slice(node, parent):
    if isinstance(node, ast.Slice) and node.step is None:
        yield ast.Slice(_plus(node.lower, 1) if node.lower is not None else ast.Constant(1), node.upper, None)
        yield ast.Slice(node.lower, _plus(node.upper, -1) if node.upper is not None else _num(-1), None)


def _range(node, parent):
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "range" \
            and 1 <= len(node.args) <= 2 and not node.keywords:
        if len(node.args) == 2:
            yield ast.Call(node.func, [_plus(node.args[0], 1), node.args[1]], [])
        yield ast.Call(node.func, node.args[:-1] + [_plus(node.args[-1], -1)], [])


_PROPOSERS: dict[str, Callable] = {
    "arith": _arith, "swap-operands": _swap, "drop-term": _drop_term, "drop-factor": _drop_factor,
    "compare": _compare, "boolean": _boolean, "negate": _negate, "constant": _constant, "axis": _axis,
    "keepdims": _keepdims, "reduction": _reduction, "transpose": _transpose, "slice": _slice, "range": _range,
}
assert tuple(_PROPOSERS) == OPERATORS


def _walk(tree: ast.AST) -> Iterator[tuple[ast.AST, Optional[ast.AST], str, str]]:
    """(node, parent, enclosing function's qualified name, the function whose frame runs it) for
    every node, in source order. The two differ for a def's or class's signature, decorators and
    bases: they are named after it but run in the enclosing frame (defaults: when it is defined)."""
    stack: list[tuple[ast.AST, Optional[ast.AST], str, str]] = [(tree, None, "<module>", "<module>")]
    while stack:
        node, parent, where, runs_in = stack.pop()
        yield node, parent, where, runs_in
        children = list(ast.iter_child_nodes(node))
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            where = node.name if where == "<module>" else f"{where}.{node.name}"
            inner = node.name if runs_in == "<module>" else f"{runs_in}.{node.name}"
            body = {id(c) for c in node.body}
            stack.extend((c, node, where, inner if id(c) in body else runs_in) for c in reversed(children))
        else:
            stack.extend((c, node, where, runs_in) for c in reversed(children))


class _Offsets:
    """ast positions (1-based line, UTF-8 byte column) to character offsets in the source."""

    def __init__(self, source: str):
        self.lines = source.splitlines(keepends=True)
        self.starts = [0]
        for line in self.lines:
            self.starts.append(self.starts[-1] + len(line))

    def __call__(self, line: int, col: int) -> int:
        text = self.lines[line - 1].encode("utf-8")[:col].decode("utf-8", errors="replace")
        return self.starts[line - 1] + len(text)


def _precedence(node: ast.AST) -> int:
    if isinstance(node, (ast.Lambda, ast.IfExp, ast.NamedExpr)):
        return 0
    if isinstance(node, ast.BoolOp):
        return 1 if isinstance(node.op, ast.Or) else 2
    if isinstance(node, ast.UnaryOp):
        return 3 if isinstance(node.op, ast.Not) else 13
    if isinstance(node, ast.Compare):
        return 4
    if isinstance(node, ast.BinOp):
        return _BINOP_PREC.get(type(node.op), 11)
    return 16  # names, calls, attributes, subscripts, literals


def _binds_operand(parent: Optional[ast.AST], original: ast.AST) -> bool:
    """True where `original` is an operand of an operator (not a statement's, an argument's or an
    element's whole expression), so a replacement that binds less tightly needs parentheses."""
    if isinstance(parent, (ast.BinOp, ast.UnaryOp, ast.BoolOp, ast.Compare, ast.Attribute, ast.Await)):
        return True
    return (isinstance(parent, ast.Subscript) and parent.value is original) or \
        (isinstance(parent, ast.Call) and parent.func is original)


def _text(node: ast.AST, original: ast.AST, parent: Optional[ast.AST]) -> str:
    text = ast.unparse(ast.fix_missing_locations(node))
    if isinstance(node, ast.expr) and isinstance(original, ast.expr) and _binds_operand(parent, original) \
            and _precedence(node) < _precedence(original):
        text = f"({text})"
    return text


def mutants(source: str, file: str, operators: Iterable[str] = OPERATORS) -> list[Mutant]:
    """Every mutant of `source` (the reference module `file`) inside its solution markers.

    Mutants whose file is the same as another's, or as the original, are left out; each returned
    mutant parses.
    """
    wanted = set(operators)
    unknown = wanted - set(OPERATORS)
    if unknown:
        raise ValueError(f"unknown mutation operators: {', '.join(sorted(unknown))}; known: {', '.join(OPERATORS)}")
    marked = solution_lines(source, file)
    if not marked:
        return []
    tree = ast.parse(source, filename=file)
    offset = _Offsets(source)
    original_dump = ast.dump(tree)
    seen: set[str] = {source}
    counters: dict[tuple[str, str], int] = {}
    out: list[Mutant] = []
    for node, parent, where, runs_in in _walk(tree):
        first, last = getattr(node, "lineno", None), getattr(node, "end_lineno", None)
        if first is None or last is None or any(n not in marked for n in range(first, last + 1)):
            continue
        start, end = offset(first, node.col_offset), offset(last, node.end_col_offset)
        before = source[start:end]
        for op in OPERATORS:
            if op not in wanted:
                continue
            for new in _PROPOSERS[op](node, parent):
                after = _text(copy.deepcopy(new), node, parent)
                mutated = source[:start] + after + source[end:]
                if mutated in seen:
                    continue
                try:
                    if ast.dump(ast.parse(mutated)) == original_dump:
                        continue
                except SyntaxError:
                    continue
                seen.add(mutated)
                n = counters.get((where, op), 0)
                counters[(where, op)] = n + 1
                line_after = mutated.splitlines()[first - 1] if first == last else ""
                out.append(Mutant(id=f"{file}:{where}:{op}:{n}", file=file, line=first, function=where,
                                  operator=op, before=" ".join(before.split()), after=" ".join(after.split()),
                                  source=mutated, line_before=offset.lines[first - 1].strip() if line_after else "",
                                  line_after=line_after.strip(), scope=runs_in))
    out.sort(key=lambda m: (m.line, m.id))
    return out


def sample(items: list[Mutant], n: Optional[int], seed: int = 0) -> list[Mutant]:
    """All of `items` (n None), or `n` of them drawn with `seed`, spread over files and operators."""
    if n is None or n >= len(items):
        return list(items)
    rng = random.Random(seed)
    groups: dict[tuple[str, str], list[Mutant]] = {}
    for m in items:
        groups.setdefault((m.file, m.operator), []).append(m)
    for g in groups.values():
        rng.shuffle(g)
    picked: list[Mutant] = []
    keys = sorted(groups)
    rng.shuffle(keys)
    while len(picked) < n:  # round robin: every (file, operator) before any twice
        for k in keys:
            if groups[k] and len(picked) < n:
                picked.append(groups[k].pop())
    return sorted(picked, key=lambda m: (m.file, m.line, m.id))

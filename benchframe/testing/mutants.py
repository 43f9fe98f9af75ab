"""Buggy variants of a design, derived mechanically from its source: one locking mistake at a time, of the kinds
the kernel's rules forbid, to measure what ``benchframe explore`` and the conformance kit catch
(``tools/mutation_score.py``).

Each operator rewrites one function of the design -- a method of its classes, of its pcp protocol, or of the
kernel's own paths it runs through -- at one site (``ast``), and the mutant is the design with that function
replaced (a subclass; a kernel method is bound on the mutant's kernel):

* ``drop-irq-save``: a ``local_irq_save()`` dropped (IRQs stay on; its restore finds them on);
* ``disable-enable``: ``local_irq_disable()``/``local_irq_enable()`` instead of ``local_irq_save()``/
  ``restore()`` (in one function, or a ``lock``/``unlock`` pair);
* ``unlock-early``: an unlock (``zone_unlock``, ``unlock``, ``local_irq_restore``, ``preempt_enable``, ...)
  moved before the statement with the charge point before it;
* ``count-outside``: ``pcp->count`` and a pcp list's emptiness read before the pcp is protected (their values
  are those before the design's ``lock()``, whatever came in between);
* ``spin-lock``: ``spin_lock(&zone->lock)`` where ``spin_lock_irqsave()`` is needed;
* ``skip-nr-free``: an ``NR_FREE_PAGES`` update left out.
"""

from __future__ import annotations

import ast
import copy
import inspect
import textwrap
import types
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from benchframe.mm.page_alloc import Kernel
from benchframe.records import Design
from benchframe.testing.mutated import HELPERS, recording

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator


OPERATORS = {
    "drop-irq-save": "a local_irq_save() dropped",
    "disable-enable": "local_irq_disable/enable instead of local_irq_save/restore",
    "unlock-early": "an unlock moved one charge point earlier",
    "count-outside": "pcp->count and list emptiness read before the pcp is protected",
    "spin-lock": "spin_lock(&zone->lock) where spin_lock_irqsave() is needed",
    "skip-nr-free": "an NR_FREE_PAGES update skipped",
}
UNLOCKS = {"zone_unlock", "unlock", "local_irq_restore", "local_irq_enable", "spin_unlock", "preempt_enable",
           "migrate_enable", "unpin"}
LOCKS = {"zone_lock", "lock", "local_irq_save", "local_irq_disable", "trylock", "preempt_disable",
         "migrate_disable", "pin"}


@dataclass(frozen=True)
class Site:
    """One place a function can be mutated: the operator, the class and function, the line."""

    operator: str
    owner: type
    function: str
    line: int
    index: int  # which occurrence in the function (or 0 for whole-function operators)

    @property
    def where(self) -> str:
        """``Class.function:line``, as the score's table names a mutant."""
        return f"{self.owner.__name__}.{self.function}:{self.line}"


def _calls(node: ast.AST, names: set[str]) -> list[ast.Call]:
    return [n for n in ast.walk(node) if isinstance(n, ast.Call) and isinstance(n.func, ast.Attribute)
            and n.func.attr in names]


def _parse(fn: Callable[..., Any]) -> ast.FunctionDef | None:
    try:
        tree = ast.parse(textwrap.dedent(inspect.getsource(fn)))
    except (OSError, TypeError, SyntaxError):
        return None
    node = tree.body[0] if tree.body else None
    return node if isinstance(node, ast.FunctionDef) else None


def _blocks(fn: ast.FunctionDef) -> Iterator[list[ast.stmt]]:
    for node in ast.walk(fn):
        for field in ("body", "orelse", "finalbody"):
            block = getattr(node, field, None)
            if isinstance(block, list) and block and isinstance(block[0], ast.stmt):
                yield block


def _unlock_moves(fn: ast.FunctionDef) -> list[tuple[list[ast.stmt], int, int]]:
    """(block, unlock index, index to move it to) for every unlock statement with a charge point before it."""
    out = []
    for block in _blocks(fn):
        for i, stmt in enumerate(block):
            if not (isinstance(stmt, ast.Expr) and _calls(stmt, UNLOCKS) and stmt.value in _calls(stmt, UNLOCKS)):
                continue
            j = next((j for j in range(i - 1, -1, -1) if _calls(block[j], {"charge"}) or
                      any(isinstance(n, ast.Call) for n in ast.walk(block[j]))), None)
            if j is not None and not _calls(block[j], LOCKS):
                out.append((block, i, j))
    return out


def _nr_free_writes(fn: ast.FunctionDef) -> list[tuple[list[ast.stmt], int]]:
    out = []
    for block in _blocks(fn):
        for i, stmt in enumerate(block):
            targets = stmt.targets if isinstance(stmt, ast.Assign) else \
                [stmt.target] if isinstance(stmt, ast.AugAssign) else []
            if any(isinstance(t, ast.Attribute) and t.attr == "nr_free_pages" for t in targets):
                out.append((block, i))
    return out


def _pcp_reads(fn: ast.FunctionDef) -> list[ast.AST]:
    """``pcp.count`` loads and ``not lst`` tests of a pcp list (``lst = pcp.lists[...]``)."""
    lists = {t.id for n in ast.walk(fn) if isinstance(n, ast.Assign) and isinstance(n.value, ast.Subscript)
             and isinstance(n.value.value, ast.Attribute) and n.value.value.attr == "lists"
             for t in n.targets if isinstance(t, ast.Name)}
    out: list[ast.AST] = []
    for n in ast.walk(fn):
        if isinstance(n, ast.Attribute) and n.attr == "count" and isinstance(n.ctx, ast.Load) \
                and isinstance(n.value, ast.Name) and n.value.id == "pcp":
            out.append(n)
        elif isinstance(n, ast.UnaryOp) and isinstance(n.op, ast.Not) and isinstance(n.operand, ast.Name) \
                and n.operand.id in lists:
            out.append(n)
    return out


def sites(owner: type, name: str, fn: Callable[..., Any]) -> list[Site]:
    """Every mutation site of ``owner.name``."""
    tree = _parse(fn)
    if tree is None:
        return []
    line = fn.__code__.co_firstlineno
    out = [Site("drop-irq-save", owner, name, line + c.lineno - 1, i)
           for i, c in enumerate(_calls(tree, {"local_irq_save"}))]
    if _calls(tree, {"local_irq_save"}):
        out.append(Site("disable-enable", owner, name, line, 0))
    out += [Site("spin-lock", owner, name, line + c.lineno - 1, i) for i, c in enumerate(_calls(tree, {"zone_lock"}))]
    out += [Site("unlock-early", owner, name, line + b[i].lineno - 1, k)
            for k, (b, i, _) in enumerate(_unlock_moves(tree))]
    out += [Site("skip-nr-free", owner, name, line + b[i].lineno - 1, k)
            for k, (b, i) in enumerate(_nr_free_writes(tree))]
    if _pcp_reads(tree) and "cpu" in {a.arg for a in tree.args.args}:
        out.append(Site("count-outside", owner, name, line, 0))
    return out


class _Rewrite(ast.NodeTransformer):
    """The rewrite of one site (``site.index``-th occurrence) in a parsed function."""

    def __init__(self, site: Site, first_arg: str):
        self.site = site
        self.first = first_arg
        self.seen = 0

    def visit_Call(self, node: ast.Call) -> ast.AST:
        """The call operators: a dropped or disable/enable ``local_irq_save``, ``spin_lock`` for ``zone_lock``."""
        self.generic_visit(node)
        op = self.site.operator
        func = node.func
        if isinstance(func, ast.Name) and func.id == "super" and not node.args:  # zero-arg super() outside a class
            node.args = [ast.Name("__class__", ast.Load()), ast.Name(self.first, ast.Load())]
            return node
        if not isinstance(func, ast.Attribute):
            return node
        if op == "drop-irq-save" and func.attr == "local_irq_save":
            self.seen += 1
            if self.seen - 1 == self.site.index:
                return ast.Attribute(func.value, "irqs_on", ast.Load())
        if op == "disable-enable" and func.attr == "local_irq_save":
            return ast.Call(ast.Name("_mut_disable", ast.Load()), [func.value], [])
        if op == "disable-enable" and func.attr == "local_irq_restore":
            return ast.Call(ast.Name("_mut_enable", ast.Load()), [func.value], [])
        if op == "spin-lock" and func.attr == "zone_lock":
            self.seen += 1
            if self.seen - 1 == self.site.index:
                return ast.Call(ast.Name("_mut_spin_lock", ast.Load()), list(node.args), [])
        return node

    def visit_Attribute(self, node: ast.Attribute) -> ast.AST:
        """``count-outside``: ``pcp.count`` as read before the design's ``lock()``."""
        self.generic_visit(node)
        if self.site.operator == "count-outside" and node.attr == "count" and isinstance(node.ctx, ast.Load) \
                and isinstance(node.value, ast.Name) and node.value.id == "pcp":
            return ast.Call(ast.Name("_mut_count", ast.Load()), [ast.Name(self.first, ast.Load()),
                                                                  ast.Name("cpu", ast.Load()), node], [])
        return node

    def visit_UnaryOp(self, node: ast.UnaryOp) -> ast.AST:
        """``count-outside``: ``not lst`` as the list was before the design's ``lock()``."""
        self.generic_visit(node)
        if self.site.operator == "count-outside" and isinstance(node.op, ast.Not) \
                and isinstance(node.operand, ast.Name):
            return ast.UnaryOp(ast.Not(), ast.Call(ast.Name("_mut_len", ast.Load()), [
                ast.Name(self.first, ast.Load()), ast.Name("cpu", ast.Load()), node.operand], []))
        return node


def mutate(fn: Callable[..., Any], site: Site) -> Callable[..., Any]:
    """``fn`` with ``site`` rewritten, compiled in its own module's globals (plus the helpers below)."""
    tree = _parse(fn)
    assert tree is not None
    tree = copy.deepcopy(tree)
    tree.decorator_list = []
    first = tree.args.args[0].arg
    if site.operator == "unlock-early":
        block, i, j = _unlock_moves(tree)[site.index]
        block.insert(j, block.pop(i))
    elif site.operator == "skip-nr-free":
        block, i = _nr_free_writes(tree)[site.index]
        block[i] = ast.Pass()
    if site.operator == "count-outside":  # only the reads the pcp's state: not lst in the parsed list names
        reads = {id(n) for n in _pcp_reads(tree)}
        rewrite = _Rewrite(site, first)
        for node in list(ast.walk(tree)):
            for field, value in ast.iter_fields(node):
                if isinstance(value, ast.AST) and id(value) in reads:
                    setattr(node, field, rewrite.visit(value))
                elif isinstance(value, list):
                    value[:] = [rewrite.visit(v) if isinstance(v, ast.AST) and id(v) in reads else v for v in value]
        _Rewrite(Site("super", site.owner, site.function, 0, 0), first).visit(tree)
    else:
        _Rewrite(site, first).visit(tree)
    module = ast.fix_missing_locations(ast.Module([tree], []))
    namespace = dict(fn.__globals__)
    namespace.update(HELPERS, __class__=site.owner)
    exec(compile(module, f"<mutant {site.operator} {site.where}>", "exec"), namespace)
    new = namespace[tree.name]
    new.__qualname__ = f"{site.owner.__name__}.{tree.name}"
    return new


# -- mutant designs -------------------------------------------------------------------------------------------------
def owners(design: Design) -> list[type]:
    """The classes whose functions make up the design: its own, its pcp protocol's, and the kernel's paths."""
    out: list[type] = []
    for cls in (*design.factory.__mro__, *design.factory.pcp_ops.__mro__, Kernel):
        if cls.__module__.startswith(("benchframe", "benchframe_plugins")) and cls not in out:
            out.append(cls)
    return out


def all_sites(design: Design) -> list[Site]:
    """Every mutation site of every function of the design's classes (``owners``), in a stable order."""
    out = []
    for owner in owners(design):
        for name, value in vars(owner).items():
            if isinstance(value, types.FunctionType) and not name.startswith("__"):
                out += sites(owner, name, value)
    return out


def mutant(design: Design, site: Site, name: str) -> Design:
    """``design`` with the function at ``site`` mutated, registered as ``name``."""
    fn = vars(site.owner)[site.function]
    new = mutate(fn, site)
    factory = design.factory
    pcp_ops = factory.pcp_ops
    ops_attrs: dict[str, Any] = {}
    if site.operator == "count-outside":
        ops_attrs.update(recording(pcp_ops))
    if site.owner in pcp_ops.__mro__:
        ops_attrs[site.function] = new
    if ops_attrs:
        pcp_ops = type(f"{pcp_ops.__name__}_mutant", (pcp_ops,), ops_attrs)
    attrs: dict[str, Any] = {"pcp_ops": pcp_ops}
    if site.owner in factory.__mro__:
        attrs[site.function] = new
    if site.owner is Kernel:
        def __init__(self: Any, k: Kernel, **options: Any) -> None:
            setattr(k, site.function, types.MethodType(new, k))
            k.unfuse()  # the fused loops would run past the mutated method
            factory.__init__(self, k, **options)
        attrs["__init__"] = __init__
    cls = type(f"{factory.__name__}_{site.operator.replace('-', '_')}", (factory,), attrs)
    return Design(name, cls, f"{design.name} with {OPERATORS[site.operator]} at {site.where}",
                  design.models, design.options, design.pcp_link_bytes, design.constraints)


__all__ = ["OPERATORS", "Site", "all_sites", "mutant", "mutate", "owners", "sites"]

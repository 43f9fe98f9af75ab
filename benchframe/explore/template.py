"""A prepared start, built once and copied for every interleaving that starts from it.

Every interleaving of one operation starts from the same state: a freshly booted kernel whose pcp lists were
warmed by allocating and freeing pages. Building it costs more than most interleavings themselves, and the model
is deterministic, so ``Prepared`` builds it once, pickles it, and gives each run an unpickled copy -- the state a
new build would have reached, object for object (dicts keep their order, lists their items).

A copy shares what no run changes instead of copying it (``persistent_id``): the registry and the design (the
plugin's modules), and the read-only inputs the start names (cost model, kernel config, topology, prices). A
long list of ints (the cache model's line per page) is copied by slicing the template's, much faster than
unpickling it. A start that cannot be pickled (a plugin that keeps a lambda or a generator) is built anew for
every run, as it was before.
"""

from __future__ import annotations

import io
import pickle
from typing import TYPE_CHECKING, Generic, TypeVar, cast

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable

T = TypeVar("T")

#: a list of ints at least this long is copied by slicing rather than pickled item by item
LONG_LIST = 1024


class _Pickler(pickle.Pickler):
    def __init__(self, file: io.BytesIO, shared: dict[int, int], lists: dict[int, list[int]]):
        super().__init__(file, protocol=pickle.HIGHEST_PROTOCOL)
        self.shared = shared
        self.lists = lists

    def persistent_id(self, obj: object) -> object:
        if (i := self.shared.get(id(obj))) is not None:
            return i
        if type(obj) is list and len(obj) >= LONG_LIST and all(type(v) is int for v in obj):
            self.lists[id(obj)] = obj
            return ("list", id(obj))
        return None


class _Unpickler(pickle.Unpickler):
    def __init__(self, blob: bytes, shared: list[object], lists: dict[int, list[int]]):
        super().__init__(io.BytesIO(blob))
        self.shared = shared
        self.lists = lists
        self.copies: dict[int, list[int]] = {}  # one copy of a list however often the state refers to it

    def persistent_load(self, pid: object) -> object:
        if isinstance(pid, int):
            return self.shared[pid]
        assert isinstance(pid, tuple)
        key = pid[1]
        if key not in self.copies:
            self.copies[key] = self.lists[key][:]
        return self.copies[key]


class Prepared(Generic[T]):
    """The start ``build()`` returns, built on the first ``fresh()`` and copied by every one (see the module
    docstring). ``shared(start)``: the objects every copy shares with it."""

    def __init__(self, build: Callable[[], T], shared: Callable[[T], Iterable[object]]):
        self.build = build
        self.shared_of = shared
        self.template: T | None = None  # kept, never run: the lists copies slice stay as they were built
        self.shared: list[object] = []
        self.lists: dict[int, list[int]] = {}
        self.blob: bytes | None = None
        self.built = False

    def fresh(self) -> T:
        """A start of its own: a copy of the template (built and pickled the first time)."""
        if not self.built:
            self.built = True
            self.template = self.build()
            self.blob = self._pickled(self.template)
        if self.blob is None:  # built for every run: the first gets the template
            start, self.template = self.template, None
            return start if start is not None else self.build()
        return cast("T", _Unpickler(self.blob, self.shared, self.lists).load())

    def _pickled(self, start: T) -> bytes | None:
        self.shared = list(self.shared_of(start))
        buf = io.BytesIO()
        try:
            _Pickler(buf, {id(o): i for i, o in enumerate(self.shared)}, self.lists).dump(start)
        except (pickle.PicklingError, TypeError, AttributeError, ValueError, RecursionError):
            self.lists.clear()
            return None  # something in the start cannot be copied this way: build each one
        return buf.getvalue()


__all__ = ["LONG_LIST", "Prepared"]

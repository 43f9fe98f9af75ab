"""The verdict cache (``explore/cache.py``) trusts an entry only if it is what it claims: the schema, the verdict,
the types, the inputs that hash to its name, the content digest. Anything else is explored again."""

from __future__ import annotations

import hashlib
import json

import pytest

from benchframe.explore.cache import SCHEMA, VerdictCache
from benchframe.explore.verdicts import PendingVerdicts, explore_verdict
from benchframe.plugins import get_registry
from benchframe.verdict import marked


@pytest.fixture
def cache(monkeypatch, tmp_path):
    monkeypatch.setenv("BENCHFRAME_CACHE_DIR", str(tmp_path))
    return VerdictCache(get_registry())


def _entry(cache, design, context):
    path, _, _ = cache.path(design, context)
    return path, json.loads(path.read_text())


def _rewrite(path, entry, redigest=True):
    content = {k: entry[k] for k in ("schema", "key", "inputs", "verdict")}
    if redigest:
        entry["digest"] = hashlib.sha256(json.dumps(content, sort_keys=True, default=str).encode()).hexdigest()
    path.write_text(json.dumps(entry))


def test_a_stored_verdict_is_read_back(cache):
    verdict = explore_verdict(cache.reg, "llist_del_first", "irq")
    assert verdict.verdict == "UNSAFE"
    assert cache.load("llist_del_first", "irq") == verdict
    path, entry = _entry(cache, "llist_del_first", "irq")
    assert entry["schema"] == SCHEMA and entry["key"] == path.stem and entry["inputs"]["design"] == "llist_del_first"


def test_a_forged_verdict_is_explored_again_and_the_unsafe_mark_stays(cache):
    """Editing UNSAFE into SAFE breaks the content digest; with a recomputed digest, a SAFE entry of another
    design copied under this one's name breaks the key: either way the design is explored again."""
    reg = cache.reg
    explore_verdict(reg, "llist_del_first", "irq")
    path, entry = _entry(cache, "llist_del_first", "irq")
    entry["verdict"]["verdict"], entry["verdict"]["reason"] = "SAFE", ""
    _rewrite(path, entry, redigest=False)
    assert cache.load("llist_del_first", "irq") is None
    with PendingVerdicts(["llist_del_first"], reg) as pending:
        assert ("llist_del_first", "irq") in pending.todo
        verdicts = pending.result()
    assert marked("llist_del_first", verdicts) == "llist_del_first [UNSAFE]"
    assert json.loads(path.read_text())["verdict"]["verdict"] == "UNSAFE"  # rewritten
    # a valid SAFE entry of another design, moved to this key with its digest recomputed
    explore_verdict(reg, "array", "irq")
    other_path, other = _entry(cache, "array", "irq")
    _rewrite(path, other)
    assert cache.load("llist_del_first", "irq") is None
    other["key"] = path.stem
    _rewrite(path, other)
    assert cache.load("llist_del_first", "irq") is None  # the inputs still name array
    other["inputs"]["design"] = "llist_del_first"
    other["verdict"]["design"] = "llist_del_first"
    _rewrite(path, other)
    assert cache.load("llist_del_first", "irq") is None  # and no longer hash to the key
    assert cache.load("array", "irq") is not None  # the original is untouched


@pytest.mark.parametrize("damage", ["schema", "enum", "types", "extra", "missing", "text", "list"])
def test_damaged_entries_are_not_trusted(cache, damage):
    explore_verdict(cache.reg, "array", "smp")
    path, entry = _entry(cache, "array", "smp")
    if damage == "schema":
        entry["schema"] = SCHEMA - 1
    elif damage == "enum":
        entry["verdict"]["verdict"] = "MAYBE"
    elif damage == "types":
        entry["verdict"]["explored_points"] = "many"
    elif damage == "extra":
        entry["verdict"]["trusted"] = True
    elif damage == "missing":
        del entry["verdict"]["reason"]
    elif damage == "list":
        entry = [entry]
    if damage == "text":
        path.write_text(path.read_text()[:40])
    elif damage == "list":
        path.write_text(json.dumps(entry))
    else:
        _rewrite(path, entry)
    assert cache.load("array", "smp") is None
    assert explore_verdict(cache.reg, "array", "smp").verdict == "SAFE"
    assert cache.load("array", "smp") is not None  # explored again and stored


def test_an_error_is_never_cached(cache, raiser_plugin):
    reg = get_registry((str(raiser_plugin),))
    own = VerdictCache(reg)
    verdict = explore_verdict(reg, "raiser", "irq")
    assert verdict.verdict == "ERROR"
    path, _, _ = own.path("raiser", "irq")
    assert not path.exists()

"""``benchframe explore``: exit status 1 only for an UNSAFE verdict the design does not declare, every verdict
with what it covered, and the JSON of the findings. (Bad arguments are in the bad-input catalogue,
``test_bad_input.py``.)"""

from __future__ import annotations

import json

import pytest

from benchframe.api import ARRAY, BulkAllocator, Design
from benchframe.cli import main
from benchframe.explore import CONTEXTS
from benchframe.plugins import get_registry


def test_cli_exit_codes_and_json(tmp_path, capsys):
    out = tmp_path / "x.json"
    assert main(["explore", "--design", "array", "--context", "irq", "--json", str(out)]) == 0
    doc = json.loads(out.read_text())[0]
    assert doc["verdict"] == "SAFE" and doc["accepted"] and doc["covered"] and doc["not_covered"]
    assert main(["explore", "--design", "llist:free=splice", "--context", "irq", "--json", str(out)]) == 1
    doc = json.loads(out.read_text())[0]
    assert doc["verdict"] == "UNSAFE" and doc["findings"][0]["steps"] == doc["steps"] and not doc["accepted"]
    assert main(["explore", "--design", "llist_del_first", "--context", "irq"]) == 1
    assert "UNSAFE" in capsys.readouterr().out


def test_single_exits_0_every_context_explored_and_the_nmi_verdict_declared(tmp_path, capsys):
    """``single`` is UNSAFE against an NMI -- every pcp allocator is, by the kernel's contract -- and SAFE
    elsewhere: nothing undeclared, exit 0; each verdict prints what it covered."""
    out = tmp_path / "s.json"
    assert main(["explore", "--designs", "single", "--json", str(out)]) == 0
    doc = json.loads(out.read_text())
    assert [r["context"] for r in doc] == list(CONTEXTS)
    assert {r["context"]: r["verdict"] for r in doc} == {"irq": "SAFE", "nmi": "UNSAFE", "smp": "SAFE",
                                                         "preempt": "SAFE"}
    text = capsys.readouterr().out
    assert "[declared: by contract" in text and text.count("  covered: ") >= 12
    assert main(["explore", "--designs", "single", "--context", "all"]) == 0


class DeclaresIrqUnsafe(BulkAllocator):
    """An array design that declares it is not to be called from a hardirq, and is not safe there."""

    shape = ARRAY
    explore_stances = {"irq": "unsafe"}

    def alloc_bulk(self, cpu, gfp, nr_pages, page_list=None, page_array=None, preferred_nid=None):
        token = cpu.local_irq_save()
        cpu.local_irq_restore(token)  # IRQs back on before the pcp is touched: what an IRQ handler breaks
        pcp = self.k.zonelists[cpu.node][0].pcp[cpu.id]
        lst = pcp.lists[0]
        got = 0
        for i in range(nr_pages):
            if not lst or page_array[i] is not None:
                break
            page = lst.del_first(cpu, 5)
            pcp.count -= 1
            self.k.mem.state[page] = 3
            self.k.mem.cpu[page] = cpu.id
            page_array[i] = page
            got += 1
        return got or super().alloc_bulk(cpu, gfp, nr_pages, page_list=page_list, page_array=page_array)


class BadStance(BulkAllocator):
    shape = ARRAY
    explore_stances = {"softirq": "unsafe"}


@pytest.fixture
def declared(monkeypatch):
    reg = get_registry()
    designs = dict(reg.designs)
    designs["declares_irq_unsafe"] = Design("declares_irq_unsafe", DeclaresIrqUnsafe, "x")
    designs["bad_stance"] = Design("bad_stance", BadStance, "x")
    monkeypatch.setattr(reg, "designs", designs)


def test_a_declared_unsafe_verdict_does_not_fail_and_a_bad_declaration_is_a_one_line_error(declared, capsys):
    assert main(["explore", "--designs", "declares_irq_unsafe", "--context", "irq"]) == 0
    assert "UNSAFE" in capsys.readouterr().out
    assert main(["explore", "--designs", "bad_stance", "--context", "irq"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "explore_stances names context 'softirq'" in err[0]


def test_first_stops_at_the_first_interleaving_that_breaks(tmp_path):
    whole, first = tmp_path / "w.json", tmp_path / "f.json"
    assert main(["explore", "--design", "llist_del_first", "--context", "irq", "--json", str(whole)]) == 1
    assert main(["explore", "--design", "llist_del_first", "--context", "irq", "--first", "--json", str(first)]) == 1
    w, f = json.loads(whole.read_text())[0], json.loads(first.read_text())[0]
    assert f["steps"] == w["steps"] and len(f["findings"]) == 1 < len(w["findings"])

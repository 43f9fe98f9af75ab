"""Every built-in design passes the conformance kit (``benchframe.testing``), as a third-party design must.

The two designs documented as unsafe under re-entrancy (``llist_del_first``; ``llist:free=splice``'s bulk free)
meet the contract without interrupts; with them the kit's random sequences break them
(``tests/testing/test_conformance.py``), as ``benchframe explore`` does."""

from __future__ import annotations

from benchframe.testing import conformance_suite

TestSingle = conformance_suite("single")
TestList = conformance_suite("list")
TestArray = conformance_suite("array")
TestTwopass = conformance_suite("twopass")
TestLlist = conformance_suite("llist")
TestLlistBatch = conformance_suite("llist:free=batch")
TestLlistSplice = conformance_suite("llist:free=splice", interrupts=False)
TestLlistDelFirst = conformance_suite("llist_del_first", interrupts=False)
TestLocallock = conformance_suite("locallock")
TestLocallockRT = conformance_suite("locallock", config=("PREEMPT_RT",))
TestPreempt = conformance_suite("preempt")

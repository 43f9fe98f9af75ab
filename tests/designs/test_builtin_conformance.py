"""Every built-in design passes the conformance kit (``benchframe.testing``), as a third-party design must."""

from __future__ import annotations

from benchframe.testing import conformance_suite

TestSingle = conformance_suite("single")
TestList = conformance_suite("list")
TestArray = conformance_suite("array")
TestTwopass = conformance_suite("twopass")
TestLlist = conformance_suite("llist")
TestLlistSplice = conformance_suite("llist:free=splice")
TestLocallock = conformance_suite("locallock")
TestLocallockRT = conformance_suite("locallock", config=("PREEMPT_RT",))

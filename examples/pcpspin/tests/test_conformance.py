"""pcpspin passes the benchframe design contract."""

from benchframe.testing import conformance_suite

TestPcpSpin = conformance_suite("pcpspin")
TestPcpSpinRT = conformance_suite("pcpspin", config=("PREEMPT_RT",))

"""Real page-allocation traces: import perf script, ftrace or trace-cmd text (or a perf.data or trace.dat, through
its tool) into a compact events file, and summarise it per call site (issue #15); the trace workload replays it."""

"""Real page-allocation traces: import perf script or ftrace text into a compact events file, and summarise it
per call site (issue #15). The replay workload that runs a trace on every design comes later."""

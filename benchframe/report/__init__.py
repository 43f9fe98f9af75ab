"""Reports a kernel developer reads, rendered from a ``Snapshot`` (never the registry, the runner or the
explorer): statistics over seeds, compare-kernels tables, a section per study, the tables about the designs,
the comparison document with its plots, and the asv history."""

"""Reports a kernel developer reads: statistics over seeds, compare-kernels tables, the comparison document
with its plots, the studies it is made of, loading saved results, and the asv history."""

"""The simulated hardware: topology, CPUs and their interrupt state, the cost model."""

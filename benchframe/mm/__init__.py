"""The simulated kernel memory management around the bulk API: struct page, zones, the buddy allocator,
per-CPU page lists, watermarks, the single-page allocator and free paths, and the building blocks designs
are made of. Each function that models a kernel function names it and the version in its docstring."""

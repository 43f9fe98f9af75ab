"""The ``benchframe`` command line: ``main`` in ``benchframe.cli.main``, one module per command."""

from __future__ import annotations

import os

# before numpy loads: one BLAS thread per process. The simulator runs one process per core (--jobs); the model
# check's fits are a few small matrices, on which OpenBLAS's threads would only spin, taking CPU from the cells
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

from benchframe.cli.main import main  # after the BLAS setting

__all__ = ["main"]

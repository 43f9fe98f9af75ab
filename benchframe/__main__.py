"""``python -m benchframe``: the ``benchframe`` command."""

import sys

from benchframe.cli.main import main

sys.exit(main())

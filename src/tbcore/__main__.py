"""``python -m tbcore``: the same as the ``tbcore`` command."""

from __future__ import annotations

import sys

from tbcore.cli import main

sys.exit(main())

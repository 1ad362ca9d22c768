"""``python -m importer.sandbox [options]``: the sandbox in a process of its own."""

import sys

from importer.sandbox.cli import main

sys.exit(main())

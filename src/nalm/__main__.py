"""``python -m nalm``: the ``nalm`` command."""
import sys

from .cli.main import main

sys.exit(main())

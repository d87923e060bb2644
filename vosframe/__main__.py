"""``python -m vosframe`` (also what ``torchrun -m vosframe train ...`` runs)."""

import sys

from vosframe.cli.main import main

sys.exit(main())

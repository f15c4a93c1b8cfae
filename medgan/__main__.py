"""``python -m medgan`` == ``medgan`` (also the entry for ``torchrun -m medgan train ...``)."""
import sys

from medgan.cli import main

sys.exit(main())

"""`python -m bot` is `collectif`."""

import sys

from bot.cli import main

sys.exit(main())

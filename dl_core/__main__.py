import sys

from dl_core.cli import main

sys.exit(main())

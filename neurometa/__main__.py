import sys

from neurometa.cli import main

sys.exit(main())

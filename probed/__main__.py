import sys

from probed.cli import main

sys.exit(main())

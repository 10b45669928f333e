import sys

from mnist_desk.cli import main

sys.exit(main())

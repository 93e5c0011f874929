import sys

try:  # torch takes seconds to import: Ctrl-C then is a stop, not a traceback
    from .cli import main
    sys.exit(main())
except KeyboardInterrupt:
    print("interrupted", file=sys.stderr)
    sys.exit(130)

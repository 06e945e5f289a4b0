"""python -m kmsim: the kmsim command."""
from .cli import main

raise SystemExit(main())

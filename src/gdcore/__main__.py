"""``python -m gdcore``: the gdcore command."""

from .cli import main

raise SystemExit(main())

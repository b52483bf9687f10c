"""``python -m tcnn_widgets``: the ``tcnn-widgets`` command."""

from .cli import main

raise SystemExit(main())

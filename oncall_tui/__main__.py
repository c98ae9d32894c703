"""`python -m oncall_tui` runs the same command line as `oncall-tui`."""

from oncall_tui.cli import main

raise SystemExit(main())

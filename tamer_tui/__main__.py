"""`python -m tamer_tui` runs the same entry point as the `tamer` console script."""

from tamer_tui.cli import main

if __name__ == "__main__":
    raise SystemExit(main())

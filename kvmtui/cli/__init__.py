"""The command line: `kvmtui` (the console), `kvmtui top` and `kvmtui inspect`."""

from kvmtui.cli.main import main

__all__ = ["main"]

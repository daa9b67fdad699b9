"""Everything that talks to libvirt, /proc and debugfs.

This package must never import Textual: it is used by batch modes and tests on its own, and it
reports through plain callables so the UI layer decides how to turn reports into messages.
"""

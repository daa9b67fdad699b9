"""kvmtui: a keyboard-driven terminal console for KVM virtual machines managed by libvirt."""

__version__ = "0.1.0"

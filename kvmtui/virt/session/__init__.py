"""Sessions with libvirt: the event loop, one Connection per URI, the Fleet of them, and
how their failures read."""

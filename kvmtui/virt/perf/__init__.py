"""Performance: the bulk stats sampler, rates, KVM exit counters (libvirt and debugfs), QEMU
processes and the host."""

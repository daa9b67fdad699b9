"""KVM's own counters from debugfs, for local domains, and the QEMU process of a domain.

Layout (Linux >= 5.14): /sys/kernel/debug/kvm/<stat> sums a counter over every VM on the host;
/sys/kernel/debug/kvm/<qemu-pid>-<vm-fd>/<stat> is one VM's, summed over its vCPUs. Counters
that only grow are the files KVM lets root clear (mode 0644); the read-only files are gauges
(pages_4k, mmu_unsync…) and histograms (*_hist), which are not exits and are left out.

Reading needs root, a mounted debugfs and no kernel lockdown: a locked-down kernel refuses to
open writable debugfs files, which is every counter. Each refusal is turned into one sentence
the user can act on.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Iterable
from pathlib import Path

DEBUGFS_ROOT = Path("/sys/kernel/debug")
LOCKDOWN_FILE = Path("/sys/kernel/security/lockdown")


class DebugfsUnavailable(Exception):
    """debugfs cannot give KVM counters here; str() says why, in one line."""


def read_counters(directory: Path, names: Iterable[str] | None = None) -> dict[str, int]:
    """The cumulative counters of one debugfs kvm directory, by the kernel's stat name.

    names: only these (a domain nobody looks at closely needs `exits` alone), else all."""
    counters: dict[str, int] = {}
    wanted = None if names is None else frozenset(names)
    try:
        # still listed, not opened by name: the listing tells a gone VM from a missing stat
        entries = [entry for entry in os.scandir(directory)
                   if wanted is None or entry.name in wanted]
    except FileNotFoundError:
        raise DebugfsUnavailable(f"{directory} is gone (the VM stopped)") from None
    except PermissionError:
        raise DebugfsUnavailable(_permission_reason()) from None
    for entry in entries:
        try:
            if entry.name.endswith("_hist") or not entry.is_file(follow_symlinks=False):
                continue
            if not entry.stat(follow_symlinks=False).st_mode & stat.S_IWUSR:
                continue  # a gauge, not a counter
        except OSError:
            continue  # the VM went away between listing and reading
        try:
            with open(entry.path, "rb") as f:
                text = f.read(64)
        except PermissionError:
            raise DebugfsUnavailable(_permission_reason()) from None
        except OSError:
            continue  # the VM went away mid-read
        try:
            counters[entry.name] = int(text)
        except ValueError:
            continue
    return counters


def vm_directories(root: Path = DEBUGFS_ROOT) -> dict[int, Path]:
    """QEMU process id -> that process's VM directory under kvm/."""
    found: dict[int, tuple[int, Path]] = {}
    try:
        names = os.listdir(root / "kvm")
    except OSError:
        return {}
    for name in names:
        pid_text, dash, fd_text = name.partition("-")
        if not dash or not pid_text.isdigit() or not fd_text.isdigit():
            continue
        pid, fd = int(pid_text), int(fd_text)
        if pid not in found or fd > found[pid][0]:  # one VM per QEMU; the newest fd wins
            found[pid] = (fd, root / "kvm" / name)
    return {pid: path for pid, (fd, path) in found.items()}


def probe(root: Path = DEBUGFS_ROOT) -> str | None:
    """None when KVM's debugfs counters can be read here, else the reason they cannot."""
    kvm = root / "kvm"
    try:
        present = kvm.is_dir()
    except PermissionError:
        present = False
    if not present:
        if os.geteuid() != 0:
            return "reading KVM's debugfs counters needs root (kvmtui runs as " \
                   f"uid {os.geteuid()})"
        if not os.path.ismount(root):
            return f"debugfs is not mounted: mount -t debugfs none {root}"
        return f"no {kvm}: the kvm module is not loaded"
    try:
        read_counters(kvm)
    except DebugfsUnavailable as err:
        return str(err)
    return None


def _permission_reason() -> str:
    if os.geteuid() != 0:
        return f"reading KVM's debugfs counters needs root (kvmtui runs as uid {os.geteuid()})"
    mode = lockdown_mode()
    return (f"the kernel is locked down ({mode or 'lockdown'}), which forbids reading KVM's "
            "debugfs counters (see kernel_lockdown(7))")


def lockdown_mode() -> str | None:
    """'integrity' or 'confidentiality' when the kernel is locked down, else None."""
    try:
        text = LOCKDOWN_FILE.read_text()
    except OSError:
        return None
    for word in text.split():
        if word.startswith("[") and word != "[none]":
            return word.strip("[]")
    return None

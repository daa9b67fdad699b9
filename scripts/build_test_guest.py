#!/usr/bin/env python3
"""Build the small Linux guest the integration tests boot, from Debian packages only.

The guest is Debian's cloud kernel plus an initramfs of busybox-static. Its init mounts the
usual file systems, loads evdev.ko and button.ko from the kernel package, runs busybox acpid so
the ACPI power button powers it off (a graceful `virsh shutdown` then really completes), and
prints a ready line on the serial console every time it has booted.

When the kernel command line holds the word `kvmtui.shell`, init also runs an interactive login
shell (prompt `guest# `) on ttyS0, respawned whenever it exits, with ttyS0 as its controlling
terminal so job control and ctrl+c work; and if the guest has a virtio console, another one
(prompt `guest-hvc0# `) on hvc0. Such a guest puts its kernel console elsewhere
(`console=ttyS1`): the ready line goes to /dev/console.

The result is cached (default ~/.cache/kvmtui/test-guest, or $KVMTUI_CACHE/test-guest): later
runs reuse it. Prints the directory holding `vmlinuz` and `initramfs.img`.

    scripts/build_test_guest.py [--cache DIR]
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

READY_LINE = "KVMTUI-GUEST-READY"

SHELL_WORD = "kvmtui.shell"  # on the kernel command line: shells on ttyS0 (and hvc0)
SHELL_PROMPT = "guest# "
HVC_PROMPT = "guest-hvc0# "

# Loaded (in this order) only for a shell guest: what the virtio console (hvc0) needs.
VIRTIO_MODULES = ("drivers/virtio/virtio_ring.ko", "drivers/virtio/virtio.ko",
                  "drivers/virtio/virtio_pci_legacy_dev.ko",
                  "drivers/virtio/virtio_pci_modern_dev.ko", "drivers/virtio/virtio_pci.ko",
                  "drivers/char/virtio_console.ko")
MODULES = ("drivers/input/evdev.ko", "drivers/acpi/button.ko", *VIRTIO_MODULES)

# /bin/shell-on TTY PROMPT: a login shell on /dev/TTY for ever (respawned when it exits).
# `setsid -c` makes TTY the shell's controlling terminal, so ctrl+c and job control work.
# (busybox cttyhack would not do: without a controlling tty it takes the *kernel console* from
# /sys/class/tty/console/active, ttyS1 in a shell guest, whatever stdin is.)
SHELL_ON = """#!/bin/sh
while true; do
    stty -F /dev/$1 sane 2>/dev/null
    HOME=/ TERM=xterm PS1="$2" setsid -c sh -l </dev/$1 >/dev/$1 2>&1
    sleep 0.2
done
"""

# shell-on is started by start-stop-daemon -b, not with `&`: a non-interactive shell starts
# `&` jobs with SIGINT and SIGQUIT ignored, for good (their shells could not undo it and ctrl+c
# would reach nothing), while start-stop-daemon run in the foreground keeps init's defaults.
INIT = f"""#!/bin/busybox sh
/bin/busybox --install -s /bin
mkdir -p /proc /sys /dev /tmp /run
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
insmod /lib/modules/evdev.ko
insmod /lib/modules/button.ko
# busybox acpid dies silently without a log target that exists
acpid -l /dev/console
case " $(cat /proc/cmdline) " in
*" {SHELL_WORD} "*)
    start-stop-daemon -S -b -x /bin/shell-on -- ttyS0 '{SHELL_PROMPT}'
    for m in {" ".join(m.rsplit("/", 1)[1] for m in VIRTIO_MODULES)}; do insmod /lib/modules/$m; done
    if grep -qx 0x0003 /sys/bus/virtio/devices/*/device 2>/dev/null; then  # a virtio console
        for i in $(seq 50); do [ -e /dev/hvc0 ] && break; sleep 0.1; done
        start-stop-daemon -S -b -x /bin/shell-on -- hvc0 '{HVC_PROMPT}'
    fi
    ;;
esac
echo "{READY_LINE} $(cat /proc/uptime)" > /dev/console
while true; do sleep 3600; done
"""

POWER_BUTTON = "#!/bin/sh\necho 'power button: powering off' > /dev/console\npoweroff -f\n"


def default_cache() -> Path:
    base = os.environ.get("KVMTUI_CACHE") or os.path.join(
        os.environ.get("XDG_CACHE_HOME", os.path.expanduser("~/.cache")), "kvmtui")
    return Path(base) / "test-guest"


def kernel_package() -> str:
    out = subprocess.run(["apt-cache", "depends", "linux-image-cloud-amd64"], capture_output=True,
                         text=True, check=False).stdout
    for line in out.splitlines():
        line = line.strip()
        if line.startswith("Depends: linux-image-"):
            return line.split()[1]
    raise RuntimeError("apt-cache knows no linux-image-cloud-amd64 (run apt-get update)")


def apt_download(packages: list[str], into: Path) -> list[Path]:
    def attempt() -> subprocess.CompletedProcess:
        return subprocess.run(["apt-get", "download", *packages], cwd=into, capture_output=True,
                              text=True)

    result = attempt()
    if result.returncode != 0:  # a fresh machine has no package lists yet
        subprocess.run(["apt-get", "update", "-qq"], check=True)
        result = attempt()
    if result.returncode != 0:
        raise RuntimeError(f"apt-get download {' '.join(packages)} failed: {result.stderr.strip()}")
    return sorted(into.glob("*.deb"))


def build(cache: Path) -> Path:
    try:
        kpkg = kernel_package()
    except RuntimeError:
        subprocess.run(["apt-get", "update", "-qq"], check=True)
        kpkg = kernel_package()
    key = hashlib.sha256(f"{kpkg}\n{INIT}\n{SHELL_ON}\n{POWER_BUTTON}\n{MODULES}".encode()).hexdigest()[:16]
    target = cache / key
    if (target / "vmlinuz").exists() and (target / "initramfs.img").exists():
        return target
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        debs = tmp / "debs"
        debs.mkdir()
        os.chmod(debs, 0o777)  # apt's sandbox user must be able to write there
        apt_download([kpkg, "busybox-static"], debs)
        for deb in debs.glob("*.deb"):
            subprocess.run(["dpkg-deb", "-x", str(deb), str(tmp / "x")], check=True)
        x = tmp / "x"
        (vmlinuz,) = (x / "boot").glob("vmlinuz-*")
        (moddir,) = (x / "lib" / "modules").iterdir()
        root = tmp / "root"
        for sub in ("bin", "lib/modules", "etc/acpi/PWRF", "proc", "sys", "dev", "tmp"):
            (root / sub).mkdir(parents=True, exist_ok=True)
        shutil.copy2(x / "bin" / "busybox", root / "bin" / "busybox")
        for module in MODULES:
            shutil.copy2(moddir / "kernel" / module, root / "lib/modules" / Path(module).name)
        (root / "init").write_text(INIT)
        (root / "etc/acpi/PWRF/00000080").write_text(POWER_BUTTON)
        (root / "bin/shell-on").write_text(SHELL_ON)
        os.chmod(root / "bin/shell-on", 0o755)
        os.chmod(root / "init", 0o755)
        os.chmod(root / "etc/acpi/PWRF/00000080", 0o755)
        files = subprocess.run("find . | sort", shell=True, cwd=root, capture_output=True,
                               check=True).stdout
        archive = subprocess.run(["cpio", "--quiet", "-o", "-H", "newc", "--owner=0:0"],
                                 input=files, cwd=root, capture_output=True, check=True).stdout
        staging = cache / f".{key}.tmp"
        shutil.rmtree(staging, ignore_errors=True)
        staging.mkdir(parents=True)
        shutil.copy2(vmlinuz, staging / "vmlinuz")
        (staging / "initramfs.img").write_bytes(gzip.compress(archive))
        (staging / "kernel-package").write_text(kpkg + "\n")
        shutil.rmtree(target, ignore_errors=True)
        staging.rename(target)  # appears whole, or not at all
    return target


def main() -> int:
    parser = argparse.ArgumentParser(description="Build (or find cached) the integration test guest.")
    parser.add_argument("--cache", type=Path, default=default_cache())
    args = parser.parse_args()
    print(build(args.cache))
    return 0


if __name__ == "__main__":
    sys.exit(main())

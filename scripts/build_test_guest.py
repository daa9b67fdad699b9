#!/usr/bin/env python3
"""Build the small Linux guest the integration tests boot, from Debian packages only.

The guest is Debian's cloud kernel plus an initramfs of busybox-static. Its init mounts the
usual file systems, loads evdev.ko and button.ko from the kernel package, runs busybox acpid so
the ACPI power button powers it off (a graceful `virsh shutdown` then really completes), and
prints a ready line on the serial console every time it has booted.

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
    key = hashlib.sha256(f"{kpkg}\n{INIT}\n{POWER_BUTTON}".encode()).hexdigest()[:16]
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
        shutil.copy2(moddir / "kernel/drivers/input/evdev.ko", root / "lib/modules/evdev.ko")
        shutil.copy2(moddir / "kernel/drivers/acpi/button.ko", root / "lib/modules/button.ko")
        (root / "init").write_text(INIT)
        (root / "etc/acpi/PWRF/00000080").write_text(POWER_BUTTON)
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

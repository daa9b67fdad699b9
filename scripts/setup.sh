#!/usr/bin/env bash
# Set up kvmtui in ./.venv on a fresh machine.
#   scripts/setup.sh          what `kvmtui` needs
#   scripts/setup.sh --test   that, plus what the test suite needs
# libvirt-python is built from source, so the libvirt headers, pkg-config, a C compiler and the
# Python headers must be present. On Debian/Ubuntu this script installs the missing ones with
# apt-get (through sudo when not root); elsewhere it names them and stops.
set -euo pipefail
cd "$(dirname "$0")/.."

want_test=0
[[ "${1:-}" == "--test" ]] && want_test=1

PYTHON=${PYTHON:-python3}
if ! "$PYTHON" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
    echo "setup: kvmtui needs Python 3.11 or newer ($PYTHON is $("$PYTHON" -V 2>&1 || echo missing))" >&2
    exit 1
fi

missing=()
command -v pkg-config >/dev/null || missing+=(pkg-config)
pkg-config --exists libvirt 2>/dev/null || missing+=(libvirt-dev)
command -v gcc >/dev/null || missing+=(gcc)
"$PYTHON" -c 'import sysconfig, os, sys; sys.exit(not os.path.exists(os.path.join(sysconfig.get_paths()["include"], "Python.h")))' \
    || missing+=(python3-dev)
"$PYTHON" -c 'import ensurepip' 2>/dev/null || missing+=(python3-venv)
if (( want_test )); then
    # the integration tier: a private libvirtd running real QEMU guests built from packages
    command -v virsh >/dev/null || missing+=(libvirt-clients)
    [[ -x /usr/sbin/libvirtd ]] || missing+=(libvirt-daemon)
    [[ -e /usr/lib/x86_64-linux-gnu/libvirt/connection-driver/libvirt_driver_qemu.so ]] \
        || [[ -n "$(find /usr/lib* -name libvirt_driver_qemu.so 2>/dev/null | head -1)" ]] \
        || missing+=(libvirt-daemon-driver-qemu)
    command -v qemu-system-x86_64 >/dev/null || missing+=(qemu-system-x86)
    command -v qemu-img >/dev/null || missing+=(qemu-utils)
    command -v cpio >/dev/null || missing+=(cpio)
    command -v unshare >/dev/null || missing+=(util-linux)
    # libvirt over ssh: a throwaway sshd on 127.0.0.1 (no system ssh service), nc on its side
    [[ -x /usr/sbin/sshd ]] || missing+=(openssh-server)
    { command -v ssh && command -v ssh-keygen; } >/dev/null || missing+=(openssh-client)
    command -v nc >/dev/null || missing+=(netcat-openbsd)
fi

if (( ${#missing[@]} )); then
    if command -v apt-get >/dev/null; then
        sudo=""
        (( EUID == 0 )) || sudo="sudo"
        echo "setup: installing ${missing[*]} with apt-get"
        export DEBIAN_FRONTEND=noninteractive
        $sudo apt-get update -qq
        $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
    else
        cat >&2 <<MSG
setup: missing: ${missing[*]}
Install the equivalents with your package manager, then run this again:
  Fedora/RHEL:  sudo dnf install libvirt-devel pkgconf-pkg-config gcc python3-devel
  openSUSE:     sudo zypper install libvirt-devel pkg-config gcc python3-devel
  Arch:         sudo pacman -S libvirt pkgconf gcc python
  Alpine:       sudo apk add libvirt-dev pkgconf gcc python3-dev musl-dev
MSG
        exit 1
    fi
fi

if (( want_test && EUID == 0 )); then
    # The system libvirtd refuses to start without its QEMU user and groups, which Debian's
    # libvirt-daemon-system would create (along with services we do not want on the host).
    getent group kvm >/dev/null || groupadd -r kvm
    getent group libvirt-qemu >/dev/null || groupadd -r libvirt-qemu
    id libvirt-qemu >/dev/null 2>&1 \
        || useradd -r -g libvirt-qemu -G kvm -d /var/lib/libvirt -s /usr/sbin/nologin libvirt-qemu
fi

[[ -x .venv/bin/python ]] || "$PYTHON" -m venv .venv
extra=""
(( want_test )) && extra="[test]"
# compat: a plain path in a .pth file. The default editable finder imports pathlib and more
# at every Python start, ~8 ms of kvmtui's start-up that an installed kvmtui never pays.
.venv/bin/python -m pip install -q --disable-pip-version-check -e ".${extra}" \
    --config-settings editable_mode=compat

#!/usr/bin/env bash
# Set everything up, then open the demo lab (libvirt's test driver: no daemon, no VMs harmed).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
exec .venv/bin/kvmtui --demo "$@"

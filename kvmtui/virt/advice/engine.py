"""advise(): every rule on one VM's inputs, worst first, plus at most one note of what could
not be checked (never one per rule)."""

from __future__ import annotations

from collections.abc import Callable

from kvmtui.virt.advice import config_rules, host_rules, rate_rules
from kvmtui.virt.advice.model import INFO, SEVERITIES, Finding, Inputs

Rule = Callable[[Inputs], list[Finding]]

# Measured now first (rates), then the host, then the definition: within one severity, what
# costs CPU this very tick comes first.
RULES: tuple[Rule, ...] = (*rate_rules.RULES, *host_rules.RULES, *config_rules.RULES)
NOT_CHECKED = "not-checked"


def advise(inputs: Inputs) -> list[Finding]:
    """Every finding on this VM: problems first, then warnings, then info. Reads only."""
    findings = [finding for rule in RULES for finding in rule(inputs)]
    note = not_checked(inputs)
    if note is not None:
        findings.append(note)
    rank = {severity: i for i, severity in enumerate(SEVERITIES)}
    return sorted(findings, key=lambda f: rank[f.severity])   # stable: RULES order kept


def worst(findings: list[Finding]) -> str | None:
    """The worst severity among the findings (for a mark in a list), None without any."""
    severities = {f.severity for f in findings}
    return next((s for s in SEVERITIES if s in severities), None)


def _rates_missing(inputs: Inputs) -> str | None:
    stats = inputs.stats
    if stats is None:
        return "exit rates and steal: not sampled"
    if stats.exits is None:
        return f"exit rates: {stats.exits_unavailable_reason or 'no exit counters reported'}"
    if not stats.exits_detail:
        return "exit rates by reason: only the total was sampled (no detail)"
    if all(c.rate is None for c in stats.exits.values()):
        return "exit rates: one sample only, a rate needs two"
    return None


def not_checked(inputs: Inputs) -> Finding | None:
    """One info finding listing what the rules could not know, or None."""
    missing = []
    kind = inputs.domain.overview.hypervisor
    # under TCG there are no exits to count: the tcg finding says why
    if inputs.running and kind != "qemu":
        rates = _rates_missing(inputs)
        if rates:
            missing.append(rates)
        elif inputs.stats is not None and all(v.steal_percent is None
                                              for v in inputs.stats.vcpus):
            missing.append("steal: vcpu.N.delay not reported")
    if kind == "kvm":
        host = inputs.host
        if host is None or host.node is None:
            missing.append("host: CPU count, NUMA and guest types not read")
        virt = host.virt if host else None
        if virt is None or virt.second_level_paging is None:
            where = f" ({virt.source})" if virt else ""
            if virt is not None and virt.cpu_extension is None:
                # KVM without VT-x/AMD-V flags (nested without them, PVM): nothing to read
                where = f" ({virt.source}: no vmx or svm CPU flag)"
            missing.append(f"host EPT/NPT and VPID: unknown{where}")
    if not missing:
        return None
    return Finding(
        NOT_CHECKED, INFO, "Some checks could not be made", tuple(missing),
        "Nothing to change: these checks need a running VM with exit counters (libvirt "
        "≥ 7 on Linux ≥ 5.14, or debugfs for a local VM), two samples, and for EPT/VPID "
        "the host's own /proc (a local URI).")

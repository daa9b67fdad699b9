"""Names of KVM's cumulative counters: the kernel's stat name -> the reason key we show.

libvirt reports them as `vcpu.N.<stat>.sum` and debugfs as files named `<stat>`; both use the
kernel's names (arch/x86/kvm/x86.c, `kvm_vcpu_stats_desc`). The key drops the `_exits` suffix
so scripts read `exits["io"]`, and the all-reasons counter `exits` becomes `total`.
"""

from __future__ import annotations

# Reasons worth a word of explanation, in kvm_stat's spirit; every other counter is still
# shown, under its own key.
DESCRIPTIONS = {
    "total": "all VM exits",
    "io": "port I/O (in/out) handled by QEMU or KVM",
    "mmio": "memory-mapped I/O sent to QEMU",
    "halt": "guest ran HLT (idle vCPU)",
    "irq": "external interrupt on the host CPU",
    "irq_window": "waiting to inject an interrupt",
    "nmi_window": "waiting to inject an NMI",
    "request_irq": "exit to QEMU to inject an interrupt",
    "signal": "a signal made the vCPU thread return to QEMU",
    "insn_emulation": "instruction emulated by KVM",
    "insn_emulation_fail": "instruction KVM could not emulate",
    "hypercalls": "guest hypercalls",
    "nmi_injections": "NMIs injected",
    "irq_injections": "interrupts injected",
    "pf_fixed": "page faults fixed by KVM",
    "pf_guest": "page faults reflected to the guest",
    "tlb_flush": "guest TLB flushes",
    "invlpg": "INVLPG instructions",
    "halt_wakeup": "halted vCPU woken",
    "host_state_reload": "full host state reloads",
    "fpu_reload": "FPU state reloads",
    "pf_taken": "page faults KVM handled (EPT/NPT violations included)",
    "pf_emulate": "page faults resolved by emulating the instruction",
    "pf_spurious": "page faults already fixed by another vCPU",
    "pf_fast": "page faults fixed without taking the MMU lock",
    "pf_mmio_spte_created": "MMIO page-table entries created",
    "req_event": "checks for an event to inject (KVM_REQ_EVENT)",
    "preemption_reported": "host preemptions reported to the guest (steal time)",
    "preemption_other": "host preemptions while outside guest code",
    "directed_yield_attempted": "yields to a lock holder's vCPU tried (PV spinlocks)",
    "directed_yield_successful": "yields that reached the lock holder's vCPU",
    "halt_attempted_poll": "halts that polled before sleeping",
    "halt_successful_poll": "halts ended by an event while polling",
    "halt_poll_invalid": "polls stopped by a wakeup that was not an event",
    "nested_run": "entries into a nested guest",
    "notify_window": "guest held the CPU without an exit too long",
    "l1d_flush": "L1 data cache flushes (L1TF mitigation)",
}

# The reasons `kvmtui top --csv` always has a column for (JSON carries every counter).
CSV_REASONS = ("total", "io", "mmio", "halt", "irq", "irq_window", "insn_emulation",
               "signal", "hypercalls", "nmi_window")


def reason_key(stat: str) -> str:
    """'exits' -> 'total', 'io_exits' -> 'io', 'insn_emulation' -> 'insn_emulation'."""
    if stat == "exits":
        return "total"
    if stat.endswith("_exits"):
        return stat[: -len("_exits")]
    return stat


def describe(reason: str) -> str:
    return DESCRIPTIONS.get(reason, "")

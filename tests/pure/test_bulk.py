"""What a power key means for a set of marked VMs, who is skipped and why, and the summary."""

from __future__ import annotations

from kvmtui.virt.domain.bulk import BulkRun, bulk_meaning, plan_power, plan_snapshot
from kvmtui.virt.domain.power import PowerAction as A
from kvmtui.virt.models import DomainState, DomainSummary
from tests.pure.factories import summary as vm

RUNNING, PAUSED, SHUTOFF = DomainState.RUNNING, DomainState.PAUSED, DomainState.SHUTOFF


def reachable(summary: DomainSummary) -> str | None:
    return None


def test_p_pauses_when_any_marked_vm_runs_else_resumes():
    assert bulk_meaning([A.PAUSE, A.RESUME], [vm("a", RUNNING), vm("b", PAUSED)]) is A.PAUSE
    assert bulk_meaning([A.PAUSE, A.RESUME], [vm("b", PAUSED)]) is A.RESUME
    assert bulk_meaning([A.PAUSE, A.RESUME], [vm("c", SHUTOFF)]) is None


def test_s_brings_each_vm_up_as_its_state_allows():
    marked = [vm("off", SHUTOFF), vm("saved", SHUTOFF, managed_save=True),
              vm("asleep", DomainState.PMSUSPENDED), vm("up", RUNNING)]
    assert bulk_meaning([A.START, A.RESTORE, A.WAKEUP], marked) is A.START
    plan = plan_power(A.START, marked, reachable)
    assert {(t.summary.name, t.action) for t in plan.targets} == {
        ("off", A.START), ("saved", A.RESTORE), ("asleep", A.WAKEUP)}
    assert [(s.name, why) for s, why in plan.skipped] == [
        ("up", "running: start is for a shut-off VM")]


def test_unreachable_hosts_are_skipped_with_their_reason():
    plan = plan_power(A.SHUTDOWN, [vm("a", RUNNING), vm("b", RUNNING)],
                      lambda s: "x is disconnected" if s.name == "b" else None)
    assert [t.summary.name for t in plan.targets] == ["a"]
    assert plan.skipped[0][1] == "x is disconnected"
    snap = plan_snapshot([vm("a", RUNNING), vm("b", SHUTOFF)],
                         lambda s: "x is disconnected" if s.name == "b" else None)
    assert [t.summary.name for t in snap.targets] == ["a"]


def test_destructive_plans_carry_their_risk():
    plan = plan_power(A.FORCE_OFF, [vm("a", RUNNING)], reachable)
    assert plan.destructive and "power cord" in plan.risk
    assert not plan_power(A.PAUSE, [vm("a", RUNNING)], reachable).destructive


def test_summary_counts_successes_failures_and_skips_with_libvirts_words():
    plan = plan_power(A.PAUSE, [vm(n, RUNNING) for n in "abcdef"] + [vm("z", SHUTOFF)], reachable)
    run = BulkRun.of(plan)
    for name in "abcde":
        run.finished(A.PAUSE, name, None)
    assert not run.complete
    run.finished(A.PAUSE, "f", "Requested operation is not valid: domain is not running")
    assert run.complete
    assert run.summary() == ("5 paused, 1 failed (1 skipped): f: Requested operation is not "
                             "valid: domain is not running")

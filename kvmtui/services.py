"""What a screen may ask of the app, typed: the one link from screens up to the app.

Screens never import the app (it imports them); they reach the app's shared parts through this
protocol, which KvmApp implements. Anything not listed here is the app's own business.
"""

from __future__ import annotations

from typing import Any, Protocol, cast

from textual.app import App

from kvmtui.virt.domain.actionlog import ActionLog
from kvmtui.virt.models import DomainKey, DomainStats
from kvmtui.virt.perf.stats import StatsSampler


class AppServices(Protocol):
    action_log: ActionLog     # every action, recorded when it starts and when it ends
    sampler: StatsSampler     # its interval is what the screens say they refresh at

    def set_activity(self, key: DomainKey, text: str | None) -> None:
        """Show on the VM's row what is under way ("reverting to 's1'…"); None: nothing."""

    def latest_stats(self, uri: str) -> list[DomainStats]:
        """The last figures of every VM of a connection (empty before the first tick)."""


def services(app: App[Any]) -> AppServices:
    return cast(AppServices, app)

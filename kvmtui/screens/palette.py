"""ctrl+p: the command palette lists every action that applies here, each with its key."""

from __future__ import annotations

from textual.command import Hits, Provider


class KvmCommands(Provider):
    async def search(self, query: str) -> Hits:
        return
        yield

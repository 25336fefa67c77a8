"""The CDS Hooks service's shared state (:mod:`mastcds.store.cds`), written in batches from each worker's event loop.

A service call records its JWT's ``jti`` (replay) and, when it has cards, the
case behind their link, as one item: the link is stored only if the token
was new. One transaction per call would put a commit on every call; instead
the calls of one turn of the event loop queue their items and one
transaction writes them all (group commit), with one multi-row ``INSERT ...
ON CONFLICT DO NOTHING RETURNING`` for the replay entries: the database, not
the worker, says which ``jti`` is new, so a token replayed to another worker
is refused there too.

The transaction (:class:`mastcds.store.cds.BatchWriter`: a few statements,
no wait for the disk) runs on the event loop itself: handing it to a thread
cost more than the work (GIL hand-overs: 0.5-6 ms per call under load).
While another worker holds SQLite's write lock, the batch is tried again
every :data:`LOCK_RETRY_SECONDS` with the loop serving other calls meanwhile.
Feedback is rare and kept for good: it is written durably, in a thread.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import re
import secrets
import time
import weakref
from typing import Any

from mastcds.store import cds as tables
from mastcds.store.database import Store
from mastcds.store.errors import DatabaseUnavailable
from mastcds.store.settings import shown_url

# Expired replay entries and links are deleted at most this often (one indexed DELETE each).
PRUNE_EVERY_SECONDS = 60.0
# SQLite: while another worker holds the write lock (a fraction of a millisecond per batch), try again this often,
# serving other calls meanwhile; past the last try the batch fails (503), as other writes do.
LOCK_RETRY_SECONDS = 0.0002
LOCK_WAIT_SECONDS = 60.0


def digest(*parts: str) -> str:
    """SHA-256 (hex) of the parts, NUL-separated."""
    return hashlib.sha256("\0".join(parts).encode("utf-8", "surrogatepass")).hexdigest()


def replay_key(issuer: str, jti: str, until: float) -> str:
    """A token's key in the replay store: its expiry, then a digest of (issuer, jti), one size whatever the jti."""
    return tables.expiry_prefix(until) + digest(issuer, jti)


# A link's URL token: the row's key (expiry + 16 random hex digits), a dot, and a 256-bit secret (base64url).
LINK_TOKEN = re.compile(r"[0-9]{%d}[0-9a-f]{16}\.[A-Za-z0-9_-]{43}" % tables.EXPIRY_DIGITS)


def new_link(expires: float) -> tuple[str, str, str]:
    """A new link's URL token, its row key and the digest of its secret."""
    key, secret = tables.expiry_prefix(expires, early=True) + secrets.token_hex(8), secrets.token_urlsafe(32)
    return f"{key}.{secret}", key, digest(secret)


class _Queue:
    """What the calls of one event loop queued since the last commit, and whether a commit is running."""

    def __init__(self) -> None:
        self.items: list[tuple[str, Any, asyncio.Future[Any]]] = []
        self.task: asyncio.Task[None] | None = None


class CdsStore:
    """Replay entries, card links and feedback in the database; ``await`` each write, batched with the others in flight."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self._writer = tables.BatchWriter(store)  # written from the event loop only
        self._queues: dict[asyncio.AbstractEventLoop, _Queue] = {}
        self._next_prune = 0.0
        self._pruning: weakref.WeakSet[asyncio.AbstractEventLoop] = weakref.WeakSet()

    async def record_call(self, replay_key: str | None, links: list[dict[str, Any]] | None = None) -> bool:
        """Records a call's token by its replay key (None: nothing to record), and stores its card links' rows
        (:class:`mastcds.store.cds.CdsLink` columns) unless the token was used before, all in one transaction;
        False when some worker already recorded that token (a replay), True otherwise."""
        return bool(await self._queued("call", (replay_key, links or [])))

    async def keep_feedback(self, rows: list[dict[str, Any]]) -> None:
        """Stores feedback items (:class:`mastcds.store.cds.CdsFeedback` columns): a durable write, in a thread."""
        await asyncio.to_thread(self._write_feedback, rows)

    def _write_feedback(self, rows: list[dict[str, Any]]) -> None:
        with self.store.writing() as session:
            tables.add_feedback(session, rows)

    def link(self, token: str) -> tables.CdsLink | None:
        """The link of this URL token (:func:`new_link`), unless unknown, expired or its secret is wrong (a blocking
        read: call it from a thread)."""
        if not LINK_TOKEN.fullmatch(token):
            return None
        key, secret = token.split(".")
        if key < tables.expiry_prefix(time.time()):
            return None
        with self.store.reading() as session:
            found = tables.find_link(session, key)
        return found if found is not None and hmac.compare_digest(found.secret_digest, digest(secret)) else None

    async def _queued(self, kind: str, payload: Any) -> Any:
        loop = asyncio.get_running_loop()
        queue = self._queues.setdefault(loop, _Queue())
        future: asyncio.Future[Any] = loop.create_future()
        queue.items.append((kind, payload, future))
        if queue.task is None:
            queue.task = loop.create_task(self._drain(loop, queue))
        return await future

    async def _drain(self, loop: asyncio.AbstractEventLoop, queue: _Queue) -> None:
        """Commits what is queued, then what was queued meanwhile, until nothing is."""
        try:
            while queue.items:
                batch, queue.items = queue.items, []
                try:
                    results = await self._commit(batch)
                except Exception as error:  # noqa: BLE001 - handed to every caller of the batch (DatabaseUnavailable)
                    for _, _, future in batch:
                        if not future.done():
                            future.set_exception(error)
                    continue
                for (_, _, future), result in zip(batch, results):
                    if not future.done():  # a caller that went away
                        future.set_result(result)
        finally:
            queue.task = None
            if not queue.items:
                self._queues.pop(loop, None)
            self._prune_later(loop)

    def _prune_later(self, loop: asyncio.AbstractEventLoop) -> None:
        """Makes sure a batch runs a minute from now even if no call comes: expired links (patient data) are
        deleted at most :data:`PRUNE_EVERY_SECONDS` after they expire while the server runs."""
        if loop in self._pruning:
            return
        self._pruning.add(loop)

        def prune() -> None:
            self._pruning.discard(loop)
            if not loop.is_closed():
                loop.create_task(self._prune_now())

        loop.call_later(PRUNE_EVERY_SECONDS, prune)

    async def _prune_now(self) -> None:
        try:
            await self._queued("prune", None)
        except DatabaseUnavailable:  # the next batch tries again
            pass

    async def _commit(self, batch: list[tuple[str, Any, Any]]) -> list[Any]:
        """One transaction for the batch, tried again while another worker holds SQLite's write lock; per item, its
        result (for a call: whether its token was new)."""
        calls = [payload for kind, payload, _ in batch if kind == "call"]
        deadline = time.monotonic() + LOCK_WAIT_SECONDS
        while True:
            now = time.time()
            prune = tables.expiry_prefix(now) if now >= self._next_prune else None
            try:
                firsts = iter(self._writer.write(calls, prune))
                break
            except tables.Locked:
                if time.monotonic() > deadline:
                    raise DatabaseUnavailable.one("database", shown_url(self.store.url),
                                                  f"still locked by another process after {LOCK_WAIT_SECONDS:g} s")
            await asyncio.sleep(LOCK_RETRY_SECONDS)
        if prune is not None:
            self._next_prune = now + PRUNE_EVERY_SECONDS
        return [next(firsts) if kind == "call" else None for kind, _, _ in batch]

"""Listener work that outlives Slack's HTTP answer: Bolt answers as soon as the work acknowledged.

Bolt runs with `process_before_response=True`, which answers Slack when the listener returns (about
1 ms) instead of polling for the ack every 10 ms (about 12 ms). Each listener's work runs in a task
of its own, and the listener returns as soon as that work calls `ack()` — or finishes, or Slack's
3 s are over. A slash command or a click acks first thing, so Slack hears back at once; a form
submission acks only after its checks, so `response_action` (errors, update) still reaches Slack
in the answer to its request.

The tasks are kept referenced until they end (the event loop holds only weak references), errors
that escape them are handed to the error reporter, and `drain()` lets a shutdown wait for them
for a while, then cancel the rest before the HTTP session they use is closed.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any, cast

from slack_bolt.context.ack.async_ack import AsyncAck
from slack_sdk.web.async_client import AsyncWebClient

if TYPE_CHECKING:
    from bot.slack_app.errors import ErrorReporter

log = logging.getLogger(__name__)

ACK_TIMEOUT = 3.0  # Slack gives up on an answer after 3 s
DRAIN_TIMEOUT = 5.0

Work = Callable[[AsyncAck, dict[str, Any], dict[str, Any], AsyncWebClient], Awaitable[None]]
Listener = Callable[[AsyncAck, dict[str, Any], dict[str, Any], AsyncWebClient], Awaitable[None]]


class TrackedAck:
    """Bolt's ack, telling the listener waiting for it that it was called."""

    def __init__(self, ack: AsyncAck, called: asyncio.Future[None]) -> None:
        self._ack = ack
        self._called = called

    @property
    def response(self) -> Any:
        return self._ack.response

    async def __call__(self, *args: Any, **kwargs: Any) -> Any:
        try:
            return await self._ack(*args, **kwargs)
        finally:
            if not self._called.done():
                self._called.set_result(None)
                # Let the listener return, and Bolt answer Slack, before the work goes on.
                await asyncio.sleep(0)


class InFlight:
    """The listener work still running, and how to start and stop it."""

    def __init__(self, reporter: ErrorReporter | None = None, *, ack_timeout: float = ACK_TIMEOUT,
                 grace: float = DRAIN_TIMEOUT) -> None:
        self.reporter = reporter
        self.ack_timeout = ack_timeout
        self.grace = grace
        self.tasks: set[asyncio.Task[None]] = set()
        self._idle = asyncio.Event()
        self._idle.set()

    def __len__(self) -> int:
        return len(self.tasks)

    def listener(self, work: Work) -> Listener:
        """A Bolt listener (its arguments are injected by name) running `work` until it acknowledges."""

        async def listener(ack: AsyncAck, body: dict[str, Any], context: dict[str, Any],
                           client: AsyncWebClient) -> None:
            called: asyncio.Future[None] = asyncio.get_running_loop().create_future()
            tracked = cast(AsyncAck, TrackedAck(ack, called))
            task = asyncio.create_task(self._run(work, tracked, body, context, client),
                                       name=f"slack:{getattr(work, '__name__', 'listener')}")
            self.tasks.add(task)
            self._idle.clear()
            task.add_done_callback(self._forget)
            task.add_done_callback(lambda _: None if called.done() else called.set_result(None))
            try:
                async with asyncio.timeout(self.ack_timeout):
                    await called  # no shield: the ack wakes this listener directly, ahead of the work
            except TimeoutError:
                log.warning("Slack listener %s did not acknowledge within %.0f s", task.get_name(),
                            self.ack_timeout)

        listener.__name__ = getattr(work, "__name__", "listener")
        return listener

    async def _run(self, work: Work, ack: AsyncAck, body: dict[str, Any], context: dict[str, Any],
                   client: AsyncWebClient) -> None:
        try:
            await work(ack, body, context, client)
        except Exception as error:  # the router reports its handlers' errors: this is the safety net
            if self.reporter is None:
                log.exception("Slack listener failed")
                return
            waiting = ack.response is None
            try:
                payload = await self.reporter.handle(error, body, context, waiting=waiting)
                if waiting:
                    await ack(**(payload or {}))
            except Exception:
                log.exception("could not report a Slack listener's error")

    def _forget(self, task: asyncio.Task[None]) -> None:
        self.tasks.discard(task)
        if not self.tasks:
            self._idle.set()

    async def wait_idle(self, within: float | None = None) -> bool:
        """True once no work is running (False if `within` seconds passed first)."""
        try:
            async with asyncio.timeout(within):
                await self._idle.wait()
        except TimeoutError:
            return False
        return True

    async def drain(self, grace: float | None = None) -> None:
        """Let the running work finish for up to `grace` seconds (self.grace), then cancel what is left."""
        grace = self.grace if grace is None else grace
        if not self.tasks or await self.wait_idle(grace):
            return
        left = list(self.tasks)
        log.warning("cancelling %d Slack listener(s) still running after %.1f s", len(left), grace)
        for task in left:
            task.cancel()
        await asyncio.gather(*left, return_exceptions=True)

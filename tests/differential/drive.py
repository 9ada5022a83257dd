"""Follows one execution to its end, acting as the requirement's external system.

The same loop runs on both sides: it reads the execution's history (a
function returning the `Events` of GetDurableExecutionHistory) and answers
each `CallbackStarted` with the requirement's `CallbackActions`, matched as
the conformance package matches them (by name, `*`, or `${/regex/}`; each
action used once; a heartbeat leaves the callback open for the next action;
`Delay` seconds slept before sending, one action at a time).

One thing is stricter than the package: a callback is answered only once the
invocation that created it has ended (an `InvocationCompleted` after its
`CallbackStarted`). The package polls every two seconds, so on AWS it answers
after that invocation in practice; waiting for the event makes both sides
record the answer at the same place in their histories.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable
from typing import Any

from aws_durable_execution_conformance_tests.callback import CallbackAction, CallbackSender
from aws_durable_execution_conformance_tests.validate import find_matching_action

TERMINAL_EVENTS = frozenset({"ExecutionSucceeded", "ExecutionFailed", "ExecutionTimedOut", "ExecutionStopped"})
POLL_SECONDS = 0.2
# How long an execution may go without a new event before it counts as stuck
# (the package's own no-progress timeout).
STUCK_SECONDS = 30.0


@dataclasses.dataclass
class Outcome:
    """How following an execution went: its last history and what went wrong."""

    events: list[dict[str, Any]]
    problems: list[str]
    stuck: bool = False  # no new event for STUCK_SECONDS, or not ended in time

    @property
    def status(self) -> str:
        """The execution's end event type, or RUNNING."""
        ends = [event["EventType"] for event in self.events if event.get("EventType") in TERMINAL_EVENTS]
        return ends[-1] if ends else "RUNNING"


def ready_callbacks(events: list[dict[str, Any]], handled: set[str]) -> list[dict[str, Any]]:
    """The `CallbackStarted` events not yet answered whose invocation has ended."""
    ready = []
    for position, event in enumerate(events):
        if event.get("EventType") != "CallbackStarted":
            continue
        callback_id = (event.get("CallbackStartedDetails") or {}).get("CallbackId")
        ended = any(later.get("EventType") == "InvocationCompleted" for later in events[position + 1:])
        if callback_id and callback_id not in handled and ended:
            ready.append(event)
    return ready


def follow(history: Callable[[], list[dict[str, Any]]], sender: CallbackSender,
           actions: list[dict[str, Any]], until: str, limit_seconds: float) -> Outcome:
    """Polls `history` until the execution ends (`until="end"`) or its first
    invocation has ended (`until="suspended"`), answering its callbacks."""
    pending = [CallbackAction.from_dict(action) for action in actions]
    used: set[int] = set()
    handled: set[str] = set()
    problems: list[str] = []
    deadline = time.monotonic() + limit_seconds
    last_count, last_progress = -1, time.monotonic()
    events: list[dict[str, Any]] = []
    while True:
        events = history()
        types = [event.get("EventType") for event in events]
        if any(kind in TERMINAL_EVENTS for kind in types):
            return Outcome(events, problems)
        if until == "suspended" and "InvocationCompleted" in types:
            return Outcome(events, problems)
        now = time.monotonic()
        if len(events) != last_count:
            last_count, last_progress = len(events), now
        if now > deadline or now - last_progress > STUCK_SECONDS:
            problems.append(f"did not end: {len(events)} events, the last {types[-1:]}, "
                            f"after {limit_seconds - (deadline - now):.0f} s")
            return Outcome(events, problems, stuck=True)
        for event in ready_callbacks(events, handled):
            answer(event, pending, used, handled, sender, problems)
        time.sleep(POLL_SECONDS)


def answer(event: dict[str, Any], pending: list[CallbackAction], used: set[int], handled: set[str],
           sender: CallbackSender, problems: list[str]) -> None:
    """Sends the actions that match one callback: heartbeats, then at most one ending."""
    callback_id = event["CallbackStartedDetails"]["CallbackId"]
    while True:
        action, index = find_matching_action(event, pending, used)
        if action is None or index is None:
            if pending:
                problems.append(f"no CallbackAction left for callback '{event.get('Name')}'")
            handled.add(callback_id)  # left open: a timeout requirement
            return
        used.add(index)
        if action.delay_seconds > 0:
            time.sleep(action.delay_seconds)
        try:
            sender.send(callback_id, action)
        except Exception as error:  # noqa: BLE001 - recorded, and the run goes on
            problems.append(f"{action.operation} for callback '{event.get('Name')}' failed: {error}")
        if action.operation != "heartbeat":
            handled.add(callback_id)
            return

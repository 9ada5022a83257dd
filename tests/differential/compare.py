"""Compares two execution histories by shape, event by event.

What is compared, for each event: its EventType, SubType and Name (not an
execution event's Name, which is the execution's own name), its parent, the
set of keys it carries, and the key sets inside each of its `...Details`
objects, recursively (`Result`, `Error`, `RetryDetails`...: key sets, never
values). Ids, EventIds, timestamps, request ids, ARNs and payloads are never
compared.

Two passes:

1. In order: the i-th event of one side against the i-th of the other, a
   parent compared as the position of the first event that carries the
   parent's Id. When this holds for every event, the histories are the same.
2. Otherwise, by operation, so that one missing or extra event is reported
   once instead of shifting everything after it. The SDK derives an
   operation's Id from its position (its parent's Id and its step number), so
   the same handler gives the same Ids on both sides: Ids pair operations and
   are never compared as values; an operation with no partner is reported
   with each of its events. Each operation's events are aligned by type and
   compared as above, a parent now as the Id that pairs it; the events
   without an operation (InvocationCompleted, the Execution events) form one
   more sequence.

   Order is then checked per lane: a lane is the root, or one branch of a
   parallel or a map, with every event below it outside nested branches. The
   branches of a parallel or a map run concurrently, so the order of events
   of different lanes depends on scheduling; within a lane the code runs in
   sequence, and the order must be the same. Histories that differ only
   across lanes are the same, marked `interleaved`.
"""

from __future__ import annotations

import dataclasses
import difflib
from collections import Counter
from typing import Any

Event = dict[str, Any]
CONCURRENT = frozenset({"Parallel", "Map"})  # SubTypes whose children are concurrent branches
EXECUTION = "(execution)"                    # the events that belong to no operation


@dataclasses.dataclass(frozen=True)
class Difference:
    """One way the two histories differ.

    `kind`: `event` (an event on one side only, or `count` of events), `type`
    (another event at the same place, in order), `keys` (a key of the event
    itself), `details` (a key inside one of its Details objects), `name`,
    `subtype`, `parent`, or `order` (a lane's events in another order: the
    event orders has where the emulator has `key`). `side` says where the
    event or key is present: `orders`, `emulator`, or `both` for a value
    that differs.
    """

    kind: str
    event_type: str
    path: str
    key: str
    side: str
    detail: str = ""

    @property
    def signature(self) -> tuple[str, str, str, str, str]:
        return self.kind, self.event_type, self.path, self.key, self.side

    def describe(self, full: bool = True) -> str:
        """In words; `full` adds an order difference's sequences."""
        where = f"{self.event_type}" + (f".{self.path}" if self.path else "")
        if self.kind == "event":
            return f"{self.event_type} event only on {self.side}{f' ({self.detail})' if self.detail else ''}"
        if self.kind in ("keys", "details"):
            return f"{where}: key {self.key} only on {self.side}"
        if self.kind == "order":
            return (f"order: orders has {self.event_type} where the emulator has {self.key}"
                    + (f" ({self.detail})" if full else ""))
        return f"{where}: {self.kind} differs: {self.detail}"


@dataclasses.dataclass
class Comparison:
    """What comparing two histories found."""

    differences: list[Difference]
    interleaved: bool  # the same events in the same order by lane, not globally


def key_tree(value: Any) -> Any:
    """The keys of `value`, recursively: a dict of key trees, or None for a value."""
    if isinstance(value, dict):
        return {key: key_tree(member) for key, member in value.items()}
    return None


def tree_differences(ours: Any, theirs: Any, event_type: str, path: str) -> list[Difference]:
    """The keys present on one side only, between two key trees."""
    found = []
    for key in sorted(set(ours) | set(theirs)):
        if key not in theirs:
            found.append(Difference("details", event_type, path, key, "orders"))
        elif key not in ours:
            found.append(Difference("details", event_type, path, key, "emulator"))
        elif isinstance(ours[key], dict) and isinstance(theirs[key], dict):
            found += tree_differences(ours[key], theirs[key], event_type, f"{path}.{key}")
        elif isinstance(ours[key], dict) != isinstance(theirs[key], dict):
            shape = {True: "an object", False: "a value"}
            found.append(Difference("details", event_type, path, key, "both",
                                    f"{shape[isinstance(ours[key], dict)]} on orders, "
                                    f"{shape[isinstance(theirs[key], dict)]} on the emulator"))
    return found


def event_differences(ours: Event, theirs: Event, parents: tuple[Any, Any]) -> list[Difference]:
    """How two events that stand for each other differ (parents given in comparable form)."""
    event_type = ours.get("EventType", "")
    found = []
    if ours.get("EventType") != theirs.get("EventType"):
        return [Difference("type", event_type, "", "EventType", "both",
                           f"{ours.get('EventType')} on orders, {theirs.get('EventType')} on the emulator")]
    for key, kind in (("SubType", "subtype"), ("Name", "name")):
        if key == "Name" and event_type.startswith("Execution"):
            continue
        if key in ours and key in theirs and ours[key] != theirs[key]:
            found.append(Difference(kind, event_type, "", key, "both",
                                    f"{ours[key]!r} on orders, {theirs[key]!r} on the emulator"))
    if parents[0] != parents[1]:
        found.append(Difference("parent", event_type, "", "ParentId", "both",
                                f"{parents[0]} on orders, {parents[1]} on the emulator"))
    for key in sorted(set(ours) | set(theirs)):
        if key not in theirs:
            found.append(Difference("keys", event_type, "", key, "orders"))
        elif key not in ours:
            found.append(Difference("keys", event_type, "", key, "emulator"))
        elif key.endswith("Details"):
            found += tree_differences(key_tree(ours[key]), key_tree(theirs[key]), event_type, key)
    return found


def in_order(ours: list[Event], theirs: list[Event]) -> list[Difference]:
    """Pass 1: event i against event i, parents as positions."""
    def first_positions(events):
        positions = {}
        for position, event in enumerate(events):
            positions.setdefault(event.get("Id"), position)
        return positions

    our_positions, their_positions = first_positions(ours), first_positions(theirs)
    found = []
    for our, their in zip(ours, theirs):
        parents = (our_positions.get(our.get("ParentId")) if "ParentId" in our else None,
                   their_positions.get(their.get("ParentId")) if "ParentId" in their else None)
        found += event_differences(our, their, parents)
    if len(ours) != len(theirs):
        found.append(Difference("event", "", "", "count", "both", f"{len(ours)} on orders, {len(theirs)} on the emulator"))
    return found


def operation_of(event: Event) -> str:
    """The operation an event belongs to: its Id, or EXECUTION."""
    if event.get("EventType", "").startswith("Execution") or "Id" not in event:
        return EXECUTION
    return event["Id"]


def label(event: Event) -> str:
    name = event.get("Name")
    return f"{event.get('EventType')}" + (f" '{name}'" if name and operation_of(event) != EXECUTION else "")


def lanes(events: list[Event]) -> list[tuple[str, ...]]:
    """Each event's lane: the path of branch Ids (children of a parallel or a map) above it."""
    parent_of: dict[str, str | None] = {}
    subtype_of: dict[str, str | None] = {}
    for event in events:
        operation = operation_of(event)
        if operation != EXECUTION:
            parent_of.setdefault(operation, event.get("ParentId"))
            subtype_of.setdefault(operation, event.get("SubType"))

    def lane(operation: str | None) -> tuple[str, ...]:
        path: list[str] = []
        seen = set()
        while operation is not None and operation in parent_of and operation not in seen:
            seen.add(operation)
            parent = parent_of[operation]
            if parent is not None and subtype_of.get(parent) in CONCURRENT:
                path.append(operation)
            operation = parent
        return tuple(reversed(path))

    return [lane(None if operation_of(event) == EXECUTION else operation_of(event)) for event in events]


def by_operation(ours: list[Event], theirs: list[Event]) -> list[Difference]:
    """Pass 2: operation by operation, then the order within each lane."""
    def group(events):
        groups: dict[str, list[Event]] = {}
        for event in events:
            groups.setdefault(operation_of(event), []).append(event)
        return groups

    our_groups, their_groups = group(ours), group(theirs)
    found = []
    for operation in list(our_groups) + [key for key in their_groups if key not in our_groups]:
        our_events, their_events = our_groups.get(operation, []), their_groups.get(operation, [])
        matcher = difflib.SequenceMatcher(a=[event.get("EventType") for event in our_events],
                                          b=[event.get("EventType") for event in their_events], autojunk=False)
        for tag, a_start, a_end, b_start, b_end in matcher.get_opcodes():
            if tag == "equal":
                for our, their in zip(our_events[a_start:a_end], their_events[b_start:b_end]):
                    found += event_differences(our, their, (our.get("ParentId"), their.get("ParentId")))
                continue
            for event in our_events[a_start:a_end]:
                found.append(Difference("event", event.get("EventType", ""), "", "", "orders", label(event)))
            for event in their_events[b_start:b_end]:
                found.append(Difference("event", event.get("EventType", ""), "", "", "emulator", label(event)))
    return found + lane_order(ours, theirs)


def lane_order(ours: list[Event], theirs: list[Event]) -> list[Difference]:
    """The lanes whose events come in another order.

    A lane's events are aligned as a longest common subsequence of (event type,
    operation); an event left over on one side only is a missing or extra
    event, reported by operation already. The order differs when the same
    event is left over on both sides: it stands elsewhere on each. The
    difference names the first place where the events both sides have part:
    `event_type` is the event orders has there, `key` the emulator's.
    """
    def sequences(events):
        by_lane: dict[tuple[str, ...], list[tuple[str, str]]] = {}
        for event, lane in zip(events, lanes(events)):
            by_lane.setdefault(lane, []).append((event.get("EventType", ""), operation_of(event)))
        return by_lane

    names = {operation_of(event): event.get("Name") for event in ours if event.get("Name")}

    def show(tokens):
        return ", ".join(kind + ("" if operation == EXECUTION or operation not in names else f" '{names[operation]}'")
                         for kind, operation in tokens)

    def shared(sequence, common):
        left, kept = Counter(common), []
        for token in sequence:
            if left[token] > 0:
                left[token] -= 1
                kept.append(token)
        return kept

    our_lanes, their_lanes = sequences(ours), sequences(theirs)
    found = []
    for lane in sorted(our_lanes.keys() & their_lanes.keys()):
        our_order, their_order = our_lanes[lane], their_lanes[lane]
        matcher = difflib.SequenceMatcher(a=our_order, b=their_order, autojunk=False)
        left_ours: list[tuple[str, str]] = []
        left_theirs: list[tuple[str, str]] = []
        for tag, a_start, a_end, b_start, b_end in matcher.get_opcodes():
            if tag != "equal":
                left_ours += our_order[a_start:a_end]
                left_theirs += their_order[b_start:b_end]
        if not any(token in left_theirs for token in left_ours):
            continue
        common = Counter(our_order) & Counter(their_order)
        ours_shared, theirs_shared = shared(our_order, common), shared(their_order, common)
        first = next((position for position, (a, b) in enumerate(zip(ours_shared, theirs_shared)) if a != b), None)
        if first is None:
            continue
        where = " / ".join(names.get(branch, "?") for branch in lane) or "the root"
        found.append(Difference("order", ours_shared[first][0], "", theirs_shared[first][0], "both",
                                f"in {where}: orders {show(our_order)}; emulator {show(their_order)}"))
    return found


def compare(ours: list[Event], theirs: list[Event]) -> Comparison:
    """Compares `orders serve`'s history (`ours`) with the emulator's (`theirs`)."""
    if not in_order(ours, theirs):
        return Comparison([], interleaved=False)
    differences = by_operation(ours, theirs)

    def sequence(events):
        return [(event.get("EventType"), operation_of(event)) for event in events]

    same_events = not any(difference.kind in ("event", "order") for difference in differences)
    return Comparison(differences, interleaved=same_events and sequence(ours) != sequence(theirs))

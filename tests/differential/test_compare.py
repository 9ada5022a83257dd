"""The history comparison on small hand-made histories.

    python3 -m pytest tests/differential -q
"""

from compare import compare


def event(kind, operation=None, parent=None, subtype=None, name=None, **details):
    found = {"EventType": kind, "EventId": 0, "EventTimestamp": 0.0}
    if operation:
        found["Id"] = operation
    if parent:
        found["ParentId"] = parent
    if subtype:
        found["SubType"] = subtype
    if name:
        found["Name"] = name
    found[f"{kind}Details"] = details
    return found


def parallel(first_branch_first: bool):
    """A parallel of two named branches of one step each, the branches' events in either order."""
    branches = [
        [event("ContextStarted", "b1", "p", "ParallelBranch", "one"), event("StepStarted", "s1", "b1", "Step"),
         event("StepSucceeded", "s1", "b1", "Step", Result={"Payload": "1"}),
         event("ContextSucceeded", "b1", "p", "ParallelBranch", "one", Result={})],
        [event("ContextStarted", "b2", "p", "ParallelBranch", "two"), event("StepStarted", "s2", "b2", "Step"),
         event("StepSucceeded", "s2", "b2", "Step", Result={"Payload": "2"}),
         event("ContextSucceeded", "b2", "p", "ParallelBranch", "two", Result={})],
    ]
    first, second = branches if first_branch_first else branches[::-1]
    return ([event("ExecutionStarted", "x"), event("ContextStarted", "p", subtype="Parallel")]
            + [first[0], second[0], first[1], second[1], first[2], second[2], first[3], second[3]]
            + [event("ContextSucceeded", "p", subtype="Parallel", Result={}), event("ExecutionSucceeded", "x")])


def sequence():
    return [event("ExecutionStarted", "x"), event("StepStarted", "a", subtype="Step", name="first"),
            event("StepSucceeded", "a", subtype="Step", name="first", Result={"Payload": "1"}),
            event("StepStarted", "b", subtype="Step", name="second"),
            event("StepSucceeded", "b", subtype="Step", name="second", Result={"Payload": "2"}),
            event("InvocationCompleted"), event("ExecutionSucceeded", "x")]


def test_histories_that_differ_in_ids_and_values_only_are_the_same():
    theirs = sequence()
    for position, item in enumerate(theirs):
        item["EventTimestamp"] = 99.0
        if "Id" in item:
            item["Id"] = item["Id"] * 2
        if position == 2:
            item["StepSucceededDetails"]["Result"]["Payload"] = "another"
    comparison = compare(sequence(), theirs)
    assert comparison.differences == [] and not comparison.interleaved


def test_a_key_one_side_lacks_in_a_nested_details_object_is_reported_with_its_path():
    theirs = sequence()
    theirs[2]["StepSucceededDetails"]["Result"]["Truncated"] = False
    [difference] = compare(sequence(), theirs).differences
    assert (difference.kind, difference.event_type, difference.path, difference.key, difference.side) == (
        "details", "StepSucceeded", "StepSucceededDetails.Result", "Truncated", "emulator")


def test_a_missing_event_is_reported_once_not_as_a_shift_of_every_later_event():
    theirs = [item for item in sequence() if item["EventType"] != "InvocationCompleted"]
    [difference] = compare(sequence(), theirs).differences
    assert (difference.kind, difference.event_type, difference.side) == ("event", "InvocationCompleted", "orders")


def test_branches_of_a_parallel_interleaved_otherwise_are_the_same():
    comparison = compare(parallel(first_branch_first=True), parallel(first_branch_first=False))
    assert comparison.differences == [] and comparison.interleaved


def test_two_steps_of_one_context_in_another_order_differ():
    ours = sequence()
    theirs = ours[:1] + ours[3:5] + ours[1:3] + ours[5:]
    kinds = {difference.kind for difference in compare(ours, theirs).differences}
    assert kinds == {"order"}


def test_a_parent_is_compared_by_position_not_by_id():
    ours = parallel(first_branch_first=True)
    theirs = parallel(first_branch_first=True)
    theirs[4]["ParentId"] = "b2"  # the first branch's step, now under the second branch
    differences = compare(ours, theirs).differences
    assert [difference.kind for difference in differences if difference.kind == "parent"] == ["parent"]

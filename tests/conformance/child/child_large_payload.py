"""3-11: a child context whose result (>256 KB) exceeds the checkpoint limit (ReplayChildren mode).

The child logs the input through its logger with replay logging enabled (the
logger's replay source rebound to "never replaying"), so the re-execution of
the child on replay, which rebuilds the large result, logs it a second time.
"""

from typing import Any

from aws_durable_execution_sdk_python import DurableContext, durable_execution, durable_with_child_context
from aws_durable_execution_sdk_python.config import Duration

CHUNK = "A" * 1024  # the step's small result
COPIES = 300  # the child's result: 300 KB


@durable_with_child_context
def large_result(child: DurableContext, value: str) -> str:
    child.logger.with_is_replaying(lambda: False).info(value)
    chunk: str = child.step(lambda _: CHUNK)
    return chunk * COPIES


@durable_execution
def handler(event: str, context: DurableContext) -> dict[str, Any]:
    result: str = context.run_in_child_context(large_result(event))
    context.wait(Duration.from_seconds(1))
    return {"size": len(result)}

"""8-20: one failure tolerated; the result is built from the batch-result accessors."""

from typing import Any

from aws_durable_execution_sdk_python import DurableContext, durable_execution
from aws_durable_execution_sdk_python.config import CompletionConfig, ParallelConfig


def succeed(ctx: DurableContext) -> str:
    return "ok"


def fail(ctx: DurableContext) -> str:
    raise RuntimeError("branch 1 failed")


@durable_execution
def handler(event: None, context: DurableContext) -> dict[str, Any]:
    config = ParallelConfig(
        max_concurrency=1,
        completion_config=CompletionConfig(tolerated_failure_count=1),
    )
    batch = context.parallel([succeed, fail, succeed], name="accessors", config=config)
    return {
        "hasFailure": batch.has_failure,
        "successCount": len(batch.succeeded()),
        "failureCount": len(batch.failed()),
        "errorCount": len(batch.get_errors()),
    }

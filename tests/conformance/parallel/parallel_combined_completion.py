"""8-18: min-successful 3 plus tolerated-failure-count 1; two failures stop the batch first."""

from typing import Any

from aws_durable_execution_sdk_python import DurableContext, durable_execution
from aws_durable_execution_sdk_python.config import CompletionConfig, ParallelConfig


def fail(ctx: DurableContext) -> str:
    raise RuntimeError("branch failed")


def succeed(ctx: DurableContext) -> str:
    return "ok"


@durable_execution
def handler(event: None, context: DurableContext) -> dict[str, Any]:
    config = ParallelConfig(
        max_concurrency=1,
        completion_config=CompletionConfig(min_successful=3, tolerated_failure_count=1),
    )
    batch = context.parallel(
        [fail, fail, succeed, succeed], name="combined", config=config
    )
    return {
        "completionReason": batch.completion_reason.value,
        "successCount": batch.success_count,
        "failureCount": batch.failure_count,
        "totalCount": batch.total_count,
    }

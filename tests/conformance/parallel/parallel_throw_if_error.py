"""8-7: fail-fast parallel whose first branch fails; throw_if_error fails the execution."""

from aws_durable_execution_sdk_python import DurableContext, durable_execution
from aws_durable_execution_sdk_python.config import CompletionConfig, ParallelConfig


def fail(ctx: DurableContext) -> str:
    raise RuntimeError("branch 0 failed")


def succeed(ctx: DurableContext) -> str:
    return "never"


@durable_execution
def handler(event: None, context: DurableContext) -> list[str]:
    config = ParallelConfig(
        max_concurrency=1,
        completion_config=CompletionConfig(tolerated_failure_count=0),
    )
    batch = context.parallel([fail, succeed], name="throwing", config=config)
    batch.throw_if_error()
    return batch.get_results()

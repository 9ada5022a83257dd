"""8-19: max-concurrency 0 is rejected with a ValidationError before anything runs."""

from aws_durable_execution_sdk_python import DurableContext, durable_execution
from aws_durable_execution_sdk_python.config import ParallelConfig


def branch0(ctx: DurableContext) -> str:
    return "b0"


def branch1(ctx: DurableContext) -> str:
    return "b1"


@durable_execution
def handler(event: None, context: DurableContext) -> list[str]:
    # ParallelConfig raises ValidationError here; the error is not caught.
    config = ParallelConfig(max_concurrency=0)
    batch = context.parallel([branch0, branch1], name="bad-concurrency", config=config)
    return batch.get_results()

"""9-6: fail-fast map whose first item fails; throw_if_error fails the execution."""

from collections.abc import Sequence

from aws_durable_execution_sdk_python import DurableContext, durable_execution
from aws_durable_execution_sdk_python.config import CompletionConfig, MapConfig


def process(ctx: DurableContext, item: str, index: int, items: Sequence[str]) -> str:
    if item == "fail":
        raise RuntimeError(f"item {index} failed")
    return item


@durable_execution
def handler(event: None, context: DurableContext) -> list[str]:
    config = MapConfig(
        max_concurrency=1,
        completion_config=CompletionConfig(tolerated_failure_count=0),
    )
    batch = context.map(["fail", "ok"], process, name="throwing", config=config)
    batch.throw_if_error()
    return batch.get_results()

"""8-4: branches return a string, a number and an object; each keeps its type."""

from typing import Any

from aws_durable_execution_sdk_python import DurableContext, durable_execution
from aws_durable_execution_sdk_python.config import ParallelConfig


def text(ctx: DurableContext) -> str:
    return "hello"


def number(ctx: DurableContext) -> int:
    return 42


def mapping(ctx: DurableContext) -> dict[str, str]:
    return {"k": "v"}


@durable_execution
def handler(event: None, context: DurableContext) -> list[Any]:
    batch = context.parallel(
        [text, number, mapping], name="hetero", config=ParallelConfig(max_concurrency=1)
    )
    return batch.get_results()

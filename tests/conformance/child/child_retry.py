"""3-7: a child context whose step fails at attempt 1 and succeeds at attempt 2 (retry after 1 s)."""

from aws_durable_execution_sdk_python import DurableContext, durable_execution, durable_with_child_context
from aws_durable_execution_sdk_python.config import Duration, JitterStrategy, StepConfig
from aws_durable_execution_sdk_python.retries import RetryStrategyConfig, create_retry_strategy
from aws_durable_execution_sdk_python.types import StepContext

RETRY_ONCE = StepConfig(
    retry_strategy=create_retry_strategy(
        RetryStrategyConfig(
            max_attempts=2,
            initial_delay=Duration.from_seconds(1),
            jitter_strategy=JitterStrategy.NONE,
        )
    )
)


@durable_with_child_context
def retrying_child(child: DurableContext, value: str) -> str:
    def unreliable(step: StepContext) -> str:
        if step.attempt == 1:
            raise RuntimeError("first attempt fails")
        return value

    return child.step(unreliable, config=RETRY_ONCE)


@durable_execution
def handler(event: str, context: DurableContext) -> str:
    return context.run_in_child_context(retrying_child(event))

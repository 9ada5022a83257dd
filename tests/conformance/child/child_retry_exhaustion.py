"""3-8: a child context whose step always fails; after 2 attempts the child and the execution fail."""

from aws_durable_execution_sdk_python import DurableContext, durable_execution, durable_with_child_context
from aws_durable_execution_sdk_python.config import Duration, JitterStrategy, StepConfig
from aws_durable_execution_sdk_python.retries import RetryStrategyConfig, create_retry_strategy
from aws_durable_execution_sdk_python.types import StepContext

TWO_ATTEMPTS = StepConfig(
    retry_strategy=create_retry_strategy(
        RetryStrategyConfig(
            max_attempts=2,
            initial_delay=Duration.from_seconds(1),
            jitter_strategy=JitterStrategy.NONE,
        )
    )
)


def always_fail(step: StepContext) -> str:
    raise RuntimeError(f"attempt {step.attempt} fails")


@durable_with_child_context
def exhausted_child(child: DurableContext) -> str:
    return child.step(always_fail, config=TWO_ATTEMPTS)


@durable_execution
def handler(event: None, context: DurableContext) -> str:
    return context.run_in_child_context(exhausted_child())

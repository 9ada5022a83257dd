"""1-14: a step failing twice then succeeding; retries 2 s then 6 s later (backoff 3, no jitter).

The attempt count comes from the step context (the SDK's checkpointed attempt),
which serves the purpose the requirement gives a DynamoDB counter.
"""

from aws_durable_execution_sdk_python import DurableContext, StepContext, durable_execution, durable_step
from aws_durable_execution_sdk_python.config import Duration, JitterStrategy, StepConfig
from aws_durable_execution_sdk_python.retries import RetryStrategyConfig, create_retry_strategy

RETRY = create_retry_strategy(RetryStrategyConfig(
    max_attempts=5, initial_delay=Duration.from_seconds(2), backoff_rate=3,
    jitter_strategy=JitterStrategy.NONE,
))


@durable_step
def unreliable(step_context: StepContext) -> str:
    if step_context.attempt < 3:
        raise RuntimeError(f"attempt {step_context.attempt} fails")
    return "succeeded at attempt 3"


@durable_execution
def handler(event: None, context: DurableContext) -> str:
    return context.step(unreliable(), config=StepConfig(retry_strategy=RETRY))

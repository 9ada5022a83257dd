// A plain Node.js function (CommonJS): charges an order.
exports.handler = async (event, context) => ({
  charged: event.amount,
  orderId: event.orderId,
  by: context.functionName,
  memory: context.memoryLimitInMB,
});

// What the runtime was started with: Lambda's environment, as the function sees it.
exports.environment = async () => {
  const names = [
    "_HANDLER",
    "AWS_EXECUTION_ENV",
    "AWS_REGION",
    "AWS_LAMBDA_FUNCTION_NAME",
    "AWS_LAMBDA_FUNCTION_VERSION",
    "AWS_LAMBDA_FUNCTION_MEMORY_SIZE",
    "AWS_LAMBDA_LOG_GROUP_NAME",
    "AWS_LAMBDA_LOG_STREAM_NAME",
    "AWS_LAMBDA_LOG_FORMAT",
    "AWS_LAMBDA_LOG_LEVEL",
    "AWS_LAMBDA_INITIALIZATION_TYPE",
    "LAMBDA_TASK_ROOT",
    "LAMBDA_RUNTIME_DIR",
    "TZ",
    "ATTEMPTS_TABLE",
    "ATTEMPTS_TABLE_ARN",
    "GREETING",
    "STAGE_TABLE",
    "FROM_ENV_VARS",
    "NOT_DECLARED",
    "AWS_ENDPOINT_URL",
    "AWS_ENDPOINT_URL_DYNAMODB",
    "AWS_ENDPOINT_URL_LAMBDA",
  ];
  return { cwd: process.cwd(), ...Object.fromEntries(names.map((name) => [name, process.env[name] ?? null])) };
};

// A durable function on @aws/durable-execution-sdk-js: a step, a wait, a
// parallel of three steps, a callback and a chained invoke of a plain
// Node.js function.
import { withDurableExecution } from "@aws/durable-execution-sdk-js";

export const handler = withDurableExecution(async (event, context) => {
  const order = await context.step("load-order", async () => ({ id: event.orderId, amount: 42 }));
  await context.wait("cool-down", { seconds: 1 });
  const batch = await context.parallel("fan-out", [
    { name: "a", func: async (branch) => branch.step("step-a", async () => "A") },
    { name: "b", func: async (branch) => branch.step("step-b", async () => "B") },
    { name: "c", func: async (branch) => branch.step("step-c", async () => "C") },
  ]);
  batch.throwIfError();
  const [approval, callbackId] = await context.createCallback("approval", { timeout: { minutes: 5 } });
  await context.step("announce", async () => {
    console.log(JSON.stringify({ message: "approval requested", callbackId }));
  });
  const approved = await approval;
  const charged = await context.invoke("charge", process.env.CHARGE_FUNCTION, {
    orderId: order.id,
    amount: order.amount,
  });
  return { order: order.id, letters: batch.getResults(), approved, charged };
});

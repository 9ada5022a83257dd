// Durable functions on @aws/durable-execution-sdk-js. `handler`: a step, a
// wait, a parallel of three steps, a callback and a chained invoke of a plain
// Node.js function. `busy`: a parallel whose one branch runs a long step while
// the other invokes a function three times in turn.
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

export const busy = withDurableExecution(async (event, context) => {
  const batch = await context.parallel("busy", [
    {
      name: "long",
      func: async (branch) =>
        branch.step("long-step", async () => {
          await new Promise((resolve) => setTimeout(resolve, event.stepSeconds * 1000));
          return "done";
        }),
    },
    {
      name: "calls",
      func: async (branch) => {
        const charged = [];
        for (const amount of [1, 2, 3]) {
          const answer = await branch.invoke(`charge-${amount}`, process.env.CHARGE_FUNCTION, {
            orderId: event.orderId,
            amount,
          });
          charged.push(answer.charged);
        }
        return charged;
      },
    },
  ]);
  batch.throwIfError();
  return batch.getResults();
});

// Loads, but exports no `handler`; and `fails` logs, then throws.
export const somethingElse = () => "not the handler";

export const fails = async (event) => {
  // A record of two lines: one log event.
  console.error(`order ${event.orderId} has no items;\nthe event was ${JSON.stringify(event)}`);
  throw new TypeError("the order has no items");
};

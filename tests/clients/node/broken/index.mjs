// Loads, but exports no `handler`; and `fails` throws.
export const somethingElse = () => "not the handler";

export const fails = async () => {
  throw new TypeError("the order has no items");
};

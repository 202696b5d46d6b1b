import { AuthError, LaunchGate, PaymentError, ValidationError } from "@launchgate/sdk";

const lg = new LaunchGate();
try {
  await lg.run("no-such-suite", { output: "Your refund is on its way." });
} catch (error) {
  if (error instanceof AuthError) console.log("check the API key");
  else if (error instanceof PaymentError) console.log("the monthly runs are used up");
  else if (error instanceof ValidationError) console.log(error.status, error.code, error.message);
  // 404 NOT_FOUND Suite 'no-such-suite' not found
  else throw error;
}

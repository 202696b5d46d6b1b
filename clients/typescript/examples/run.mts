import { LaunchGate } from "@launchgate/sdk";

const lg = new LaunchGate(); // key and URL from LAUNCHGATE_API_KEY / _URL or .launchgaterc
const result = await lg.run("refund-replies", {
  output: "Sorry about that! Your refund is on its way.",
  input: { customer: "Ann" }, // optional: merged into each case's input
  triggerMeta: { commit: "4f2a9c1" }, // optional: stored with the run
});

console.log(result.status, result.passRate); // cleared 1
for (const failure of result.failures) {
  console.log(`${failure.case}: ${failure.score} < ${failure.threshold} — ${failure.reason}`);
}
if (!result.passed) process.exit(1);

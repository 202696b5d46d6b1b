import { LaunchGate } from "@launchgate/sdk";

const lg = new LaunchGate();
// A suite with a sampled llm_judge case, and an output the judge cannot make its mind up on.
const result = await lg.run("undecided", { output: process.env.UNDECIDED_OUTPUT ?? "…" });

console.log(result.status, result.passed); // inconclusive false
const detail = result.verdictDetail;
if (detail) console.log(detail.passRateLow, detail.passRateHigh); // 0.5 1
for (const failure of result.failures) {
  if (failure.status === "inconclusive" && failure.sampling) {
    const { mean, interval, samples } = failure.sampling;
    console.log(`${failure.case}: mean ${mean.toFixed(2)} in [${interval[0].toFixed(2)}, ${interval[1].toFixed(2)}] after ${samples.length} judgements`);
  }
}

import { LaunchGate } from "@launchgate/sdk";

const lg = new LaunchGate();
const queued = await lg.run("refund-replies", {
  output: "For a refund, write to billing@example.com.",
  async: true,
});
console.log(queued.status); // pending

const done = await lg.waitForRun(queued, { intervalMs: 500, timeoutMs: 30_000 });
console.log(done.status, `${done.passedCases}/${done.totalCases}`); // aborted 1/2

const { data } = await lg.getRun(done.id!);
console.log(data.trigger, data.output); // sdk For a refund, write to billing@example.com.

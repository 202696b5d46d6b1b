import { LaunchGate } from "@launchgate/sdk";

const answers: Record<string, string> = {
  "late-parcel": "Sorry about that! Your refund is on its way.",
  "wrong-size": "Sorry! A refund for the wrong size is on its way.",
  damaged: "We are sorry it arrived damaged: your refund is on its way.",
};
const lg = new LaunchGate();
const batch = await lg.batch("refund-replies", {
  items: Object.entries(answers).map(([key, output]) => ({ key, output })),
  baseline: "auto", // the latest batch of the suite on its baseline branch, if any
  triggerMeta: { branch: "my-change" },
  onProgress: (b) => console.error(`${b.items.done}/${b.items.total} items scored`),
});

console.log(batch.status, batch.passRate, `${batch.items.cleared}/${batch.items.total}`); // cleared 1 3/3
for (const c of batch.cases ?? []) {
  const [low, high] = c.interval;
  console.log(`${c.case}: ${c.passRate} [${low.toFixed(2)}, ${high.toFixed(2)}]`);
}
for (const c of batch.regressions) {
  console.log(`▼ ${c.case}: ${c.difference}, p = ${c.pValue}`); // none without a baseline
}
if (!batch.passed) process.exit(1);

import { LaunchGate } from "@launchgate/sdk";
const result = await new LaunchGate().run("refund-replies", { output: "Your refund is on its way." });
console.log(result.status); // cleared

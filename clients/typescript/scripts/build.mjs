// `npm run build`: the ESM and CommonJS builds with their .d.ts (tsc --strict, twice), each
// marked with its module type, then the documentation's examples (examples/*.mts, which
// import the package by its name, so they compile against the built .d.ts).
//
// Incremental: tsc keeps what it knows in dist/*.tsbuildinfo and build/*.tsbuildinfo, beside
// its output, so deleting dist/ or build/ forgets it too; `--clean` starts from nothing (the
// prepublishOnly script uses it, so no file of a deleted source is ever published).
import { spawn } from "node:child_process";
import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const tsc = createRequire(import.meta.url).resolve("typescript/bin/tsc");

function compile(project) {
  return new Promise((done, fail) => {
    const child = spawn(process.execPath, [tsc, "-p", project], { cwd: root, stdio: "inherit" });
    child.on("error", fail);
    child.on("exit", (code) => (code === 0 ? done() : fail(new Error(`tsc -p ${project} failed`))));
  });
}

if (process.argv.includes("--clean")) {
  rmSync(join(root, "dist"), { recursive: true, force: true });
  rmSync(join(root, "build"), { recursive: true, force: true });
}
await Promise.all([compile("tsconfig.json"), compile("tsconfig.cjs.json")]);
for (const [dir, type] of [["esm", "module"], ["cjs", "commonjs"]]) {
  mkdirSync(join(root, "dist", dir), { recursive: true });
  writeFileSync(join(root, "dist", dir, "package.json"), `${JSON.stringify({ type })}\n`);
}
await compile("tsconfig.examples.json");

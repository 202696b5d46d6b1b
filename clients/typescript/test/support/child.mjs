// A child `node` running a snippet that imports the built package, with a cwd, HOME and
// environment of the test's choosing: how the tests see real stderr and real rc files.
import { execFile } from "node:child_process";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

export const PACKAGE_DIR = resolve(dirname(fileURLToPath(import.meta.url)), "..", "..");
export const ESM_ENTRY = pathToFileURL(join(PACKAGE_DIR, "dist", "esm", "index.js")).href;

/** The process's environment without any LaunchGate setting, plus `extra`. */
export function cleanEnv(extra = {}) {
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith("LAUNCHGATE_")));
  return { ...env, ...extra };
}

/** Run `code` (an ES module; `sdk` is the package's namespace) and resolve to its exit
 * code, stdout and stderr. */
export function runSnippet(code, { cwd = PACKAGE_DIR, env = cleanEnv() } = {}) {
  const source = `import * as sdk from ${JSON.stringify(ESM_ENTRY)};\n${code}`;
  return runNode(["--input-type=module", "-e", source], { cwd, env });
}

export function runNode(args, { cwd = PACKAGE_DIR, env = cleanEnv() } = {}) {
  return new Promise((done) => {
    execFile(process.execPath, args, { cwd, env, timeout: 60_000 }, (error, stdout, stderr) => {
      done({ code: error ? (typeof error.code === "number" ? error.code : 1) : 0, stdout, stderr });
    });
  });
}

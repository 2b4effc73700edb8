// Bundle the extension into dist/extension.js (one file; `vscode` is provided
// by the editor).  With --tests, also bundle each test/*.test.ts into out/test/
// for `node --test`: the tests import the pure modules, never `vscode`.
import { build } from "esbuild";
import { readdirSync } from "node:fs";

const common = { bundle: true, platform: "node", target: "node20", format: "cjs", logLevel: "warning" };

await build({
  ...common,
  entryPoints: ["src/extension.ts"],
  outfile: "dist/extension.js",
  external: ["vscode"],
  minify: true,
  sourcemap: false,
});

if (process.argv.includes("--tests")) {
  const tests = readdirSync("test").filter((name) => name.endsWith(".test.ts")).map((name) => `test/${name}`);
  await build({ ...common, entryPoints: tests, outdir: "out/test", external: ["vscode"] });
}

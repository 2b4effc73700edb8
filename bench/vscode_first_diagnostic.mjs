// Time to the first diagnostic in code-server, measured by bench/vscode.py:
// the page load to the workbench; opening PLUGIN as soon as the workbench is
// there to its first cat-lint problem (the server still starting); the same
// from the page load; then opening a second plugin, the server running, to
// its problems.  Prints one JSON line.
import { STEP_TIMEOUT, openFile, openWorkbench, problems, until } from "../tests/vscode/editor.mjs";

const env = process.env;
const { browser, page, url } = await openWorkbench(env);
try {
  const loaded = Date.now();
  await page.goto(url);
  await page.locator(".monaco-workbench").waitFor({ timeout: STEP_TIMEOUT });
  const workbench = Date.now() - loaded;
  const firstOpen = Date.now();
  await openFile(page, env.PLUGIN);
  await page.keyboard.press("Control+Shift+M");
  await until("the first problem", async () => (await problems(page)).length > 0);
  const cold = Date.now() - loaded;
  const coldFromOpen = Date.now() - firstOpen;
  const second = env.SECOND_PLUGIN.split("/").pop();
  const opened = Date.now();
  await openFile(page, env.SECOND_PLUGIN);
  await until("the second plugin's problems", async () =>
    (await page.locator(".markers-panel .monaco-list-row", { hasText: second }).count()) > 0,
  );
  const warm = Date.now() - opened;
  process.stdout.write(`${JSON.stringify({ workbenchMs: workbench, coldMs: cold, coldFromOpenMs: coldFromOpen, warmMs: warm })}\n`);
} finally {
  await browser.close();
}

// Time to the first diagnostic in code-server, measured by bench/vscode.py:
// from the page load to the first cat-lint problem of PLUGIN (the server
// starting included), then from opening a second plugin, with the server
// running, to its problems.  Prints one JSON line.
import { STEP_TIMEOUT, openFile, openWorkbench, problems, until } from "../tests/vscode/editor.mjs";

const env = process.env;
const { browser, page, url } = await openWorkbench(env);
try {
  const loaded = Date.now();
  await page.goto(url);
  await page.locator(".monaco-workbench").waitFor({ timeout: STEP_TIMEOUT });
  await openFile(page, env.PLUGIN);
  await page.keyboard.press("Control+Shift+M");
  await until("the first problem", async () => (await problems(page)).length > 0);
  const cold = Date.now() - loaded;
  const second = env.SECOND_PLUGIN.split("/").pop();
  const opened = Date.now();
  await openFile(page, env.SECOND_PLUGIN);
  await until("the second plugin's problems", async () =>
    (await page.locator(".markers-panel .monaco-list-row", { hasText: second }).count()) > 0,
  );
  const warm = Date.now() - opened;
  process.stdout.write(`${JSON.stringify({ coldMs: cold, warmMs: warm })}\n`);
} finally {
  await browser.close();
}

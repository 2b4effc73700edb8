// Open code-server on WORKSPACE (a folder, or a .code-workspace file) and print,
// as one JSON line, what the Cat Keys view shows once it has settled: its
// rows (expanded), its message line and its welcome text.  The pytest test
// that runs it makes the assertions.  Saves a screenshot in SCREENSHOTS.
import { join } from "node:path";

import { keysPane, openWorkbench, until } from "./editor.mjs";

const env = process.env;
// Tall, so that the list (which renders only visible rows) shows every key.
const { browser, page, url } = await openWorkbench(env, { width: 1440, height: 3000 });
const target = env.WORKSPACE.endsWith(".code-workspace")
  ? `http://127.0.0.1:${env.PORT}/?workspace=${encodeURIComponent(env.WORKSPACE)}`
  : url;
try {
  await page.goto(target);
  await page.locator(".monaco-workbench").waitFor({ timeout: 90_000 });
  const pane = await keysPane(page);
  const folders = page.locator(".explorer-viewlet .pane", { has: page.locator(".explorer-folders-view") }).locator(".pane-header");
  if ((await folders.getAttribute("aria-expanded")) === "true") {
    await folders.click(); // the keys get the room
  }
  const read = async () => ({
    rows: await pane.locator(".monaco-list-row").evaluateAll((rows) => rows.map((r) => (r.textContent || "").trim())),
    message: ((await pane.locator(".message").allTextContents()).join(" ") || "").trim(),
    welcome: ((await pane.locator(".welcome-view").allTextContents()).join(" ") || "").trim(),
  });
  // Settled: rows, or a welcome other than the one shown before the server answers.
  let seen;
  try {
    seen = await until("the view to settle", async () => {
      const now = await read();
      const starting = [...now.rows, now.welcome].some((text) => text.includes("not running"));
      return !starting && (now.rows.length > 0 || now.welcome) && now;
    });
  } catch (error) {
    await page.screenshot({ path: join(env.SCREENSHOTS, `${env.NAME || "explorer"}-failed.png`) });
    process.stderr.write(`${await pane.innerHTML()}\n`);
    throw error;
  }
  // Expand every collapsed section, then read again.
  for (const twistie of await pane.locator(".monaco-list-row[aria-expanded='false']").all()) {
    await twistie.click();
  }
  await page.waitForTimeout(500);
  const final = seen.rows.length > 0 ? await read() : seen;
  if (final.rows.length === 0) {
    // The welcome content's link says where the database was looked for.
    await pane.locator(".welcome-view a, .welcome-view .monaco-button", { hasText: "Where Was It Looked For?" }).first().click();
    const toast = page.locator(".notifications-toasts .notification-list-item", { hasText: "Cat:" }).first();
    await toast.waitFor({ timeout: 30_000 });
    final.notification = ((await toast.textContent()) || "").trim();
  }
  await page.screenshot({ path: join(env.SCREENSHOTS, `${env.NAME || "explorer"}.png`) });
  process.stdout.write(`${JSON.stringify(final)}\n`);
} finally {
  await browser.close();
}

// The extension in a real VS Code: code-server (already started on PORT, with
// the built .vsix installed) driven by headless Chromium through playwright-core.
// tests/vscode/test_vscode_e2e.py prepares everything and runs this script;
// it prints one line per step and exits non-zero on the first failure, after
// saving a screenshot of the page in SCREENSHOTS.
//
// Environment (set by the pytest test):
//   PORT, WORKSPACE, SCREENSHOTS, CHROMIUM, PLAYWRIGHT (path to playwright-core),
//   PYTHON (a Python with the `cat` runtime, to save a key from another process),
//   EXPECT (JSON: what the steps check),
//   README_SCREENSHOT (optional: where to save the key explorer screenshot).

import { execFileSync } from "node:child_process";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";

import {
  STEP_TIMEOUT,
  command as paletteCommand,
  editorText,
  goToLine,
  keyRows,
  keysPane,
  openFile,
  openWorkbench,
  problemLabels,
  problems,
  same,
  until,
} from "./editor.mjs";

const env = process.env;
const expect = JSON.parse(env.EXPECT);

mkdirSync(env.SCREENSHOTS, { recursive: true });

function log(text) {
  process.stdout.write(`${text}\n`);
}

const { browser, page, url: base } = await openWorkbench(env);
const command = (title) => paletteCommand(page, title);
let failed = false;

async function step(name, body) {
  const started = Date.now();
  try {
    await body();
    log(`ok   ${name} (${((Date.now() - started) / 1000).toFixed(1)} s)`);
  } catch (error) {
    failed = true;
    const shot = join(env.SCREENSHOTS, `${name.replace(/[^a-z0-9]+/gi, "-")}.png`);
    await page.screenshot({ path: shot }).catch(() => undefined);
    log(`FAIL ${name}: ${error.message.split("Call log:")[0].trim()}`);
    log(`     screenshot: ${shot}`);
    throw error;
  }
}

try {
  await step("1 open the project", async () => {
    await page.goto(base);
    await page.locator(".monaco-workbench").waitFor({ timeout: STEP_TIMEOUT });
    await page.locator(".explorer-folders-view .monaco-list-row", { hasText: "plugins" }).first().waitFor({ timeout: STEP_TIMEOUT });
  });

  await step("2 problems of a plugin with mistakes", async () => {
    await openFile(page, expect.plugin);
    await page.keyboard.press("Control+Shift+M");
    await page.locator(".markers-panel").waitFor();
    const seen = await until(`the problems ${JSON.stringify(expect.problems)}`, async () => {
      const now = await problems(page);
      if (!same(now, expect.problems)) {
        throw new Error(`problems ${JSON.stringify(now)} from rows ${JSON.stringify(await problemLabels(page))}`);
      }
      return now;
    });
    log(`     problems: ${JSON.stringify(seen)}`);
    const pane = await keysPane(page);
    await until("the key explorer's rows", async () => (await keyRows(pane)).length > 0);
    // Room for the keys: fold the file tree (files are opened with Control+P from here on).
    const folders = page.locator(".explorer-viewlet .pane", { has: page.locator(".explorer-folders-view") }).locator(".pane-header");
    if ((await folders.getAttribute("aria-expanded")) === "true") {
      await folders.click();
    }
    // Widen the side bar so that the keys' descriptions show whole.
    const sidebar = await page.locator(".part.sidebar").boundingBox();
    if (sidebar) {
      const y = sidebar.y + sidebar.height / 2;
      await page.mouse.move(sidebar.x + sidebar.width + 1, y);
      await page.mouse.down();
      await page.mouse.move(sidebar.x + sidebar.width + 140, y, { steps: 5 });
      await page.mouse.up();
    }
    await page.locator(".monaco-editor.focused, .editor-group-container.active .monaco-editor").first().click({ position: { x: 300, y: 10 } });
    if (env.README_SCREENSHOT) {
      await page.screenshot({ path: env.README_SCREENSHOT });
      log(`     README screenshot: ${env.README_SCREENSHOT}`);
    }
    await page.screenshot({ path: join(env.SCREENSHOTS, "key-explorer.png") });
  });

  await step("3 completion offers a key only in the database", async () => {
    await openFile(page, expect.completionFile);
    await goToLine(page, expect.completionLine, 100);
    await page.keyboard.press("End");
    await page.keyboard.press("Enter");
    await page.keyboard.type('return await store.load("');
    await page.keyboard.press("Control+Space");
    const rows = page.locator(".suggest-widget .monaco-list-row");
    await until(`a completion "${expect.databaseOnlyKey}"`, async () => {
      const labels = await rows.evaluateAll((r) => r.map((e) => e.getAttribute("aria-label") || e.textContent || ""));
      return labels.some((l) => l.includes(expect.databaseOnlyKey));
    });
    await page.keyboard.press("Escape");
    await command("View: Revert and Close Editor");
    await page.locator(".tabs-container .tab", { hasText: expect.completionFile.split("/").pop() }).waitFor({ state: "detached" });
  });

  await step("4 a quick fix removes its finding", async () => {
    await openFile(page, expect.plugin);
    await goToLine(page, expect.quickFix.line, expect.quickFix.column);
    await page.keyboard.press("Control+.");
    const action = page.locator(".action-widget .monaco-list-row", { hasText: expect.quickFix.title }).first();
    await action.waitFor({ timeout: STEP_TIMEOUT });
    // The menu takes the keyboard (a pointer block covers it): move the focus to the fix, then apply it.
    const focused = page.locator(".action-widget .monaco-list-row.focused");
    for (let i = 0; i < 10 && !((await focused.getAttribute("aria-label")) || "").includes(expect.quickFix.title); i++) {
      await page.keyboard.press("ArrowDown");
    }
    await page.keyboard.press("Enter");
    await until(`the problems ${JSON.stringify(expect.afterQuickFix)}`, async () => same(await problems(page), expect.afterQuickFix));
  });

  await step("5 fix all on save", async () => {
    await page.keyboard.press("Control+S");
    await until("no problems left", async () => (await problems(page)).length === 0);
    const saved = readFileSync(join(env.WORKSPACE, expect.plugin), "utf-8");
    for (const line of expect.savedLines) {
      if (!saved.includes(line)) {
        throw new Error(`the saved file lacks ${JSON.stringify(line)}:\n${saved}`);
      }
    }
  });

  let pane;
  await step("6 the key explorer lists the database's keys", async () => {
    pane = await keysPane(page);
    await until(`rows for ${expect.globalKeys.join(", ")}`, async () => {
      const rows = await keyRows(pane);
      return expect.globalKeys.every((key) => rows.some((r) => r.startsWith(key)));
    });
    // The status bar says which database the server reads.
    await page.locator(".statusbar-item", { hasText: expect.statusText }).first().waitFor();
  });

  /** The active editor's text once it parses as `value`. */
  const jsonShown = (value) =>
    until(`the value ${JSON.stringify(value)}`, async () => {
      const now = await editorText(page);
      try {
        return same(JSON.parse(now), value) ? now : false;
      } catch {
        return false;
      }
    });

  await step("7 a key's value opens as JSON", async () => {
    await pane.locator(".monaco-list-row", { hasText: expect.openKey }).first().click();
    await page.locator(".tabs-container .tab.active", { hasText: `${expect.openKey}.json` }).waitFor();
    const text = await jsonShown(expect.openValue);
    log(`     ${expect.openKey}.json: ${text.replace(/\n\s*/g, " ")}`);
    // A per-user key asks whose value to open.
    const { key, user, value } = expect.userKey;
    await pane.locator(".monaco-list-row", { hasText: key }).first().click();
    await page.locator(".quick-input-widget .monaco-list-row", { hasText: user }).first().click();
    await page.locator(".tabs-container .tab.active", { hasText: `${key} (${user}).json` }).waitFor();
    await jsonShown(value);
    log(`     ${key} of ${user}: ${JSON.stringify(value)}`);
  });

  await step("7b go to the place that saves a key", async () => {
    const { key, file, line } = expect.goToSaves;
    await pane.locator(".monaco-list-row", { hasText: key }).first().click({ button: "right" });
    // The context menu takes the keyboard (like the quick fix menu): focus the entry, then Enter.
    await page.locator(".monaco-menu .action-item", { hasText: "Go to Saves" }).first().waitFor();
    const focused = async () => {
      const items = page.locator(".monaco-menu .action-item.focused");
      return (await items.count()) ? (await items.first().textContent()) || "" : "";
    };
    for (let i = 0; i < 5 && !(await focused()).includes("Go to Saves"); i++) {
      await page.keyboard.press("ArrowDown");
    }
    await page.keyboard.press("Enter");
    await page.locator(".tabs-container .tab.active", { hasText: file }).waitFor();
    await page.locator(".statusbar-item", { hasText: `Ln ${line},` }).first().waitFor();
  });

  await step("8 a key saved by another process shows up without a reload", async () => {
    execFileSync(env.PYTHON, ["-c", expect.saveScript, env.WORKSPACE], { stdio: "inherit" });
    await until(`a row for ${expect.newKey}`, async () => (await keyRows(pane)).some((r) => r.startsWith(expect.newKey)));
  });

  await step("8b lint settings apply live", async () => {
    await openFile(page, expect.livePlugin);
    const codesOf = async () => [...new Set((await problems(page)).map(([code]) => code))].sort();
    await until(`the problems ${JSON.stringify(expect.liveBefore)}`, async () => same(await codesOf(), expect.liveBefore));
    // The workspace's settings file, as a user editing it would leave it.
    mkdirSync(join(env.WORKSPACE, ".vscode"), { recursive: true });
    writeFileSync(join(env.WORKSPACE, ".vscode", "settings.json"), JSON.stringify({ "cat.lint.ignore": expect.liveIgnore }, null, 2));
    await until(`the problems ${JSON.stringify(expect.liveAfter)}`, async () => same(await codesOf(), expect.liveAfter));
  });

  await step("9 a missing interpreter is reported", async () => {
    // As a user would: the Settings editor, search, type the path.
    await command("Preferences: Open User Settings");
    const search = page.locator(".settings-editor .settings-header .monaco-editor textarea, .settings-editor .suggest-input-container textarea").first();
    await search.waitFor();
    await search.focus(); // the Settings editor focuses its search box; make sure of it
    await page.keyboard.type("cat.interpreter");
    const field = page.locator(".settings-editor .setting-item-contents", { hasText: "Interpreter" }).locator("input").first();
    await field.waitFor();
    await field.fill(expect.missingInterpreter);
    await page.keyboard.press("Tab");
    const toast = page.locator(".notifications-toasts .notification-list-item", { hasText: expect.missingInterpreter }).first();
    await toast.waitFor({ timeout: STEP_TIMEOUT });
    const message = (await toast.textContent()) || "";
    if (!message.includes("was not found")) {
      throw new Error(`unexpected notification: ${message}`);
    }
    if (!(await toast.locator(".monaco-button", { hasText: "Open Setting" }).count())) {
      throw new Error(`the notification has no "Open Setting" button: ${message}`);
    }
    log(`     notification: ${message.trim().slice(0, 160)}`);
  });
} catch {
  // reported by step()
} finally {
  await browser.close();
}
process.exit(failed ? 1 : 0);

/**
 * Debian's Chromium, driven by playwright-core, for the end-to-end specs (test/e2e). CI
 * installs the `chromium` package (.ci/run); without it these specs fail, never skip.
 *
 * Chromium starts headless, as root without its sandbox, with a new empty profile and
 * without background networking (it would otherwise try to reach Google's hosts at every
 * start). Each spec opens its own context; `screenshot` keeps a picture of a page under
 * test-artifacts/screenshots (the CI's artifacts, and the source of the README's pictures).
 */
import fs from 'node:fs';
import path from 'node:path';
import { chromium, type Browser, type BrowserContext, type Page, type Request } from 'playwright-core';
import { ROOT } from './build.js';

/** Where Debian installs Chromium (CHROMIUM_PATH overrides). */
export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
export const SCREENSHOTS = path.join(ROOT, 'test-artifacts', 'screenshots');

const ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--disable-default-apps',
  '--disable-dev-shm-usage',
];

export interface TestBrowser {
  browser: Browser;
  /** a fresh context (own cookies and storage) in the given language */
  context(options?: { locale?: string }): Promise<BrowserContext>;
  close(): Promise<void>;
}

/** Starts Chromium; throws (the spec fails) when it is not installed. */
export async function startBrowser(): Promise<TestBrowser> {
  if (!fs.existsSync(CHROMIUM)) throw new Error(`Chromium is not installed at ${CHROMIUM} (apt-get install chromium)`);
  // playwright gives every launch a new empty profile of its own (a --user-data-dir here would make it refuse)
  const browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ARGS });
  return {
    browser,
    async context(options = {}) {
      const locale = options.locale ?? 'en-GB';
      return browser.newContext({ locale, extraHTTPHeaders: { 'Accept-Language': locale } });
    },
    async close() {
      await browser.close();
    },
  };
}

/** Keeps a full-page screenshot as test-artifacts/screenshots/<name>.png; returns its path. */
export async function screenshot(page: Page, name: string): Promise<string> {
  fs.mkdirSync(SCREENSHOTS, { recursive: true });
  const file = path.join(SCREENSHOTS, `${name.replace(/[^a-z0-9-]+/gi, '-')}.png`);
  await page.screenshot({ path: file, fullPage: true });
  return file;
}

/** Records every request a page makes from now on (method, URL, and whether it carried a body). */
export function recordRequests(page: Page): { requests: Array<{ method: string; url: string; bodyBytes: number }>; stop(): void } {
  const requests: Array<{ method: string; url: string; bodyBytes: number }> = [];
  const onRequest = (req: Request) => requests.push({ method: req.method(), url: req.url(), bodyBytes: req.postDataBuffer()?.length ?? 0 });
  page.on('request', onRequest);
  return { requests, stop: () => page.off('request', onRequest) };
}

/**
 * Presses Tab until the focused element matches `selector` (at most `max` times); throws
 * when it is never reached, so that a control out of the keyboard's reach fails the spec.
 */
export async function tabTo(page: Page, selector: string, max = 40): Promise<void> {
  for (let i = 0; i < max; i++) {
    await page.keyboard.press('Tab');
    if (await page.evaluate((s) => document.activeElement?.matches(s) ?? false, selector)) return;
  }
  throw new Error(`${selector} was not reached by keyboard within ${max} presses of Tab`);
}

/** Every visible element with text of its own whose contrast with its background is under 4.5:1 (WCAG 2 relative luminance). */
const CONTRAST_PROBE = `(() => {
  const rgb = (c) => (c.match(/[\\d.]+/g) || []).map(Number);
  const lum = (c) => {
    const [r, g, b] = c.slice(0, 3).map((v) => { const x = v / 255; return x <= 0.03928 ? x / 12.92 : ((x + 0.055) / 1.055) ** 2.4; });
    return 0.2126 * r + 0.7152 * g + 0.0722 * b;
  };
  const background = (e) => {
    for (; e; e = e.parentElement) {
      const c = rgb(getComputedStyle(e).backgroundColor);
      if (c.length === 3 || (c.length === 4 && c[3] > 0)) return c;
    }
    return [255, 255, 255];
  };
  const out = [];
  for (const e of document.querySelectorAll('body *')) {
    const own = Array.from(e.childNodes).some((n) => n.nodeType === Node.TEXT_NODE && n.textContent.trim() !== '');
    if (!own || e.offsetParent === null) continue;
    const fg = lum(rgb(getComputedStyle(e).color));
    const bg = lum(background(e));
    const ratio = (Math.max(fg, bg) + 0.05) / (Math.min(fg, bg) + 0.05);
    if (ratio < 4.5) out.push(e.tagName + '.' + e.className + ': ' + ratio.toFixed(2));
  }
  return out;
})()`;

/** The elements of the page whose text contrast is under 4.5:1 (WCAG 2.2 AA, 1.4.3), as `TAG.class: ratio`; none is the pass. */
export async function lowContrast(page: Page): Promise<string[]> {
  // a string, not a function: the TypeScript loader would name its inner functions with a helper the page lacks
  return (await page.evaluate(CONTRAST_PROBE)) as string[];
}

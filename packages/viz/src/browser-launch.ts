// Test-only: launching Debian's Chromium through playwright-core for the real-browser tests. CI installs
// it with apt (`apt-get install chromium`); without it those tests skip and say why.
import { existsSync } from "node:fs";
import type { Browser } from "playwright-core";

export const CHROMIUM_PATH = "/usr/bin/chromium";

export const HAS_CHROMIUM = existsSync(CHROMIUM_PATH);

if (!HAS_CHROMIUM) {
  console.warn(
    `${CHROMIUM_PATH} not found: real-browser tests skipped (install Debian's chromium to run them)`,
  );
}

/** Headless Chromium with no network side traffic (no component updates, no background requests). */
export async function launchChromium(): Promise<Browser> {
  const { chromium } = await import("playwright-core");
  return chromium.launch({
    executablePath: CHROMIUM_PATH,
    args: [
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--disable-background-networking",
      "--disable-component-update",
    ],
  });
}

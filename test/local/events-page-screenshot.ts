/**
 * Makes docs/events-page.png: the shipped local bundle, a Chromium visit of the demo site (the same scenario as the
 * end-to-end tests), then a headless screenshot of the events page. Run: `npx tsx test/local/events-page-screenshot.ts`.
 */
import { join } from 'node:path';
import { launchChromium, ROOT, runDemoScenario, startLocalBundle } from './support';

async function main(): Promise<void> {
  const out = process.argv[2] ?? join(ROOT, 'docs', 'events-page.png');
  const inst = await startLocalBundle();
  const browser = await launchChromium();
  try {
    const visit = await browser.newPage();
    await runDemoScenario(visit, inst.base);
    await visit.close();
    const page = await browser.newPage({ viewport: { width: 1360, height: 860 }, deviceScaleFactor: 1 });
    await page.goto(`${inst.base}/micro/ui`);
    await page.waitForSelector('#bad tbody tr.row');
    await page.screenshot({ path: out, fullPage: true });
    process.stdout.write(`wrote ${out}\n`);
  } finally {
    await browser.close();
    inst.proc.signalGroup('SIGINT');
    await inst.proc.exited;
  }
}

main().catch((e: Error) => {
  process.stderr.write(`${e.stack ?? e.message}\n`);
  process.exit(1);
});

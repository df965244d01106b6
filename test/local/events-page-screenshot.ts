/**
 * Makes docs/events-page.png: the shipped local bundle, a Chromium visit of the demo site (the same scenario as the
 * end-to-end tests), then a headless screenshot of the events page at 1,400 px with the bad row open.
 * Run: `npx tsx test/local/events-page-screenshot.ts [out.png] [width]`.
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
    const width = Number(process.argv[3] ?? 1400);
    const page = await browser.newPage({ viewport: { width, height: 1000 }, deviceScaleFactor: 1 });
    await page.goto(`${inst.base}/micro/ui`);
    await page.waitForSelector('#events tbody tr.row.bad');
    await page.click('#events tbody tr.row.bad');
    await page.waitForSelector('#detail:not([hidden])');
    await page.screenshot({ path: out });
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

// Intraday scale in the page (scripts/bench-intraday): one ticker's one-minute bars from a CSV
// through upload → zerosigma model → build → the default sweep (5 configs × 5 splits) with 2
// workers, in headless Chromium. Measures each step's wall time, the peak memory of all of the
// browser's processes (PSS, so shared pages count once; RSS beside it), and the longest task
// on the page thread (a PerformanceObserver for long tasks).
// Usage: node tests/bench/intraday.mjs BARS.csv [workers]  → one JSON line on stdout.
import { readFileSync, readdirSync } from 'node:fs';
import { basename } from 'node:path';
import { startServer, launch } from '../e2e/browser.mjs';

const [csv, workersArg = '2'] = process.argv.slice(2);
if (!csv) throw new Error('usage: node tests/bench/intraday.mjs BARS.csv [workers]');

/** Pids of the browser started with `profile` and all its descendants. */
function tree(profile) {
  const procs = [];
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const stat = readFileSync(`/proc/${d}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      const cmd = readFileSync(`/proc/${d}/cmdline`, 'utf8');
      procs.push({ pid: Number(d), ppid, root: cmd.includes(`--user-data-dir=${profile}`) });
    } catch { /* gone */ }
  }
  const keep = new Set(procs.filter((p) => p.root).map((p) => p.pid));
  for (let grew = true; grew;) {
    grew = false;
    for (const p of procs) if (!keep.has(p.pid) && keep.has(p.ppid)) { keep.add(p.pid); grew = true; }
  }
  return [...keep];
}

/** Sum of PSS and RSS (bytes) over `pids`. */
function memory(pids) {
  let pss = 0, rss = 0;
  for (const pid of pids) {
    try {
      const t = readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8');
      pss += 1024 * Number(/^Pss:\s+(\d+)/m.exec(t)?.[1] ?? 0);
      rss += 1024 * Number(/^Rss:\s+(\d+)/m.exec(t)?.[1] ?? 0);
    } catch { /* gone */ }
  }
  return { pss, rss };
}

const longTasks = () => {
  window.__tasks = [];
  new PerformanceObserver((list) => {
    for (const e of list.getEntries()) window.__tasks.push([e.startTime, e.duration]);
  }).observe({ type: 'longtask', buffered: true });
};

const { server, base } = await startServer();
const { context, page, profile } = await launch({ init: longTasks });
const peak = { pss: 0, rss: 0, step: '' };
let step = 'start';
const sampler = setInterval(() => {
  const m = memory(tree(profile));
  if (m.pss > peak.pss) Object.assign(peak, { pss: m.pss, step });
  peak.rss = Math.max(peak.rss, m.rss);
}, 200);
const times = {};
const marks = [];
const timed = async (name, f) => {
  step = name;
  marks.push([name, await page.evaluate(() => performance.now())]);
  const t = Date.now();
  await f();
  times[name] = (Date.now() - t) / 1000;
  marks.push(['between', await page.evaluate(() => performance.now())]);
};
try {
  await page.goto(base);
  await page.waitForSelector('[data-testid=dataset]', { timeout: 60_000 });
  const name = basename(csv);
  await timed('upload', async () => {
    await page.setInputFiles('[data-testid=file-input]', csv);
    await page.waitForFunction((n) => [...document.querySelectorAll('[data-testid=dataset]')].some((d) => d.textContent.includes(n)), name, { timeout: 600_000 });
  });
  await page.click('nav a[data-route=models]');
  await page.selectOption('[data-testid=pack]', 'zerosigma');
  const ds = await page.locator('[data-testid=model-dataset] option', { hasText: name }).getAttribute('value');
  await page.selectOption('[data-testid=model-dataset]', ds);
  await page.waitForSelector('[data-testid=ticker] option', { state: 'attached' });
  await page.click('[data-testid=create-model]');
  await page.locator('[data-testid=models] tr[data-model] [data-testid=open-build]').last().click();
  await timed('build', async () => {
    await page.click('[data-testid=build-matrix]');
    await page.waitForSelector('[data-testid=matrix-sha]', { timeout: 1_800_000 });
  });
  const rows = await page.locator('[data-testid=matrix-rows]').innerText();
  // The worker's own time for the engine's build, beside the wall time that adds reading the
  // bars from IndexedDB, the inputs' sha, and storing the matrix.
  const buildOrigin = await page.locator('[data-testid=matrix-origin]').innerText();
  await page.click('nav a[data-route=sweeps]');
  await page.fill('[data-testid=workers]', workersArg);
  await timed('sweep', async () => {
    await page.click('[data-testid=run-sweep]');
    await page.waitForSelector('[data-testid=sweep-result], [data-testid=sweep-error]', { timeout: 3_600_000 });
  });
  const error = await page.locator('[data-testid=sweep-error]').count() ? await page.locator('[data-testid=sweep-error]').innerText() : null;
  const oofSha = await page.locator('[data-testid=sweep-summary]').getAttribute('data-oof-sha').catch(() => null);
  const tasks = await page.evaluate(() => window.__tasks);
  // The longest page-thread task in each step (and between them: navigation, model creation).
  const longest = {};
  for (const [start, dur] of tasks) {
    const m = [...marks].reverse().find(([, t]) => t <= start)?.[0] ?? 'start';
    longest[m] = Math.max(longest[m] ?? 0, Math.round(dur));
  }
  console.log(JSON.stringify({
    csv: name, matrix_rows: rows, workers: Number(workersArg), seconds: times, build_in_worker: buildOrigin, error, oof_sha: oofSha,
    peak_pss_gb: +(peak.pss / 2 ** 30).toFixed(2), peak_rss_gb: +(peak.rss / 2 ** 30).toFixed(2), peak_during: peak.step,
    longest_task_ms: longest, long_tasks: tasks.length,
  }));
} finally {
  clearInterval(sampler);
  await context.close();
  server.close();
}

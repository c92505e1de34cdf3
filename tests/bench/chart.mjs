// The price chart on a million bars (scripts/bench-chart): ours in the release page against
// TradingView's lightweight-charts (npm, installed by the script, never shipped) on the same
// bars, in the same headless Chromium. For each: time to show the bars, the work of one frame
// with every bar in view, 10,000 and 100 in view, and the JS heap the chart holds.
// Ours draws inside its event handlers, so a frame is timed around a dispatched key press;
// lightweight-charts paints in requestAnimationFrame callbacks, which are timed by wrapping
// requestAnimationFrame before the library loads.
// Usage: node tests/bench/chart.mjs BARS.csv LIGHTWEIGHT_CHARTS.js  → one JSON line on stdout.
import { statSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { readFileSync } from 'node:fs';
import { basename } from 'node:path';
import { startServer, launch } from '../e2e/browser.mjs';

const [csv, lwcPath] = process.argv.slice(2);
if (!csv || !lwcPath) throw new Error('usage: node tests/bench/chart.mjs BARS.csv lightweight-charts.standalone.production.js');

const stats = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return { median_ms: +s[Math.floor(s.length / 2)].toFixed(2), max_ms: +s[s.length - 1].toFixed(2) };
};

const { server, base } = await startServer();
const out = { bars_csv: basename(csv), csv_mb: +(statSync(csv).size / 2 ** 20).toFixed(1) };
try {
  // Ours: the Data page's chart of an uploaded file.
  {
    const { context, page } = await launch();
    try {
      await page.goto(base);
      await page.waitForSelector('[data-testid=dataset]', { timeout: 60_000 });
      const heap0 = await page.evaluate(() => performance.memory?.usedJSHeapSize ?? 0);
      const t = Date.now();
      await page.setInputFiles('[data-testid=file-input]', csv);
      const n = await page.evaluate(async () => {
        for (;;) {
          const c = document.querySelector('canvas.chart');
          const b = Number(c?.getAttribute('data-bars') ?? 0);
          if (b > 100_000) return b;
          await new Promise((r) => setTimeout(r, 100));
        }
      });
      out.ours = { bars: n, upload_to_chart_s: (Date.now() - t) / 1000 };
      const frames = (keys) => page.evaluate((keys) => {
        const c = document.querySelector('canvas.chart');
        const times = [];
        for (const key of keys) {
          const t0 = performance.now();
          c.dispatchEvent(new KeyboardEvent('keydown', { key, bubbles: true, cancelable: true }));
          times.push(performance.now() - t0);
        }
        return { times, window: c.getAttribute('data-window') };
      }, keys);
      await page.focus('canvas.chart');
      await frames(['Escape']);
      const all = await frames(Array(30).fill('ArrowRight'));
      // Zoom in around the middle until about 10,000 bars show, then 100.
      let w = await frames(['+']);
      while (w.window && (([a, b]) => b - a)(w.window.split('-').map(Number)) > 10_000) w = await frames(['+']);
      const tenK = await frames(Array(30).fill('ArrowRight'));
      while ((([a, b]) => b - a)(w.window.split('-').map(Number)) > 100) w = await frames(['+']);
      const hundred = await frames(Array(30).fill('ArrowRight'));
      const heap = await page.evaluate(() => performance.memory?.usedJSHeapSize ?? 0);
      Object.assign(out.ours, {
        frame_all: stats(all.times), frame_10k: { ...stats(tenK.times), window: tenK.window },
        frame_100: { ...stats(hundred.times), window: hundred.window },
        js_heap_mb: +((heap - heap0) / 2 ** 20).toFixed(1),
        note: 'wasm memory (the bars as f64 columns, ~48 B a bar) is outside the JS heap',
      });
    } finally {
      await context.close();
    }
  }

  // lightweight-charts on the same bars, parsed in the page from the same CSV.
  {
    const wrap = () => {
      window.__raf = [];
      const raf = window.requestAnimationFrame.bind(window);
      window.requestAnimationFrame = (cb) => raf((ts) => {
        const t0 = performance.now();
        cb(ts);
        window.__raf.push(performance.now() - t0);
      });
    };
    const { context, page } = await launch({ init: wrap });
    try {
      await page.route('**/bench/bars.csv', (r) => r.fulfill({ path: csv, contentType: 'text/csv' }));
      await page.route('**/bench/chart.html', (r) => r.fulfill({ contentType: 'text/html', body: '<!doctype html><body style="margin:0"><div id="c" style="width:1336px;height:420px"></div></body>' }));
      await page.goto(`${base}bench/chart.html`);
      await page.addScriptTag({ path: lwcPath });
      const r = await page.evaluate(async () => {
        const text = await (await fetch('bars.csv')).text();
        const lines = text.split('\n');
        const candles = [], volume = [];
        for (let i = 1; i < lines.length; i++) {
          if (!lines[i]) continue;
          const [ts, o, h, l, c, v] = lines[i].split(',');
          const time = Number(ts);
          candles.push({ time, open: +o, high: +h, low: +l, close: +c });
          volume.push({ time, value: +v });
        }
        const heap0 = performance.memory?.usedJSHeapSize ?? 0;
        const L = window.LightweightCharts;
        const t0 = performance.now();
        const chart = L.createChart(document.getElementById('c'), { autoSize: true, timeScale: { timeVisible: true, minBarSpacing: 0.0005 } });
        const s = chart.addSeries(L.CandlestickSeries);
        s.setData(candles);
        const vol = chart.addSeries(L.HistogramSeries, { priceScaleId: '', priceFormat: { type: 'volume' } });
        vol.priceScale().applyOptions({ scaleMargins: { top: 0.8, bottom: 0 } });
        vol.setData(volume);
        const setData = performance.now() - t0;
        const frame = () => new Promise((ok) => requestAnimationFrame(() => requestAnimationFrame(ok)));
        await frame();
        const firstPaint = performance.now() - t0;
        const n = candles.length;
        const measure = async (from, to) => {
          const times = [];
          for (let k = 0; k < 15; k++) {
            window.__raf = [];
            chart.timeScale().setVisibleLogicalRange({ from: from + k, to: to + k });
            await frame();
            times.push(Math.max(0, ...window.__raf));
          }
          return times;
        };
        const all = await measure(0, n - 15);
        const tenK = await measure(n / 2, n / 2 + 10_000);
        const hundred = await measure(n / 2, n / 2 + 100);
        const shown = chart.timeScale().getVisibleLogicalRange();
        chart.timeScale().setVisibleLogicalRange({ from: 0, to: n });
        await frame();
        const full = chart.timeScale().getVisibleLogicalRange();
        const heap = performance.memory?.usedJSHeapSize ?? 0;
        return { n, setData, firstPaint, all, tenK, hundred, shown, full, heap: heap - heap0 };
      });
      const bytes = readFileSync(lwcPath);
      out.lightweight_charts = {
        bars: r.n, set_data_s: +(r.setData / 1000).toFixed(2), to_first_paint_s: +(r.firstPaint / 1000).toFixed(2),
        frame_all: stats(r.all), frame_10k: stats(r.tenK), frame_100: stats(r.hundred),
        full_range_shown: `${Math.round(r.full.from)}-${Math.round(r.full.to)}`,
        js_heap_mb: +(r.heap / 2 ** 20).toFixed(1),
        gzip_kb: +(gzipSync(bytes, { level: 9 }).length / 1024).toFixed(1),
      };
    } finally {
      await context.close();
    }
  }
  console.log(JSON.stringify(out));
} finally {
  server.close();
}

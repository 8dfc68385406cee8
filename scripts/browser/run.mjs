// Runner for scripts/browser-check.sh: checks that <http-url> serves an HTML
// page, opens that page in headless Chromium (its own WebSocket must open and
// echo), then opens test.html (served here from 127.0.0.1), which runs the
// WebSocket checks against <ws-url>. <http-url> may be https:// and <ws-url>
// wss:// with a self-signed certificate (Chromium ignores certificate errors).
//
//   node run.mjs <ws-url> <reject-url> <http-url> <user-data-dir>
//
// Env: CHROMIUM (browser binary), BROWSER_TIMEOUT_MS (whole run, default
// 120000), STEP_TIMEOUT_MS (one check, default 20000).
// Prints "PASS name: detail" / "FAIL name: detail" per check, "# ..." notes,
// and last "N passed, N failed". Exit 0 only if nothing failed.
import fs from 'node:fs';
import http from 'node:http';
import { chromium } from 'playwright-core';

const [wsUrl, rejectUrl, httpUrl, userDataDir] = process.argv.slice(2);
const TIMEOUT_MS = Number(process.env.BROWSER_TIMEOUT_MS || 120000);
const STEP_MS = Number(process.env.STEP_TIMEOUT_MS || 20000);
const started = Date.now();

let passed = 0, failed = 0, fromPage = 0, context = null, server = null;
const consoleLines = [];

function result(name, pass, detail) {
  pass ? passed++ : failed++;
  console.log(`${pass ? 'PASS' : 'FAIL'} ${name}: ${String(detail).replace(/\s+/g, ' ')}`);
}

async function finish() {
  clearTimeout(hardTimer);
  await Promise.race([context?.close().catch(() => {}), new Promise(r => setTimeout(r, 5000))]);
  server?.close();
  if (failed) for (const l of [...new Set(consoleLines)].slice(0, 20)) console.log(`# ${l}`);
  console.log(`# ${((Date.now() - started) / 1000).toFixed(1)} s`);
  console.log(`${passed} passed, ${failed} failed`);
  process.exit(failed ? 1 : 0);
}

const hardTimer = setTimeout(() => {
  result('overall time limit', false, `not finished after ${TIMEOUT_MS} ms (BROWSER_TIMEOUT_MS)`);
  finish();
}, TIMEOUT_MS);

async function httpCheck() {
  try {
    const res = await fetch(httpUrl, { redirect: 'manual', signal: AbortSignal.timeout(10000) });
    const type = res.headers.get('content-type') || '';
    const body = await res.text();
    const title = (/<title>([^<]*)<\/title>/i.exec(body) || [])[1];
    const detail = `GET ${httpUrl} -> ${res.status}, ${type || 'no content-type'}, ${body.length} chars` +
      (title !== undefined ? `, title ${JSON.stringify(title)}` : '');
    result('http page', res.status === 200 && /^text\/html/i.test(type) && /<html|<!doctype html/i.test(body), detail);
  } catch (e) {
    result('http page', false, `GET ${httpUrl}: ${e.cause?.message || e.message}`);
  }
}

async function browserChecks() {
  const html = fs.readFileSync(new URL('./test.html', import.meta.url));
  server = http.createServer((req, res) => {
    if (req.url.startsWith('/test.html')) {
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' });
      res.end(html);
    } else {
      res.writeHead(req.url === '/favicon.ico' ? 204 : 404);
      res.end();
    }
  });
  await new Promise((resolve, reject) => server.once('error', reject).listen(0, '127.0.0.1', resolve));

  context = await chromium.launchPersistentContext(userDataDir, {
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    headless: true,
    chromiumSandbox: false, // --no-sandbox: CI runs as root
    timeout: 30000,
    args: ['--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
      '--disable-component-update', '--disable-sync', '--disable-dev-shm-usage', '--no-proxy-server',
      // wss:// and https:// to a test server with a self-signed certificate
      ...(wsUrl.startsWith('wss:') ? ['--ignore-certificate-errors'] : [])],
  });
  console.log(`# chromium ${context.browser()?.version() ?? ''} (${process.env.CHROMIUM || '/usr/bin/chromium'})`);
  await echoPageCheck();
  const page = context.pages()[0] || await context.newPage();
  page.on('console', m => consoleLines.push(`console.${m.type()}: ${m.text()}`));
  page.on('pageerror', e => consoleLines.push(`page error: ${e.message}`));
  await page.exposeFunction('reportCheck', (name, pass, detail) => { fromPage++; result(name, pass, detail); });

  const q = new URLSearchParams({ ws: wsUrl, reject: rejectUrl, stepTimeout: String(STEP_MS) });
  if (process.env.EXPECT_EXTENSION) q.set('expectExtension', process.env.EXPECT_EXTENSION);
  const { port } = server.address();
  await page.goto(`http://127.0.0.1:${port}/test.html?${q}`, { timeout: 15000 });
  const left = TIMEOUT_MS - (Date.now() - started) - 2000;
  let done;
  try {
    done = await (await page.waitForFunction(() => window.checksDone, null, { timeout: left, polling: 250 })).jsonValue();
  } catch {
    result('page finished', false, `not done within ${left} ms`);
    return;
  }
  if (!(done > 0 && done === fromPage)) result('page finished', false, `page ran ${done} checks, ${fromPage} reported`);
}

// The server's own page (examples/echo.html) in the browser: loaded from
// <http-url> (https:// for a wss:// run), its WebSocket opens (wss:// from an
// https:// page) and echoes what is typed.
async function echoPageCheck() {
  const page = await context.newPage();
  try {
    const res = await page.goto(httpUrl, { timeout: 15000 });
    await page.waitForFunction(() => (document.getElementById('state')?.textContent || '').startsWith('1'),
      null, { timeout: STEP_MS, polling: 100 });
    await page.fill('#text', 'typed in the page');
    await page.click('#send');
    await page.waitForFunction(() => document.getElementById('log').textContent.includes('< typed in the page'),
      null, { timeout: STEP_MS, polling: 100 });
    const wsUrlSeen = await page.evaluate(() => ws.url);
    result('echo page', true, `${httpUrl} -> ${res.status()}, title ${JSON.stringify(await page.title())}, ` +
      `its WebSocket ${wsUrlSeen} opened and echoed`);
  } catch (e) {
    const log = await page.evaluate(() => document.getElementById('log')?.textContent).catch(() => '');
    result('echo page', false, `${httpUrl}: ${e.message.split('\n')[0]} ${log || ''}`);
  } finally {
    await page.close().catch(() => {});
  }
}

await httpCheck();
try {
  await browserChecks();
} catch (e) {
  result('browser', false, e.message.split('\n')[0]);
}
await finish();

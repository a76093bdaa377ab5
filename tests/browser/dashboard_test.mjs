// The merchant dashboard in headless Chromium (Debian's /usr/bin/chromium, driven by
// playwright-core) against the real server with the demo data: sign in, see orders, watch a
// new paid order appear live, ship it, refund another, adjust stock, see the attribution
// table and chart, list, create, withdraw and limit coupons, see an order's coupon discount,
// read the creator payouts, on a laptop and a phone-sized window, with no console or CSP errors.
//
// The payouts totals and entries are compared with GET /v1/merchants/me/commissions.
//
// Run by ctest (test `browser_dashboard`) with:
//   REDLOOP_BIN        the redloop executable
//   REDLOOP_FIXTURES   fixtures/demo
//   REDLOOP_DASHBOARD  the built dashboard (dashboard/dist)
//   REDLOOP_ARTIFACTS  where screenshots and the server log go
//   REDLOOP_CHROMIUM   the browser (default /usr/bin/chromium)
// playwright-core is resolved from dashboard/node_modules (scripts/test runs npm ci there).
import assert from 'node:assert/strict';
import { spawn, execFileSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { existsSync, mkdirSync, mkdtempSync, rmSync, createWriteStream } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, '../..');
const bin = process.env.REDLOOP_BIN ?? path.join(root, 'build/debug/api/redloop');
const fixtures = process.env.REDLOOP_FIXTURES ?? path.join(root, 'fixtures/demo');
const dist = process.env.REDLOOP_DASHBOARD ?? path.join(root, 'dashboard/dist');
const artifacts = process.env.REDLOOP_ARTIFACTS ?? path.join(tmpdir(), 'redloop-browser');
const chromiumPath = process.env.REDLOOP_CHROMIUM ?? '/usr/bin/chromium';

function need(file, hint) {
  if (!existsSync(file)) {
    console.error(`missing ${file}: ${hint}`);
    process.exit(1);
  }
}
need(bin, 'build the redloop target');
need(path.join(dist, 'index.html'), 'build the dashboard: (cd dashboard && npm ci && npm run build)');
need(chromiumPath, 'install Debian chromium (scripts/test does)');
need(path.join(root, 'dashboard/node_modules/playwright-core'), 'run npm ci in dashboard/');
const { chromium } = createRequire(path.join(root, 'dashboard/package.json'))('playwright-core');

mkdirSync(artifacts, { recursive: true });
const work = mkdtempSync(path.join(tmpdir(), 'redloop-browser-'));
const env = {
  ...process.env,
  REDLOOP_JWT_SECRET: 'browser-test-jwt-secret-0123456789abcdef',
  REDLOOP_WEBHOOK_SECRET: 'browser-test-webhook-secret-0123456789ab',
  // seals personal data at rest (docs/reliability.md)
  REDLOOP_DATA_KEYS: 'browser1:YnJvd3Nlci10ZXN0LWRhdGEta2V5LTMyLWJ5dGVzISE=',
};
for (const k of ['REDLOOP_DB', 'REDLOOP_PORT', 'REDLOOP_LISTEN']) delete env[k];
const db = path.join(work, 'redloop.db');

const token = (role, sub) =>
  execFileSync(bin, ['token', '--role', role, '--sub', sub], { env }).toString().trim();
const MERCHANT = 'mer_westlaketea';
const merchantToken = token('merchant', MERCHANT);
const buyers = { lin: token('user', 'usr_lin'), mei: token('user', 'usr_mei') };

execFileSync(bin, ['seed', '--db', db, '--fixtures', fixtures], { env, stdio: 'ignore' });

// ---- the server ----
const serverLog = createWriteStream(path.join(artifacts, 'server.log'));
const server = spawn(bin, ['serve', '--db', db, '--port', '0', '--dashboard-dir', dist], { env });
server.stderr.pipe(serverLog);
const base = await new Promise((resolve, reject) => {
  let out = '';
  const timer = setTimeout(() => reject(new Error(`no 'listening on' line: ${out}`)), 15000);
  server.stdout.on('data', (chunk) => {
    out += chunk;
    serverLog.write(chunk);
    const m = out.match(/listening on (http:\/\/[0-9.]+:\d+)/);
    if (m) {
      clearTimeout(timer);
      resolve(m[1]);
    }
  });
  server.on('exit', (code) => reject(new Error(`server exited ${code}: ${out}`)));
});

async function api(method, target, tok, body, headers = {}) {
  const res = await fetch(base + target, {
    method,
    headers: {
      ...(tok ? { Authorization: `Bearer ${tok}` } : {}),
      ...(body !== undefined ? { 'Content-Type': 'application/json' } : {}),
      ...headers,
    },
    body: body !== undefined ? JSON.stringify(body) : undefined,
  });
  const text = await res.text();
  return { status: res.status, json: text ? JSON.parse(text) : null };
}

async function until(what, fn, ms = 10000) {
  const end = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

let keySeq = 0;
// A buyer reads the note, adds the sku from it, checks out (with coupons, if any) and pays;
// returns the order.
async function buyAndPay(tok, sku, quantity, note, name, couponCodes = []) {
  assert.equal((await api('GET', `/v1/notes/${note}`)).status, 200);
  assert.equal((await api('PUT', `/v1/cart/items/${sku}`, tok, { quantity, note_id: note })).status, 200);
  const address = { name, phone: '13800000000', line1: '西湖区北山街 12 号', city: '杭州', postal_code: '310007', country: 'CN' };
  const body = { shipping_address: address, ...(couponCodes.length ? { coupon_codes: couponCodes } : {}) };
  const chk = await api('POST', '/v1/checkouts', tok, body, { 'Idempotency-Key': `browser-${++keySeq}` });
  assert.equal(chk.status, 201, JSON.stringify(chk.json));
  const confirm = await api('POST', `/v1/payments/${chk.json.payment.id}/confirm`, tok, { card_number: '4242424242424242' });
  assert.equal(confirm.status, 200);
  const orderId = chk.json.orders[0].id;
  await until('the order to be paid', async () => (await api('GET', `/v1/orders/${orderId}`, tok)).json.status === 'paid');
  return orderId;
}

const problems = [];
let browser;
let failed = false;
try {
  // An order that exists before the page opens: the one to refund.
  const earlier = await buyAndPay(buyers.mei, 'sku_celadoncup1', 1, 'nte_springtea', '梅子 Mei');

  browser = await chromium.launch({
    executablePath: chromiumPath,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  const context = await browser.newContext({ viewport: { width: 1280, height: 860 }, locale: 'zh-CN' });
  const page = await context.newPage();
  const watch = (p) => {
    // A refused request (the 401 of a bad token, the 409 of a refused adjustment) is logged by
    // Chromium as "Failed to load resource": expected here. Anything else is a problem.
    p.on('console', (m) => {
      if (m.type() !== 'error') return;
      if (/Failed to load resource: the server responded with a status of 4\d\d/.test(m.text())) return;
      problems.push(`console: ${m.text()}`);
    });
    p.on('pageerror', (e) => problems.push(`pageerror: ${e.message}`));
  };
  watch(page);
  const shot = (p, name) => p.screenshot({ path: path.join(artifacts, `dashboard-${name}.png`), fullPage: true });
  const byId = (id) => page.getByTestId(id);
  const row = (id) => page.locator(`[data-testid="order-row"][data-order-id="${id}"]`);

  // ---- sign in: a wrong token is refused in words, the demo ?token= link works ----
  await page.goto(`${base}/dashboard/`);
  await byId('token-input').fill('not-a-token');
  await byId('signin-submit').click();
  await byId('signin-error').waitFor();
  assert.notEqual((await byId('signin-error').textContent()).trim(), '');
  await page.goto(`${base}/dashboard/?token=${merchantToken}`);
  await byId('merchant-name').waitFor();
  assert.match(await byId('merchant-name').textContent(), /西湖茶舍/);
  assert.ok(!page.url().includes('token='), `the token stays in the address bar: ${page.url()}`);
  assert.equal(await page.evaluate(() => sessionStorage.getItem('redloop.token')), merchantToken);
  await until('the live stream', async () => /live/i.test((await byId('live-status').textContent()) ?? '') &&
    !/reconnect/i.test(await byId('live-status').textContent()));

  // ---- orders: the earlier order with its Chinese buyer name, note and total ----
  await row(earlier).waitFor();
  assert.equal(await row(earlier).getAttribute('data-status'), 'paid');
  const earlierText = await row(earlier).textContent();
  assert.match(earlierText, /梅子/);
  assert.match(earlierText, /nte_springtea/);
  assert.match(earlierText, /¥/);
  await shot(page, 'orders');

  // ---- a new paid order appears live, marked new, without a reload ----
  await page.evaluate(() => { window.__sameDocument = true; });
  const fresh = await buyAndPay(buyers.lin, 'sku_longjing50g', 2, 'nte_springtea', '林晓 Lin Xiao');
  await row(fresh).waitFor({ timeout: 10000 });
  await until('the new order to show paid', async () => (await row(fresh).getAttribute('data-status')) === 'paid');
  assert.equal(await row(fresh).getByTestId('new-marker').count(), 1, 'the new order has its marker');
  assert.equal(await row(earlier).getByTestId('new-marker').count(), 0);
  assert.ok(await page.evaluate(() => window.__sameDocument === true), 'the page was reloaded');
  await shot(page, 'live-order');

  // ---- ship it: validation first, then confirm ----
  await row(fresh).click();
  await byId('order-detail').waitFor();
  assert.match(await byId('order-address').textContent(), /林晓/);
  assert.match(await byId('order-history').textContent(), /paid/);
  await byId('action-ship').click();
  await byId('ship-carrier').fill('顺丰 SF Express');
  await byId('ship-submit').click();
  await byId('form-error').waitFor();
  assert.equal((await api('GET', `/v1/orders/${fresh}`, merchantToken)).json.status, 'paid');
  await byId('ship-tracking').fill('SF1234567890');
  await byId('ship-submit').click();
  await byId('confirm-dialog').waitFor();
  await byId('confirm-yes').click();
  await byId('action-ok').waitFor();
  const shipped = (await api('GET', `/v1/orders/${fresh}`, merchantToken)).json;
  assert.equal(shipped.status, 'shipped');
  assert.deepEqual(shipped.shipment, { carrier: '顺丰 SF Express', tracking_number: 'SF1234567890' });
  await until('the row to show shipped', async () => (await row(fresh).getAttribute('data-status')) === 'shipped');
  assert.equal(await row(fresh).getByTestId('new-marker').count(), 0, 'opening the order clears its marker');
  await shot(page, 'shipped');
  await page.keyboard.press('Escape');
  await byId('order-detail').waitFor({ state: 'hidden' });

  // ---- refund the earlier order, opened from the keyboard ----
  await row(earlier).focus();
  await page.keyboard.press('Enter');
  await byId('order-detail').waitFor();
  await byId('action-refund').click();
  await byId('refund-amount').fill('99999');
  await byId('refund-reason').fill('破损 damaged in transit');
  await byId('refund-submit').click();
  await byId('form-error').waitFor();
  // A partial refund that restocks is refused by the API (restock goes with a full refund):
  // the page says so in words and nothing moves.
  await byId('refund-amount').fill('50.00');
  await byId('refund-restock').check();
  await byId('refund-submit').click();
  await byId('confirm-dialog').waitFor();
  await byId('confirm-yes').click();
  await byId('action-error').waitFor();
  assert.match(await byId('action-error').textContent(), /restock/i);
  assert.equal((await api('GET', `/v1/orders/${earlier}`, merchantToken)).json.refunded_amount.amount, 0);
  await byId('refund-restock').uncheck();
  await byId('refund-submit').click();
  await byId('confirm-dialog').waitFor();
  await byId('confirm-yes').click();
  await byId('action-ok').waitFor();
  // The refund is requested now; the order counts it once the provider's webhook lands.
  await until('the refund to succeed', async () =>
    (await api('GET', `/v1/orders/${earlier}`, merchantToken)).json.refunded_amount.amount === 5000);
  const refunds = (await api('GET', `/v1/orders/${earlier}/refunds`, merchantToken)).json;
  assert.equal(refunds.data.length, 1);
  assert.equal(refunds.data[0].reason, '破损 damaged in transit');
  await shot(page, 'refunded');
  await byId('order-detail-close').click();

  // ---- the status filter ----
  await byId('status-filter').selectOption('shipped');
  await until('only shipped orders', async () => {
    const statuses = await page.locator('[data-testid="order-row"]').evaluateAll((rows) => rows.map((r) => r.dataset.status));
    return statuses.length === 1 && statuses[0] === 'shipped';
  });
  await byId('status-filter').selectOption('');

  // ---- inventory: live numbers, an adjustment, and the API's refusal in words ----
  await byId('tab-inventory').click();
  const inv = page.locator('[data-testid="inventory-row"][data-sku-id="sku_longjing50g"]');
  await inv.waitFor();
  const apiInv = (await api('GET', '/v1/skus/sku_longjing50g/inventory', merchantToken)).json;
  assert.equal(Number(await inv.getByTestId('inv-on-hand').textContent()), apiInv.on_hand);
  assert.equal(Number(await inv.getByTestId('inv-available').textContent()), apiInv.available);
  const adjust = async (delta, reason) => {
    if (await inv.getByTestId('adjust-open').count()) await inv.getByTestId('adjust-open').click();
    const scope = (await inv.getByTestId('adjust-delta').count()) ? inv : page;
    await scope.getByTestId('adjust-delta').fill(String(delta));
    await scope.getByTestId('adjust-reason').fill(reason);
    await scope.getByTestId('adjust-submit').click();
    await byId('confirm-dialog').waitFor();
    await byId('confirm-yes').click();
  };
  await adjust(5, '补货 restock');
  await until('on_hand +5', async () => Number(await inv.getByTestId('inv-on-hand').textContent()) === apiInv.on_hand + 5);
  await adjust(-1000000, 'too much');
  await byId('action-error').waitFor();
  assert.match(await byId('action-error').textContent(), /on_hand|reserved|below|stock/i);
  assert.equal((await api('GET', '/v1/skus/sku_longjing50g/inventory', merchantToken)).json.on_hand, apiInv.on_hand + 5);
  // A sale elsewhere moves the row live.
  await buyAndPay(buyers.mei, 'sku_longjing50g', 1, 'nte_springtea', '梅子 Mei');
  await until('available to follow the sale', async () =>
    Number(await inv.getByTestId('inv-available').textContent()) === apiInv.available + 5 - 1);
  await shot(page, 'inventory');

  // ---- attribution: which notes sold what ----
  await byId('tab-attribution').click();
  const spring = page.locator('[data-testid="attribution-row"][data-note-id="nte_springtea"]');
  await spring.waitFor();
  const analytics = (await api('GET', '/v1/analytics/notes', merchantToken)).json.data;
  const springData = analytics.find((r) => r.note_id === 'nte_springtea');
  assert.ok(springData.orders >= 3);
  assert.ok(springData.views >= 2);  // the last read may still be in the 0.5 s view batch
  await until('the attribution row to match the API', async () =>
    Number(await spring.getByTestId('attr-orders').textContent()) === springData.orders &&
    Number(await spring.getByTestId('attr-views').textContent()) >= 2);
  assert.match(await spring.getByTestId('attr-conversion').textContent(), /%/);
  assert.equal(Number(await spring.getByTestId('attr-units').textContent()), springData.units);
  assert.match(await spring.getByTestId('attr-gmv').textContent(), /¥/);
  assert.match(await spring.textContent(), /春茶/);
  assert.ok(await page.locator('[data-testid="gmv-chart"]').count() >= 1);
  const chartBox = await page.getByTestId('gmv-chart').boundingBox();
  assert.ok(chartBox && chartBox.width > 100 && chartBox.height > 50, 'the chart is drawn');
  // Sorting: clicking a column header reorders the rows.
  const noteOrder = () => page.locator('[data-testid="attribution-row"]').evaluateAll((rows) => rows.map((r) => r.dataset.noteId));
  const before = await noteOrder();
  const unitsHeader = page.locator('th', { hasText: /^\s*units/i }).first();
  await unitsHeader.locator('button').click();
  const sortedOnce = await noteOrder();
  assert.match((await unitsHeader.getAttribute('aria-sort')) ?? '', /ascending|descending/);
  await unitsHeader.locator('button').click();
  const sortedTwice = await noteOrder();
  assert.deepEqual([...sortedTwice].reverse(), sortedOnce, 'a second click reverses the order');
  assert.equal(new Set(before).size, sortedOnce.length);
  // Rows that carry a disclosure show it; the money columns appear when the rows have them.
  for (const r of analytics) {
    const tr = page.locator(`[data-testid="attribution-row"][data-note-id="${r.note_id}"]`);
    const badge = tr.getByTestId('disclosure-badge');
    if (r.disclosure) assert.equal(await badge.getAttribute('data-disclosure'), r.disclosure, r.note_id);
    else assert.equal(await badge.count(), 0, `no disclosure badge on ${r.note_id}`);
    for (const k of ['discount', 'commission', 'net']) {
      assert.equal(await tr.getByTestId(`attr-${k}`).count(), r[k] ? 1 : 0, `${k} column on ${r.note_id}`);
    }
  }
  await shot(page, 'attribution');

  // ---- promotions: the shop's coupons ----
  const couponRow = (code) => page.locator(`[data-testid="coupon-row"][data-code="${code}"]`);
  const couponForm = byId('coupon-form');
  const coupons = async () => (await api('GET', '/v1/coupons?limit=100', merchantToken)).json.data;
  const apiCoupon = await api('POST', '/v1/coupons', merchantToken, {
    code: 'tea-api5', kind: 'amount', value: 500, min_spend: { amount: 5000, currency: 'CNY' }, max_redemptions: 50,
  });
  assert.equal(apiCoupon.status, 201, JSON.stringify(apiCoupon.json));
  await byId('tab-promotions').click();
  await couponRow('TEA-API5').waitFor();
  const apiRowText = await couponRow('TEA-API5').textContent();
  assert.match(apiRowText, /¥5\.00 off/);
  assert.match(apiRowText, /¥50\.00/);
  assert.match(apiRowText, /50 in all/);
  assert.equal(await couponRow('TEA-API5').getAttribute('data-status'), 'active');

  // Created through the page: checked in the page first, then by the API.
  await byId('coupon-code-input').fill('x');
  await byId('coupon-value').fill('15');
  await byId('coupon-submit').click();
  await couponForm.getByTestId('form-error').waitFor();
  await byId('coupon-code-input').fill('page15');
  await byId('coupon-value').fill('150');
  await byId('coupon-submit').click();
  assert.match(await couponForm.getByTestId('form-error').textContent(), /1 to 100/);
  assert.equal((await coupons()).some((c) => c.code === 'PAGE15'), false);
  await byId('coupon-value').fill('15');
  await byId('coupon-min-spend').fill('88.5');
  await byId('coupon-ends').fill('2031-06-30T23:30');
  await byId('coupon-max').fill('20');
  await byId('coupon-per-user').fill('2');
  await byId('coupon-submit').click();
  await couponForm.getByTestId('action-ok').waitFor();
  await couponRow('PAGE15').waitFor();
  const made = (await coupons()).find((c) => c.code === 'PAGE15');
  assert.ok(made, 'the coupon made in the page is in GET /v1/coupons');
  const endsUtc = await page.evaluate(() => new Date('2031-06-30T23:30').toISOString());
  assert.equal(made.kind, 'percent');
  assert.equal(made.value, 15);
  assert.deepEqual(made.min_spend, { amount: 8850, currency: 'CNY' });
  assert.equal(made.max_redemptions, 20);
  assert.equal(made.per_user_limit, 2);
  assert.equal(made.status, 'active');
  assert.equal(Date.parse(made.ends_at), Date.parse(endsUtc));
  assert.equal(made.starts_at, null);
  // Newest first: the page's coupon is above the API's.
  const codes = await page.locator('[data-testid="coupon-row"]').evaluateAll((rows) => rows.map((r) => r.dataset.code));
  assert.deepEqual(codes.slice(0, 2), ['PAGE15', 'TEA-API5']);

  // A code in use (compared without case) is refused by the API: the page shows its detail.
  const dupDetail = (await api('POST', '/v1/coupons', merchantToken, { code: 'TEA-API5', kind: 'percent', value: 5 })).json.detail;
  assert.ok(dupDetail, 'the API explains a duplicate code');
  await byId('coupon-code-input').fill('Tea-Api5');
  await byId('coupon-value').fill('5');
  await byId('coupon-submit').click();
  await couponForm.getByTestId('action-error').waitFor();
  assert.ok((await couponForm.getByTestId('action-error').textContent()).includes(dupDetail),
    'the page shows the API\'s detail');
  assert.equal((await coupons()).filter((c) => c.code === 'TEA-API5').length, 1);
  await shot(page, 'promotions');

  // Withdraw the page's coupon (after the confirm), then re-activate it: the API follows.
  await couponRow('PAGE15').getByTestId('coupon-toggle').click();
  await byId('confirm-dialog').waitFor();
  await byId('confirm-yes').click();
  await until('the row to show withdrawn', async () => (await couponRow('PAGE15').getAttribute('data-status')) === 'disabled');
  assert.equal((await coupons()).find((c) => c.code === 'PAGE15').status, 'disabled');
  assert.match(await couponRow('PAGE15').getByTestId('coupon-status').textContent(), /withdrawn/);
  // "Go back" changes nothing.
  await couponRow('PAGE15').getByTestId('coupon-toggle').click();
  await byId('confirm-no').click();
  assert.equal((await coupons()).find((c) => c.code === 'PAGE15').status, 'disabled');
  await couponRow('PAGE15').getByTestId('coupon-toggle').click();
  await byId('confirm-yes').click();
  await until('the row to show active', async () => (await couponRow('PAGE15').getAttribute('data-status')) === 'active');
  assert.equal((await coupons()).find((c) => c.code === 'PAGE15').status, 'active');

  // ---- two orders bought with the API's coupon: counts move live, the limit can't go below them ----
  const couponOrder = await buyAndPay(buyers.lin, 'sku_longjing50g', 1, 'nte_springtea', '林晓 Lin Xiao', ['TEA-API5']);
  await buyAndPay(buyers.mei, 'sku_longjing50g', 1, 'nte_springtea', '梅子 Mei', ['tea-api5']);
  await until('in use and redeemed to reach 2', async () =>
    (await couponRow('TEA-API5').getByTestId('coupon-in-use').textContent()) === '2' &&
    (await couponRow('TEA-API5').getByTestId('coupon-redeemed').textContent()) === '2', 15000);
  const setLimit = async (n) => {
    const r = couponRow('TEA-API5');
    if (!(await r.getByTestId('coupon-limit-input').count())) await r.getByTestId('coupon-limit-open').click();
    await r.getByTestId('coupon-limit-input').fill(String(n));
    await r.getByTestId('coupon-limit-submit').click();
    await byId('confirm-dialog').waitFor();
    await byId('confirm-yes').click();
  };
  await setLimit(1);
  await couponRow('TEA-API5').getByTestId('action-error').waitFor();
  const below = await api('PATCH', '/v1/coupons/TEA-API5', merchantToken, { max_redemptions: 1 });
  assert.equal(below.status, 409);
  assert.ok((await couponRow('TEA-API5').getByTestId('action-error').textContent()).includes(below.json.detail));
  assert.equal((await coupons()).find((c) => c.code === 'TEA-API5').max_redemptions, 50);
  await setLimit(10);
  await couponRow('TEA-API5').getByTestId('action-ok').waitFor();
  assert.equal((await coupons()).find((c) => c.code === 'TEA-API5').max_redemptions, 10);
  assert.match(await couponRow('TEA-API5').getByTestId('coupon-limits').textContent(), /10 in all/);
  await shot(page, 'promotions-limits');

  // ---- the coupon's order: its discount lines between shipping and total ----
  await byId('tab-orders').click();
  const paidWithCoupon = (await api('GET', `/v1/orders/${couponOrder}`, merchantToken)).json;
  assert.equal(paidWithCoupon.discounts.length, 1);
  assert.equal(paidWithCoupon.discount.amount, 500);
  await row(couponOrder).waitFor();
  assert.match(await row(couponOrder).getByTestId('order-row-discount').textContent(), /¥5\.00/);
  await row(couponOrder).click();
  await byId('order-detail').waitFor();
  const discountLine = byId('order-detail').locator('[data-testid="order-discount-line"][data-code="TEA-API5"]');
  assert.match(await discountLine.textContent(), /−¥5\.00/);
  assert.match(await byId('line-discount').textContent(), /−¥5\.00/);
  // Between the subtotal/shipping and the total, and the total is the API's (after the discount).
  const totalsText = (await byId('order-detail').locator('dl.totals').textContent()).replace(/\s+/g, ' ');
  assert.match(totalsText, /Shipping.*Coupon TEA-API5.*Total/);
  assert.ok(totalsText.includes(`¥${(paidWithCoupon.total.amount / 100).toFixed(2)}`), totalsText);
  await shot(page, 'order-discount');
  await byId('order-detail-close').click();

  // ---- creator payouts: the totals are the API's ----
  await byId('tab-payouts').click();
  const commissions = await api('GET', '/v1/merchants/me/commissions?limit=20', merchantToken);
  assert.equal(commissions.status, 200, `commissions: ${commissions.status}`);
  {
    const c = commissions.json;
    assert.ok(c.entries.length > 0, 'a sale through a reader\'s note earned its author commission');
    for (const k of ['accrued', 'reversed', 'settled', 'owed']) {
      await until(`payouts ${k} to equal the API`, async () =>
        (await byId(`payout-${k}`).getAttribute('data-amount')) === String(c[k].amount));
    }
    assert.equal(await page.locator('[data-testid="payout-row"]').count(), c.entries.length);
    for (const [i, e] of c.entries.entries()) {
      const tr = page.locator('[data-testid="payout-row"]').nth(i);
      assert.equal(await tr.getAttribute('data-kind'), e.kind);
      assert.equal(await tr.getAttribute('data-order-id'), e.order_id);
      const sign = e.kind === 'accrue' ? '+' : '−';
      assert.equal(await tr.getByTestId('payout-amount').textContent(), `${sign}¥${(Math.abs(e.amount.amount) / 100).toFixed(2)}`);
    }
  }
  await shot(page, 'payouts');

  // ---- a phone-sized window (a new tab: sessionStorage is per tab, so the link signs in) ----
  const phone = await context.newPage();
  watch(phone);
  await phone.setViewportSize({ width: 375, height: 740 });
  await phone.goto(`${base}/dashboard/?token=${merchantToken}#/orders`);
  await phone.getByTestId('order-row').first().waitFor();
  const overflow = await phone.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  assert.ok(overflow <= 1, `the page scrolls sideways by ${overflow}px at 375px`);
  await shot(phone, 'phone');
  const sideways = () => phone.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  await phone.getByTestId('tab-promotions').click();
  await phone.locator('[data-testid="coupon-row"][data-code="TEA-API5"]').waitFor();
  await phone.locator('[data-testid="coupon-row"][data-code="TEA-API5"]').getByTestId('coupon-limit-open').click();
  assert.ok((await sideways()) <= 1, `promotions scroll sideways by ${await sideways()}px at 375px`);
  await shot(phone, 'phone-promotions');
  await phone.getByTestId('tab-payouts').click();
  await phone.locator('[data-testid="payout-totals"]:visible, [data-testid="payouts-unavailable"]:visible').first().waitFor();
  assert.ok((await sideways()) <= 1, `payouts scroll sideways by ${await sideways()}px at 375px`);
  await shot(phone, 'phone-payouts');
  await phone.getByTestId('tab-orders').click();
  await phone.locator(`[data-testid="order-row"][data-order-id="${couponOrder}"]`).click();
  await phone.getByTestId('order-detail').waitFor();
  assert.ok((await sideways()) <= 1, `the order panel scrolls sideways by ${await sideways()}px at 375px`);
  await shot(phone, 'phone-order-discount');

  // ---- sign out forgets the token ----
  await page.getByTestId('signout').click();
  await page.getByTestId('signin-form').waitFor();
  assert.equal(await page.evaluate(() => sessionStorage.getItem('redloop.token')), null);

  assert.deepEqual(problems, [], 'console errors or CSP violations');
  console.log(`ok: dashboard in Chromium (screenshots in ${artifacts})`);
} catch (e) {
  failed = true;
  console.error(e);
  if (problems.length) console.error('browser problems:\n' + problems.join('\n'));
} finally {
  if (browser) await browser.close();
  server.kill('SIGTERM');
  await new Promise((r) => server.on('exit', r));
  rmSync(work, { recursive: true, force: true });
}
process.exit(failed ? 1 : 0);

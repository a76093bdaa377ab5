// Promotions: the shop's coupons, newest first, with a form to create one and, per coupon,
// withdraw / re-activate and a change of its redemption limit, each confirmed first.
import {
  ProblemError,
  createCoupon,
  describeError,
  listCoupons,
  updateCoupon,
  type Coupon,
  type CouponCreate,
  type CouponKind,
  type CouponPatch,
} from '../api';
import { h, replace } from '../dom';
import type { LiveEvent } from '../live';
import { formatCount, formatMoney, formatTime, parseMajor } from '../money';
import {
  Messages,
  confirmDialog,
  dataTable,
  field,
  loadMoreButton,
  refreshButton,
  statusBadge,
  uid,
  viewToolbar,
  type View,
} from '../ui';

const PAGE_SIZE = 20;
const LIMIT_MAX = 1_000_000_000;
const CODE_RE = /^[A-Za-z0-9_-]{3,32}$/;
/** in_use and redeemed move with orders; re-read a little after one, at most this often. */
const EVENT_DELAY_MS = 1200;
const EVENT_MIN_GAP_MS = 3000;

interface Row {
  coupon: Coupon;
  tr: HTMLTableRowElement;
  cells: {
    discount: HTMLTableCellElement;
    minSpend: HTMLTableCellElement;
    window: HTMLTableCellElement;
    limits: HTMLTableCellElement;
    status: HTMLTableCellElement;
    inUse: HTMLTableCellElement;
    redeemed: HTMLTableCellElement;
  };
  toggle: HTMLButtonElement;
  limitButton: HTMLButtonElement;
  formSlot: HTMLDivElement;
  messages: Messages;
}

function discountText(c: Coupon): string {
  return c.kind === 'percent'
    ? `${c.value}% off`
    : `${formatMoney({ amount: c.value, currency: c.currency })} off`;
}

function statusWord(c: Coupon): string {
  return c.status === 'disabled' ? 'withdrawn' : c.status;
}

/** Where the coupon stands in its validity window now, when that stops it from applying. */
function windowState(c: Coupon, now = Date.now()): string | null {
  if (c.starts_at && Date.parse(c.starts_at) > now) return 'not started';
  if (c.ends_at && Date.parse(c.ends_at) <= now) return 'ended';
  return null;
}

function limitsText(c: Coupon): string {
  const parts: string[] = [];
  if (c.max_redemptions !== null) parts.push(`${formatCount(c.max_redemptions)} in all`);
  if (c.per_user_limit !== null) parts.push(`${formatCount(c.per_user_limit)} per buyer`);
  return parts.length ? parts.join(' · ') : 'No limit';
}

/** A whole number in 1..10⁹, blank allowed when optional. */
function parseLimit(text: string, what: string): { ok: true; n: number | undefined } | { ok: false; error: string } {
  const t = text.trim();
  if (!t) return { ok: true, n: undefined };
  if (!/^\d+$/.test(t) || Number(t) < 1 || Number(t) > LIMIT_MAX) {
    return { ok: false, error: `${what} must be a whole number from 1 to ${formatCount(LIMIT_MAX)}.` };
  }
  return { ok: true, n: Number(t) };
}

/** A datetime-local value (the browser's local time) as RFC 3339 UTC, blank allowed. */
function parseLocalTime(text: string, what: string): { ok: true; iso: string | undefined } | { ok: false; error: string } {
  const t = text.trim();
  if (!t) return { ok: true, iso: undefined };
  const d = new Date(t);
  if (!/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}/.test(t) || Number.isNaN(d.getTime())) {
    return { ok: false, error: `${what}: enter a date and time.` };
  }
  return { ok: true, iso: d.toISOString().replace(/\.\d{3}Z$/, 'Z') };
}

export class PromotionsView implements View {
  readonly el: HTMLElement;
  private readonly rows = new Map<string, Row>();
  /** Codes in the list's order (newest first). */
  private codes: string[] = [];
  private cursor: string | null = null;
  private loaded = false;
  private visible = false;
  private stale = false;
  private loadSeq = 0;
  private inFlight = false;
  private eventTimer: number | undefined;
  private lastRefresh = 0;
  /** The row whose limit form is open (one at a time). */
  private openCode: string | null = null;
  /** The row whose messages were used last, cleared when another row acts. */
  private lastMessages: Messages | null = null;

  private readonly tbody = h('tbody');
  private readonly notice = h('p', { class: 'notice', role: 'status', 'data-testid': 'coupons-notice' });
  private readonly updated = h('span', { class: 'sub' });
  private readonly empty = h(
    'p',
    { class: 'empty', 'data-testid': 'coupons-empty', hidden: true },
    'No coupons yet. Create one above.',
  );
  private readonly more: HTMLButtonElement;
  private readonly tableWrap: HTMLDivElement;
  private readonly createMessages = new Messages();

  constructor(private readonly currency: string) {
    this.more = loadMoreButton('coupons-more', () => void this.loadMore());
    const table = dataTable({
      testid: 'coupons-table',
      className: 'coupons',
      caption: 'The shop’s coupons, newest first',
      columns: [
        'Code',
        'Discount',
        'Min spend',
        'Valid',
        'Limits',
        'Status',
        { label: 'In use', num: true },
        { label: 'Redeemed', num: true },
        { label: 'Actions', srOnly: true },
      ],
      tbody: this.tbody,
    });
    this.tableWrap = h('div', { class: 'table-wrap', hidden: true }, table);
    this.el = h(
      'section',
      { class: 'view', 'aria-labelledby': 'promotions-heading', hidden: true },
      viewToolbar(
        'promotions-heading',
        'Promotions',
        'Coupons buyers enter at checkout for money off this shop’s goods.',
        this.updated,
        refreshButton('coupons-refresh', () => void this.reload()),
      ),
      this.createForm(),
      h('h2', { class: 'section-heading' }, 'Coupons'),
      this.notice,
      this.tableWrap,
      this.empty,
      h('div', { class: 'more' }, this.more),
    );
  }

  show(): void {
    this.visible = true;
    this.el.hidden = false;
    if (!this.loaded) void this.reload();
    else if (this.stale) void this.refresh();
  }

  hide(): void {
    this.visible = false;
    this.el.hidden = true;
    window.clearTimeout(this.eventTimer);
    this.eventTimer = undefined;
  }

  destroy(): void {
    this.hide();
  }

  onEvent(e: LiveEvent): void {
    if (e.topic !== 'orders' || !e.type.startsWith('order.') || !this.loaded) return;
    if (!this.visible) {
      this.stale = true;
      return;
    }
    if (this.eventTimer !== undefined) return;
    const at = Math.max(Date.now() + EVENT_DELAY_MS, this.lastRefresh + EVENT_MIN_GAP_MS);
    this.eventTimer = window.setTimeout(() => {
      this.eventTimer = undefined;
      void this.refresh();
    }, at - Date.now());
  }

  onResync(topic: string): void {
    if (topic !== 'orders' || !this.loaded) return;
    if (this.visible) void this.refresh();
    else this.stale = true;
  }

  // ---- the list ----

  /** Reads the first page again and starts the list over. */
  private async reload(): Promise<void> {
    const seq = ++this.loadSeq;
    this.lastRefresh = Date.now();
    this.notice.textContent = 'Loading coupons…';
    this.more.hidden = true;
    try {
      const page = await listCoupons(PAGE_SIZE, null);
      if (seq !== this.loadSeq) return;
      this.rows.clear();
      this.codes = [];
      this.openCode = null;
      this.tbody.replaceChildren();
      this.addPage(page.data, page.next_cursor);
      this.loaded = true;
      this.stale = false;
      this.notice.textContent = '';
      this.updated.textContent = `Updated ${formatTime(new Date().toISOString())}`;
    } catch (err) {
      if (seq !== this.loadSeq) return;
      this.notice.textContent = this.loadError(err);
    }
  }

  /** Re-reads the first page: known coupons are updated in place, new ones go on top. */
  private async refresh(): Promise<void> {
    if (this.inFlight) return;
    this.inFlight = true;
    this.lastRefresh = Date.now();
    const seq = this.loadSeq;
    try {
      const page = await listCoupons(PAGE_SIZE, null);
      if (seq !== this.loadSeq) return;
      this.stale = false;
      if (page.data.length > 0 && !page.data.some((c) => this.rows.has(c.code))) {
        // More new coupons than a page, or a list that changed under us: start over.
        void this.reload();
        return;
      }
      const fresh = page.data.filter((c) => !this.rows.has(c.code));
      for (const c of page.data) if (this.rows.has(c.code)) this.put(c);
      for (const c of fresh.reverse()) this.prepend(c);
      this.updated.textContent = `Updated ${formatTime(new Date().toISOString())}`;
      this.updateFooter();
    } catch (err) {
      console.warn('could not refresh coupons', describeError(err));
    } finally {
      this.inFlight = false;
    }
  }

  private async loadMore(): Promise<void> {
    if (!this.cursor) return;
    const seq = this.loadSeq;
    this.more.disabled = true;
    try {
      const page = await listCoupons(PAGE_SIZE, this.cursor);
      if (seq !== this.loadSeq) return;
      this.addPage(page.data, page.next_cursor);
      this.notice.textContent = '';
    } catch (err) {
      this.notice.textContent = `Could not load more coupons. ${describeError(err)}`;
    } finally {
      this.more.disabled = false;
    }
  }

  private loadError(err: unknown): string {
    return err instanceof ProblemError && err.status === 404
      ? `Coupons are not available on this server yet (${describeError(err)}).`
      : `Could not load coupons. ${describeError(err)}`;
  }

  private addPage(coupons: Coupon[], next: string | null): void {
    for (const c of coupons) {
      // A coupon created since the first page moves the pages by one: skip what is shown.
      if (this.rows.has(c.code)) continue;
      const row = this.renderRow(c);
      this.rows.set(c.code, row);
      this.codes.push(c.code);
      this.tbody.appendChild(row.tr);
    }
    this.cursor = next;
    this.updateFooter();
  }

  private prepend(c: Coupon): void {
    if (this.rows.has(c.code)) return this.put(c);
    const row = this.renderRow(c);
    this.rows.set(c.code, row);
    this.codes.unshift(c.code);
    this.tbody.prepend(row.tr);
    this.updateFooter();
  }

  private updateFooter(): void {
    this.more.hidden = !this.cursor;
    this.tableWrap.hidden = this.codes.length === 0;
    this.empty.hidden = this.codes.length > 0 || !!this.cursor;
  }

  private renderRow(c: Coupon): Row {
    const messages = new Messages();
    const cell = (label: string, cls?: string, testid?: string) =>
      h('td', { 'data-label': label, class: cls, 'data-testid': testid });
    const cells = {
      discount: cell('Discount', undefined, 'coupon-discount'),
      minSpend: cell('Min spend'),
      window: cell('Valid'),
      limits: cell('Limits', undefined, 'coupon-limits'),
      status: cell('Status'),
      inUse: cell('In use', 'num', 'coupon-in-use'),
      redeemed: cell('Redeemed', 'num', 'coupon-redeemed'),
    };
    const toggle = h('button', {
      type: 'button',
      class: 'btn btn-small',
      'data-testid': 'coupon-toggle',
      onclick: () => void this.toggleStatus(c.code),
    });
    const limitButton = h(
      'button',
      {
        type: 'button',
        class: 'btn btn-small',
        'data-testid': 'coupon-limit-open',
        'aria-expanded': 'false',
        'aria-label': `Change the redemption limit of ${c.code}`,
        onclick: () => this.openLimit(c.code, true),
      },
      'Change limit…',
    );
    const formSlot = h('div', { class: 'coupon-form-slot' });
    const tr = h(
      'tr',
      { 'data-testid': 'coupon-row', 'data-code': c.code },
      h(
        'th',
        { scope: 'row', 'data-label': 'Code', class: 'coupon-code' },
        h('span', { class: 'mono code', 'data-testid': 'coupon-code' }, c.code),
        h('span', { class: 'sub' }, `Created ${formatTime(c.created_at)}`),
      ),
      cells.discount,
      cells.minSpend,
      cells.window,
      cells.limits,
      cells.status,
      cells.inUse,
      cells.redeemed,
      h(
        'td',
        { class: 'coupon-actions' },
        h('div', { class: 'row-buttons', role: 'group', 'aria-label': `Actions on ${c.code}` }, toggle, limitButton),
        formSlot,
        messages.el,
      ),
    );
    const row: Row = { coupon: c, tr, cells, toggle, limitButton, formSlot, messages };
    this.fill(row);
    return row;
  }

  /** Writes the coupon's fields into its row (the open form, if any, stays). */
  private fill(row: Row): void {
    const c = row.coupon;
    const { cells } = row;
    row.tr.dataset['status'] = c.status;
    replace(cells.discount, discountText(c));
    replace(cells.minSpend, c.min_spend && c.min_spend.amount > 0 ? formatMoney(c.min_spend) : 'None');
    const state = windowState(c);
    replace(
      cells.window,
      !c.starts_at && !c.ends_at
        ? 'Always'
        : [
            c.starts_at ? h('span', { class: 'window-line' }, `From ${formatTime(c.starts_at)}`) : null,
            c.ends_at ? h('span', { class: 'window-line' }, `Until ${formatTime(c.ends_at)}`) : null,
          ],
      state ? h('span', { class: 'tag', 'data-testid': 'coupon-window-state' }, state) : null,
    );
    replace(cells.limits, limitsText(c));
    const badge = statusBadge(c.status, 'coupon-status');
    badge.textContent = statusWord(c);
    replace(cells.status, badge);
    replace(cells.inUse, c.in_use === undefined ? '—' : formatCount(c.in_use));
    replace(cells.redeemed, c.redeemed === undefined ? '—' : formatCount(c.redeemed));
    const active = c.status === 'active';
    row.toggle.textContent = active ? 'Withdraw…' : 'Re-activate…';
    row.toggle.className = active ? 'btn btn-small btn-danger-outline' : 'btn btn-small';
    row.toggle.setAttribute('aria-label', `${active ? 'Withdraw' : 'Re-activate'} coupon ${c.code}`);
  }

  /** A newer version of a known coupon. */
  private put(c: Coupon): void {
    const row = this.rows.get(c.code);
    if (!row) return;
    row.coupon = c;
    this.fill(row);
  }

  private rowMessages(row: Row): Messages {
    if (this.lastMessages && this.lastMessages !== row.messages) this.lastMessages.clear();
    this.createMessages.clear();
    this.lastMessages = row.messages;
    row.messages.clear();
    return row.messages;
  }

  private async toggleStatus(code: string): Promise<void> {
    const row = this.rows.get(code);
    if (!row) return;
    const messages = this.rowMessages(row);
    const withdraw = row.coupon.status === 'active';
    const inUse = row.coupon.in_use ?? 0;
    const yes = await confirmDialog(
      withdraw
        ? {
            title: 'Withdraw coupon',
            message:
              `Withdraw coupon ${code}? Buyers can no longer use it at checkout until you re-activate it.` +
              (inUse > 0 ? ` It is in use on ${formatCount(inUse)} checkout(s) now.` : ''),
            confirmLabel: 'Withdraw',
            danger: true,
          }
        : {
            title: 'Re-activate coupon',
            message: `Re-activate coupon ${code}? Buyers can use it again within its dates and limits.`,
            confirmLabel: 'Re-activate',
          },
    );
    if (!yes) return;
    await this.patch(row, { status: withdraw ? 'disabled' : 'active' }, withdraw ? 'Coupon withdrawn.' : 'Coupon re-activated.', messages);
  }

  private async patch(row: Row, body: CouponPatch, ok: string, messages: Messages): Promise<boolean> {
    const buttons = [...row.tr.querySelectorAll('button')];
    for (const b of buttons) b.disabled = true;
    try {
      this.put(await updateCoupon(row.coupon.code, body));
      messages.ok(ok);
      return true;
    } catch (err) {
      messages.apiError(err);
      return false;
    } finally {
      for (const b of buttons) b.disabled = false;
    }
  }

  // ---- the limit form ----

  private closeLimit(focus = true): void {
    const row = this.openCode ? this.rows.get(this.openCode) : undefined;
    this.openCode = null;
    if (!row) return;
    row.formSlot.replaceChildren();
    row.limitButton.setAttribute('aria-expanded', 'false');
    if (focus) row.limitButton.focus();
  }

  private openLimit(code: string, focus: boolean): void {
    if (this.openCode === code) {
      if (focus) this.rows.get(code)?.formSlot.querySelector('input')?.focus();
      return;
    }
    if (this.openCode) this.closeLimit(false);
    const row = this.rows.get(code);
    if (!row) return;
    this.openCode = code;
    row.limitButton.setAttribute('aria-expanded', 'true');
    const limit = field(uid('coupon-limit'), 'Max redemptions in all', {
      'data-testid': 'coupon-limit-input',
      inputmode: 'numeric',
      placeholder: row.coupon.max_redemptions === null ? 'No limit now' : String(row.coupon.max_redemptions),
    });
    const hint = h(
      'p',
      { class: 'sub' },
      `In use now: ${formatCount(row.coupon.in_use ?? 0)}. The limit cannot go below that.`,
    );
    const form = h(
      'form',
      { class: 'limit-form', novalidate: true, 'aria-label': `Change the redemption limit of ${code}` },
      limit.wrap,
      hint,
      h(
        'div',
        { class: 'form-buttons' },
        h('button', { type: 'submit', class: 'btn btn-primary btn-small', 'data-testid': 'coupon-limit-submit' }, 'Save'),
        h('button', { type: 'button', class: 'btn btn-small', onclick: () => this.closeLimit() }, 'Close'),
      ),
    );
    form.addEventListener('keydown', (e) => {
      if (e.key === 'Escape') {
        e.stopPropagation();
        this.closeLimit();
      }
    });
    form.addEventListener('submit', (e) => {
      e.preventDefault();
      void this.submitLimit(row, limit.input);
    });
    replace(row.formSlot, form);
    if (focus) limit.input.focus();
  }

  private async submitLimit(row: Row, input: HTMLInputElement): Promise<void> {
    const messages = this.rowMessages(row);
    const parsed = parseLimit(input.value, 'The limit');
    if (!parsed.ok) return messages.formError(parsed.error);
    if (parsed.n === undefined) return messages.formError('Enter the new limit, a whole number like 100.');
    const n = parsed.n;
    const c = row.coupon;
    const from = c.max_redemptions === null ? 'no limit' : formatCount(c.max_redemptions);
    const yes = await confirmDialog({
      title: 'Change the limit',
      message: `Change the redemption limit of ${c.code} from ${from} to ${formatCount(n)} in all?`,
      confirmLabel: 'Change limit',
    });
    if (!yes) return;
    if (await this.patch(row, { max_redemptions: n }, `Limit set to ${formatCount(n)}.`, messages)) {
      input.value = '';
      this.closeLimit();
    }
  }

  // ---- the create form ----

  private createForm(): HTMLElement {
    const code = field(uid('coupon-code'), 'Code', {
      'data-testid': 'coupon-code-input',
      placeholder: 'SPRING10',
      maxlength: '32',
      autocapitalize: 'characters',
      spellcheck: 'false',
    });
    const kindId = uid('coupon-kind');
    const kind = h(
      'select',
      { id: kindId, 'data-testid': 'coupon-kind' },
      h('option', { value: 'percent' }, 'Percent off'),
      h('option', { value: 'amount' }, 'Amount off (¥)'),
    );
    const value = field(uid('coupon-value'), 'Percent off (1–100)', {
      'data-testid': 'coupon-value',
      inputmode: 'numeric',
      placeholder: '10',
    });
    const valueLabel = value.wrap.querySelector('label');
    kind.addEventListener('change', () => {
      const amount = kind.value === 'amount';
      if (valueLabel) valueLabel.textContent = amount ? 'Amount off (¥)' : 'Percent off (1–100)';
      value.input.placeholder = amount ? '5.00' : '10';
      value.input.inputMode = amount ? 'decimal' : 'numeric';
    });
    const minSpend = field(uid('coupon-min'), 'Min spend (¥, optional)', {
      'data-testid': 'coupon-min-spend',
      inputmode: 'decimal',
      placeholder: '50.00',
    });
    const starts = field(uid('coupon-starts'), 'Starts (optional)', {
      type: 'datetime-local',
      'data-testid': 'coupon-starts',
    });
    const ends = field(uid('coupon-ends'), 'Ends (optional)', {
      type: 'datetime-local',
      'data-testid': 'coupon-ends',
    });
    const maxRed = field(uid('coupon-max'), 'Max redemptions (optional)', {
      'data-testid': 'coupon-max',
      inputmode: 'numeric',
      placeholder: '100',
    });
    const perUser = field(uid('coupon-per-user'), 'Per buyer (optional)', {
      'data-testid': 'coupon-per-user',
      inputmode: 'numeric',
      placeholder: '1',
    });
    const submit = h('button', { type: 'submit', class: 'btn btn-primary', 'data-testid': 'coupon-submit' }, 'Create coupon');
    const form = h(
      'form',
      { class: 'coupon-form', novalidate: true, 'aria-labelledby': 'coupon-form-heading', 'data-testid': 'coupon-form' },
      h('h2', { id: 'coupon-form-heading' }, 'New coupon'),
      h(
        'div',
        { class: 'form-grid' },
        code.wrap,
        h('div', { class: 'field' }, h('label', { for: kindId }, 'Kind'), kind),
        value.wrap,
        minSpend.wrap,
        starts.wrap,
        ends.wrap,
        maxRed.wrap,
        perUser.wrap,
      ),
      h('p', { class: 'sub' }, 'Times are in this browser’s time zone. Codes are matched without case.'),
      h('div', { class: 'form-buttons' }, submit),
      this.createMessages.el,
    );
    form.addEventListener('submit', (e) => {
      e.preventDefault();
      const result = this.readCreate({
        code: code.input.value,
        kind: kind.value as CouponKind,
        value: value.input.value,
        minSpend: minSpend.input.value,
        starts: starts.input.value,
        ends: ends.input.value,
        max: maxRed.input.value,
        perUser: perUser.input.value,
      });
      if (typeof result === 'string') return this.createMessages.formError(result);
      void this.create(result, submit, () => {
        for (const f of [code, value, minSpend, starts, ends, maxRed, perUser]) f.input.value = '';
      });
    });
    return form;
  }

  /** The request body, or what is wrong with the form. */
  private readCreate(f: {
    code: string;
    kind: CouponKind;
    value: string;
    minSpend: string;
    starts: string;
    ends: string;
    max: string;
    perUser: string;
  }): CouponCreate | string {
    const code = f.code.trim();
    if (!CODE_RE.test(code)) return 'The code must be 3 to 32 letters, digits, - or _.';
    let value: number;
    if (f.kind === 'percent') {
      const t = f.value.trim();
      if (!/^\d+$/.test(t) || Number(t) < 1 || Number(t) > 100) return 'Enter a percent from 1 to 100.';
      value = Number(t);
    } else {
      const parsed = parseMajor(f.value, this.currency);
      if (!parsed.ok) return `Amount off: ${parsed.error}`;
      value = parsed.minor;
    }
    const body: CouponCreate = { code: code.toUpperCase(), kind: f.kind, value };
    if (f.minSpend.trim()) {
      const parsed = parseMajor(f.minSpend, this.currency);
      if (!parsed.ok) return `Min spend: ${parsed.error}`;
      body.min_spend = { amount: parsed.minor, currency: this.currency };
    }
    const starts = parseLocalTime(f.starts, 'Starts');
    if (!starts.ok) return starts.error;
    const ends = parseLocalTime(f.ends, 'Ends');
    if (!ends.ok) return ends.error;
    if (starts.iso && ends.iso && Date.parse(ends.iso) <= Date.parse(starts.iso)) {
      return 'The coupon must end after it starts.';
    }
    if (ends.iso && Date.parse(ends.iso) <= Date.now()) return 'The end must be in the future.';
    if (starts.iso) body.starts_at = starts.iso;
    if (ends.iso) body.ends_at = ends.iso;
    const max = parseLimit(f.max, 'Max redemptions');
    if (!max.ok) return max.error;
    const perUser = parseLimit(f.perUser, 'Per buyer');
    if (!perUser.ok) return perUser.error;
    if (max.n !== undefined) body.max_redemptions = max.n;
    if (perUser.n !== undefined) body.per_user_limit = perUser.n;
    if (max.n !== undefined && perUser.n !== undefined && perUser.n > max.n) {
      return 'The limit per buyer cannot be more than the limit in all.';
    }
    return body;
  }

  private async create(body: CouponCreate, submit: HTMLButtonElement, clear: () => void): Promise<void> {
    this.lastMessages?.clear();
    this.createMessages.clear();
    submit.disabled = true;
    try {
      const c = await createCoupon(body);
      this.prepend(c);
      clear();
      this.createMessages.ok(`Coupon ${c.code} created: ${discountText(c)}.`);
    } catch (err) {
      this.createMessages.apiError(err);
    } finally {
      submit.disabled = false;
    }
  }
}

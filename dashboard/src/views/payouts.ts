// Creator payouts: what the shop owes the authors of notes its sales are credited to — the
// totals, and the commission entries newest first, re-read after order events.
import {
  ProblemError,
  describeError,
  getMerchantCommissions,
  type CommissionEntry,
  type CommissionKind,
  type MerchantCommissions,
} from '../api';
import { h, replace } from '../dom';
import type { LiveEvent } from '../live';
import { formatMoney, formatTime, type Money } from '../money';
import { dataTable, disclosureBadge, loadMoreButton, refreshButton, viewToolbar, type View } from '../ui';

const PAGE_SIZE = 20;
/** Commissions follow an order's payment or refund; re-read a little after one, at most this often. */
const EVENT_DELAY_MS = 1200;
const EVENT_MIN_GAP_MS = 3000;

type TotalKey = 'accrued' | 'reversed' | 'settled' | 'owed';

const TOTALS: { key: TotalKey; label: string; help: string }[] = [
  { key: 'owed', label: 'Owed now', help: 'Accrued, less reversed and settled' },
  { key: 'accrued', label: 'Accrued', help: 'Commission on attributed sales' },
  { key: 'reversed', label: 'Reversed', help: 'Taken back for refunds and cancellations' },
  { key: 'settled', label: 'Settled', help: 'Already paid out to creators' },
];

const KINDS: Record<CommissionKind, { label: string; sign: 1 | -1 }> = {
  accrue: { label: 'Accrued', sign: 1 },
  reverse: { label: 'Reversed', sign: -1 },
  settle: { label: 'Settled', sign: -1 },
};

function kindOf(e: CommissionEntry): { label: string; sign: 1 | -1 } {
  return Object.hasOwn(KINDS, e.kind) ? KINDS[e.kind] : { label: String(e.kind), sign: 1 };
}

/** "+¥6.80" for an accrual, "−¥6.80" for a reversal or a settlement, whatever sign the server used. */
function signedAmount(e: CommissionEntry): string {
  const { sign } = kindOf(e);
  const magnitude: Money = { amount: Math.abs(e.amount.amount), currency: e.amount.currency };
  return `${sign < 0 ? '−' : '+'}${formatMoney(magnitude)}`;
}

/** A key per entry (entries have no id), numbered when the same one appears twice. */
function entryKeys(entries: CommissionEntry[]): string[] {
  const seen = new Map<string, number>();
  return entries.map((e) => {
    const base = [e.kind, e.order_id, e.note_id, e.creator_id, e.at, e.amount.amount].join('|');
    const n = (seen.get(base) ?? 0) + 1;
    seen.set(base, n);
    return `${base}#${n}`;
  });
}

export class PayoutsView implements View {
  readonly el: HTMLElement;
  private entries: CommissionEntry[] = [];
  private cursor: string | null = null;
  private loaded = false;
  private visible = false;
  private inFlight = false;
  private again = false;
  private loadSeq = 0;
  private eventTimer: number | undefined;
  private lastRefresh = 0;

  private readonly totalEls = {} as Record<TotalKey, HTMLElement>;
  private readonly totals: HTMLElement;
  private readonly notice = h('p', { class: 'notice', role: 'status', 'data-testid': 'payouts-notice' });
  private readonly unavailable = h('p', {
    class: 'msg msg-info',
    role: 'status',
    'data-testid': 'payouts-unavailable',
    hidden: true,
  });
  private readonly updated = h('span', { class: 'sub' });
  private readonly tbody = h('tbody');
  private readonly tableWrap: HTMLDivElement;
  private readonly empty = h(
    'p',
    { class: 'empty', 'data-testid': 'payouts-empty', hidden: true },
    'No commission yet: none of the shop’s sales came from a creator’s note that earns one.',
  );
  private readonly more: HTMLButtonElement;
  private readonly body: HTMLDivElement;

  constructor() {
    this.totals = h(
      'div',
      { class: 'totals-cards', 'data-testid': 'payout-totals' },
      TOTALS.map((t) => {
        const value = h('span', { class: 'total-value', 'data-testid': `payout-${t.key}` }, '—');
        this.totalEls[t.key] = value;
        return h(
          'div',
          { class: t.key === 'owed' ? 'total-card is-main' : 'total-card' },
          h('span', { class: 'total-label' }, t.label),
          value,
          h('span', { class: 'sub' }, t.help),
        );
      }),
    );
    this.more = loadMoreButton('payouts-more', () => void this.loadMore());
    const table = dataTable({
      testid: 'payouts-table',
      className: 'payouts',
      caption: 'Commission entries, newest first',
      columns: ['When', 'Entry', 'Order', 'Note', 'Creator', { label: 'Amount', num: true }],
      tbody: this.tbody,
    });
    this.tableWrap = h('div', { class: 'table-wrap' }, table);
    this.body = h(
      'div',
      { class: 'payouts-body', hidden: true },
      this.totals,
      h('h2', { class: 'section-heading' }, 'Entries'),
      this.tableWrap,
      this.empty,
      h('div', { class: 'more' }, this.more),
    );
    this.el = h(
      'section',
      { class: 'view', 'aria-labelledby': 'payouts-heading', hidden: true },
      viewToolbar(
        'payouts-heading',
        'Creator payouts',
        'Commission the shop owes the authors of notes its sales came from.',
        this.updated,
        refreshButton('payouts-refresh', () => void this.refresh()),
      ),
      this.notice,
      this.unavailable,
      this.body,
    );
  }

  show(): void {
    this.visible = true;
    this.el.hidden = false;
    void this.refresh();
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
    if (e.topic !== 'orders' || !this.visible) return;
    if (!e.type.startsWith('order.') && !e.type.startsWith('refund.')) return;
    if (this.eventTimer !== undefined) return; // one is already on its way
    const at = Math.max(Date.now() + EVENT_DELAY_MS, this.lastRefresh + EVENT_MIN_GAP_MS);
    this.eventTimer = window.setTimeout(() => {
      this.eventTimer = undefined;
      void this.refresh();
    }, at - Date.now());
  }

  onResync(topic: string): void {
    if (topic === 'orders' && this.visible) void this.refresh();
  }

  /** Re-reads the first page: new totals, and entries newer than those shown go on top. */
  async refresh(): Promise<void> {
    if (this.inFlight) {
      this.again = true;
      return;
    }
    this.inFlight = true;
    this.lastRefresh = Date.now();
    if (!this.loaded) this.notice.textContent = 'Loading…';
    try {
      const page = await getMerchantCommissions(PAGE_SIZE, null);
      this.unavailable.hidden = true;
      this.notice.textContent = '';
      this.showTotals(page);
      const shown = new Set(entryKeys(this.entries));
      const keys = entryKeys(page.entries);
      const overlap = keys.findIndex((k) => shown.has(k));
      if (!this.loaded || overlap < 0) {
        // The first read, or more new entries than a page: start the list over (and drop a
        // "Load more" still on its way: its cursor belongs to the old list).
        this.loadSeq += 1;
        this.entries = [...page.entries];
        this.cursor = page.next_cursor;
        replace(this.tbody, this.entries.map((e) => this.renderRow(e)));
      } else if (overlap > 0) {
        const fresh = page.entries.slice(0, overlap);
        this.entries = [...fresh, ...this.entries];
        this.tbody.prepend(...fresh.map((e) => this.renderRow(e)));
      }
      this.loaded = true;
      this.body.hidden = false;
      this.updateFooter();
      this.updated.textContent = `Updated ${formatTime(new Date().toISOString())}`;
    } catch (err) {
      if (err instanceof ProblemError && err.status === 404) {
        // The route is not on this server (an older engine): say so, keep the page usable.
        this.notice.textContent = '';
        this.body.hidden = true;
        this.unavailable.hidden = false;
        this.unavailable.textContent =
          'Creator payouts are not available on this server yet: it does not report commissions ' +
          `(${describeError(err)}). Orders, coupons and attribution work as usual.`;
      } else {
        this.notice.textContent = `Could not load creator payouts. ${describeError(err)}`;
      }
    } finally {
      this.inFlight = false;
      if (this.again) {
        this.again = false;
        void this.refresh();
      }
    }
  }

  private async loadMore(): Promise<void> {
    if (!this.cursor) return;
    const seq = this.loadSeq;
    this.more.disabled = true;
    try {
      const page = await getMerchantCommissions(PAGE_SIZE, this.cursor);
      if (seq !== this.loadSeq) return;
      const shown = new Set(entryKeys(this.entries));
      const keys = entryKeys(page.entries);
      const fresh = page.entries.filter((_, i) => !shown.has(keys[i] ?? ''));
      this.entries.push(...fresh);
      this.tbody.append(...fresh.map((e) => this.renderRow(e)));
      this.cursor = page.next_cursor;
      this.showTotals(page);
      this.notice.textContent = '';
      this.updateFooter();
    } catch (err) {
      this.notice.textContent = `Could not load more entries. ${describeError(err)}`;
    } finally {
      this.more.disabled = false;
    }
  }

  private showTotals(page: MerchantCommissions): void {
    for (const t of TOTALS) {
      const m = page[t.key];
      const el = this.totalEls[t.key];
      el.textContent = formatMoney(m);
      if (m) {
        el.dataset['amount'] = String(m.amount);
        el.dataset['currency'] = m.currency;
      } else {
        delete el.dataset['amount'];
        delete el.dataset['currency'];
      }
    }
  }

  private updateFooter(): void {
    this.more.hidden = !this.cursor;
    this.tableWrap.hidden = this.entries.length === 0;
    this.empty.hidden = this.entries.length > 0 || !!this.cursor;
  }

  private renderRow(e: CommissionEntry): HTMLTableRowElement {
    const { label, sign } = kindOf(e);
    return h(
      'tr',
      { 'data-testid': 'payout-row', 'data-kind': e.kind, 'data-order-id': e.order_id },
      h('td', { 'data-label': 'When' }, h('time', { datetime: e.at }, formatTime(e.at))),
      h(
        'td',
        { 'data-label': 'Entry' },
        h('span', { class: `badge badge-entry-${Object.hasOwn(KINDS, e.kind) ? e.kind : 'other'}` }, label),
      ),
      h('td', { 'data-label': 'Order' }, h('span', { class: 'mono' }, e.order_id)),
      h('td', { 'data-label': 'Note' }, h('span', { class: 'mono' }, e.note_id), disclosureBadge(e.disclosure)),
      h('td', { 'data-label': 'Creator' }, h('span', { class: 'mono' }, e.creator_id)),
      h(
        'td',
        {
          'data-label': 'Amount',
          class: sign < 0 ? 'num amount-minus' : 'num amount-plus',
          'data-testid': 'payout-amount',
        },
        signedAmount(e),
      ),
    );
  }
}

// Orders: the shop's orders, newest first, kept current by the live stream, with a detail
// panel for each order and the merchant's actions on it.
import {
  ORDER_STATUSES,
  describeError,
  enc,
  request,
  type Order,
  type OrderStatus,
  type Page,
  type Refund,
} from '../api';
import { h } from '../dom';
import type { LiveEvent } from '../live';
import { formatAge, formatMoney } from '../money';
import {
  ageCell,
  dataTable,
  dialogOpen,
  disclosureBadge,
  loadMoreButton,
  statusBadge,
  statusLabel,
  viewToolbar,
  type View,
} from '../ui';
import { OrderDetail } from './order-detail';

const PAGE_SIZE = 20;
const AGE_REFRESH_MS = 30_000;

function time(iso: string): number {
  const t = Date.parse(iso);
  return Number.isNaN(t) ? 0 : t;
}

/** Negative when a is newer than b (the list's order). */
function newestFirst(a: Order, b: Order): number {
  return time(b.created_at) - time(a.created_at) || (a.id < b.id ? 1 : a.id > b.id ? -1 : 0);
}

export class OrdersView implements View {
  readonly el: HTMLElement;
  private filter: OrderStatus | '' = '';
  private orders: Order[] = [];
  private cursor: string | null = null;
  private readonly rows = new Map<string, HTMLTableRowElement>();
  /** Orders that appeared live since the list was loaded, until opened. */
  private readonly newIds = new Set<string>();
  /** The newest version seen of each order, from HTTP or the stream, by updated_at. */
  private readonly latest = new Map<string, Order>();
  private loadSeq = 0;
  private detail: OrderDetail | null = null;
  private readonly ageTimer: number;

  private readonly select: HTMLSelectElement;
  private readonly tbody = h('tbody');
  private readonly empty: HTMLParagraphElement;
  private readonly more: HTMLButtonElement;
  private readonly notice = h('p', { class: 'notice', role: 'status' });
  private readonly onKey = (e: KeyboardEvent) => {
    if (e.key === 'Escape' && this.detail && !dialogOpen()) {
      e.preventDefault();
      this.closeDetail();
    }
  };

  constructor() {
    this.select = h(
      'select',
      { id: 'status-filter', 'data-testid': 'status-filter', onchange: () => this.setFilter() },
      h('option', { value: '' }, 'All'),
      ORDER_STATUSES.map((s) => h('option', { value: s }, statusLabel(s))),
    );
    this.empty = h('p', { class: 'empty', 'data-testid': 'orders-empty', hidden: true }, 'No orders yet.');
    this.more = loadMoreButton('orders-more', () => void this.loadMore());
    const table = dataTable({
      testid: 'orders-table',
      className: 'orders',
      caption: 'Orders, newest first. Select a row to open the order.',
      columns: ['Order', 'Status', 'Buyer', 'Lines', 'Total', 'Age'],
      tbody: this.tbody,
    });
    this.el = h(
      'section',
      { class: 'view', 'aria-labelledby': 'orders-heading', hidden: true },
      viewToolbar('orders-heading', 'Orders', null, h('label', { for: 'status-filter' }, 'Status'), this.select),
      this.notice,
      h('div', { class: 'table-wrap' }, table),
      this.empty,
      h('div', { class: 'more' }, this.more),
    );
    this.ageTimer = window.setInterval(() => this.refreshAges(), AGE_REFRESH_MS);
    document.addEventListener('keydown', this.onKey);
    void this.reload();
  }

  show(): void {
    this.el.hidden = false;
  }

  hide(): void {
    this.el.hidden = true;
    this.closeDetail(false);
  }

  destroy(): void {
    window.clearInterval(this.ageTimer);
    document.removeEventListener('keydown', this.onKey);
    this.detail?.destroy();
    this.detail = null;
  }

  onEvent(e: LiveEvent): void {
    if (e.topic !== 'orders') return;
    if (e.type.startsWith('order.')) {
      this.apply(e.data as Order, true);
    } else if (e.type.startsWith('refund.')) {
      const refund = e.data as Refund;
      if (this.detail && this.detail.orderId === refund.order_id) void this.detail.loadRefunds();
    }
  }

  onResync(topic: string): void {
    if (topic !== 'orders') return;
    void this.reload(true);
    if (this.detail) void this.refreshOrder(this.detail.orderId);
  }

  // ---- the list ----

  private setFilter(): void {
    this.filter = this.select.value as OrderStatus | '';
    void this.reload();
  }

  private url(cursor: string | null): string {
    let url = `/v1/orders?limit=${PAGE_SIZE}`;
    if (this.filter) url += `&status=${enc(this.filter)}`;
    if (cursor) url += `&cursor=${enc(cursor)}`;
    return url;
  }

  private matches(o: Order): boolean {
    return !this.filter || o.status === this.filter;
  }

  /** Keeps the newer of what is known and o; returns the one to show. */
  private remember(o: Order): Order {
    const known = this.latest.get(o.id);
    if (known && time(known.updated_at) > time(o.updated_at)) return known;
    this.latest.set(o.id, o);
    return o;
  }

  /** Reads the first page again; after a resync, orders newer than the list had are marked NEW. */
  private async reload(markNew = false): Promise<void> {
    const seq = ++this.loadSeq;
    this.notice.textContent = 'Loading orders…';
    this.more.hidden = true;
    const newest = this.orders[0];
    try {
      const page = await request<Page<Order>>(this.url(null));
      if (seq !== this.loadSeq) return;
      if (markNew && newest) {
        for (const o of page.data) {
          if (!this.rows.has(o.id) && newestFirst(o, newest) < 0) this.newIds.add(o.id);
        }
      }
      this.orders = [];
      this.rows.clear();
      this.tbody.replaceChildren();
      this.addPage(page);
      this.notice.textContent = '';
    } catch (err) {
      if (seq !== this.loadSeq) return;
      this.notice.textContent = `Could not load orders. ${describeError(err)}`;
    }
  }

  private async loadMore(): Promise<void> {
    if (!this.cursor) return;
    const seq = this.loadSeq;
    this.more.disabled = true;
    try {
      const page = await request<Page<Order>>(this.url(this.cursor));
      if (seq !== this.loadSeq) return;
      this.addPage(page);
      this.notice.textContent = '';
    } catch (err) {
      this.notice.textContent = `Could not load more orders. ${describeError(err)}`;
    } finally {
      this.more.disabled = false;
    }
  }

  private addPage(page: Page<Order>): void {
    for (const fetched of page.data) {
      const o = this.remember(fetched);
      if (this.rows.has(o.id) || !this.matches(o)) continue;
      this.orders.push(o);
      const row = this.renderRow(o);
      this.rows.set(o.id, row);
      this.tbody.appendChild(row);
    }
    this.cursor = page.next_cursor;
    this.updateFooter();
  }

  private updateFooter(): void {
    this.more.hidden = !this.cursor;
    this.empty.hidden = this.orders.length > 0 || !!this.cursor;
    this.empty.textContent = this.filter ? `No ${statusLabel(this.filter)} orders.` : 'No orders yet.';
  }

  /** An order from the stream or an action's answer: update, insert or drop its row. */
  private apply(incoming: Order, live: boolean): void {
    const o = this.remember(incoming);
    const idx = this.orders.findIndex((x) => x.id === o.id);
    if (idx >= 0) {
      const row = this.rows.get(o.id);
      if (this.matches(o)) {
        this.orders[idx] = o;
        if (row) this.replaceRow(row, this.renderRow(o));
      } else {
        this.orders.splice(idx, 1);
        this.rows.delete(o.id);
        row?.remove();
      }
    } else if (live && this.matches(o)) {
      let pos = this.orders.findIndex((x) => newestFirst(o, x) < 0);
      if (pos < 0) {
        if (this.cursor) return; // older than what is loaded: "Load more" will bring it
        pos = this.orders.length;
      }
      this.newIds.add(o.id);
      const row = this.renderRow(o);
      this.tbody.insertBefore(row, this.rows.get(this.orders[pos]?.id ?? '') ?? null);
      this.orders.splice(pos, 0, o);
      this.rows.set(o.id, row);
    }
    this.updateFooter();
    if (this.detail?.orderId === o.id) this.detail.update(o);
  }

  private replaceRow(old: HTMLTableRowElement, row: HTMLTableRowElement): void {
    const focused = old.contains(document.activeElement);
    old.replaceWith(row);
    if (focused) row.focus();
    const id = row.dataset['orderId'];
    if (id) this.rows.set(id, row);
  }

  private renderRow(o: Order): HTMLTableRowElement {
    const isNew = this.newIds.has(o.id);
    const buyerName = o.shipping_address?.name;
    const row = h(
      'tr',
      {
        'data-testid': 'order-row',
        'data-order-id': o.id,
        'data-status': o.status,
        tabindex: 0,
        class: isNew ? 'order-row is-new' : 'order-row',
        'aria-label': `Order ${o.id}, ${statusLabel(o.status)}, ${formatMoney(o.total)}`,
        onclick: () => this.openDetail(o.id),
        onkeydown: (e: Event) => {
          const key = (e as KeyboardEvent).key;
          if ((key === 'Enter' || key === ' ') && e.target === row) {
            e.preventDefault();
            this.openDetail(o.id);
          }
        },
      },
      h(
        'td',
        { 'data-label': 'Order' },
        h('span', { class: 'mono' }, o.id),
        isNew ? h('span', { class: 'new-marker', 'data-testid': 'new-marker' }, 'NEW') : null,
      ),
      h('td', { 'data-label': 'Status' }, statusBadge(o.status)),
      h(
        'td',
        { 'data-label': 'Buyer' },
        h('span', { class: 'buyer-name' }, buyerName ?? '—'),
        h('span', { class: 'sub mono' }, o.user_id),
      ),
      h(
        'td',
        { 'data-label': 'Lines' },
        h(
          'ul',
          { class: 'lines' },
          o.lines.map((l) =>
            h(
              'li',
              null,
              h('span', { class: 'line-title' }, `${l.title} × ${l.quantity}`),
              h(
                'span',
                { class: 'sub' },
                'note ',
                h('span', { class: 'mono' }, l.note_id ?? '—'),
                l.note_id ? disclosureBadge(l.disclosure) : null,
              ),
            ),
          ),
        ),
      ),
      h(
        'td',
        { 'data-label': 'Total', class: 'num' },
        formatMoney(o.total),
        o.discount && o.discount.amount > 0
          ? h('span', { class: 'sub', 'data-testid': 'order-row-discount' }, `after ${formatMoney(o.discount)} off`)
          : null,
        o.refunded_amount.amount > 0
          ? h('span', { class: 'sub' }, `${formatMoney(o.refunded_amount)} refunded`)
          : null,
      ),
      h('td', { 'data-label': 'Age' }, ageCell(o.created_at)),
    );
    return row;
  }

  private refreshAges(): void {
    const now = Date.now();
    for (const el of this.el.querySelectorAll<HTMLElement>('.age[data-at]')) {
      el.textContent = formatAge(el.dataset['at'], now);
    }
  }

  // ---- the detail panel ----

  private openDetail(id: string): void {
    const o = this.latest.get(id);
    if (!o) return;
    if (this.newIds.delete(id)) {
      const row = this.rows.get(id);
      if (row) this.replaceRow(row, this.renderRow(o));
    }
    if (this.detail?.orderId === id) {
      this.detail.focus();
      return;
    }
    this.detail?.destroy();
    this.detail = new OrderDetail(o, {
      close: () => this.closeDetail(),
      changed: (order) => this.apply(order, false),
      refresh: () => this.refreshOrder(id),
    });
    this.el.appendChild(this.detail.el);
    this.detail.focus();
    void this.refreshOrder(id);
  }

  private closeDetail(restoreFocus = true): void {
    const d = this.detail;
    if (!d) return;
    this.detail = null;
    d.destroy();
    if (restoreFocus) this.rows.get(d.orderId)?.focus();
  }

  private async refreshOrder(id: string): Promise<void> {
    try {
      const o = await request<Order>(`/v1/orders/${enc(id)}`);
      this.apply(o, false);
    } catch (err) {
      if (this.detail?.orderId === id) this.detail.messages.apiError(err);
    }
  }
}

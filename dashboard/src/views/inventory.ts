// Inventory: every SKU of the shop with its stock, kept current by the `inventory` topic, and a
// stock adjustment per row.
import {
  ProblemError,
  describeError,
  enc,
  fetchAll,
  post,
  request,
  type InventoryItem,
  type SkuStock,
} from '../api';
import { h, replace } from '../dom';
import type { LiveEvent } from '../live';
import { formatCount, formatMoney, formatTime, type Money } from '../money';
import { Messages, confirmDialog, dataTable, field, refreshButton, uid, viewToolbar, type View } from '../ui';

const DEBOUNCE_MS = 200;
const DELTA_MAX = 10_000_000;

interface Row {
  item: InventoryItem;
  tr: HTMLTableRowElement;
  price: HTMLTableCellElement;
  onHand: HTMLTableCellElement;
  reserved: HTMLTableCellElement;
  available: HTMLTableCellElement;
  adjustCell: HTMLTableCellElement;
  openButton: HTMLButtonElement;
}

interface SkuEventData {
  sku_id: string;
  price?: Money;
  available?: number;
  updated_at?: string;
}

export class InventoryView implements View {
  readonly el: HTMLElement;
  private readonly rows = new Map<string, Row>();
  private readonly timers = new Map<string, number>();
  private readonly tbody = h('tbody');
  private readonly notice = h('p', { class: 'notice', role: 'status' });
  private readonly updated = h('span', { class: 'sub' });
  private loaded = false;
  private loading = false;
  private reloadTimer: number | undefined;
  /** The row whose adjustment form is open (one at a time). */
  private openSku: string | null = null;

  constructor() {
    const table = dataTable({
      testid: 'inventory-table',
      className: 'inventory',
      caption: 'Stock of every SKU in the shop',
      columns: [
        'Product',
        'SKU',
        { label: 'Price', num: true },
        { label: 'On hand', num: true },
        { label: 'Reserved', num: true },
        { label: 'Available', num: true },
        { label: 'Adjust stock', srOnly: true },
      ],
      tbody: this.tbody,
    });
    this.el = h(
      'section',
      { class: 'view', 'aria-labelledby': 'inventory-heading', hidden: true },
      viewToolbar(
        'inventory-heading',
        'Inventory',
        null,
        this.updated,
        refreshButton(undefined, () => void this.load()),
      ),
      this.notice,
      h('div', { class: 'table-wrap' }, table),
    );
  }

  show(): void {
    this.el.hidden = false;
    if (!this.loaded) void this.load();
  }

  hide(): void {
    this.el.hidden = true;
  }

  destroy(): void {
    for (const t of this.timers.values()) window.clearTimeout(t);
    window.clearTimeout(this.reloadTimer);
  }

  onEvent(e: LiveEvent): void {
    if (e.topic !== 'inventory' || !this.loaded) return;
    if (e.type !== 'sku.stock_changed' && e.type !== 'sku.price_changed') return;
    const data = e.data as SkuEventData;
    const row = this.rows.get(data.sku_id);
    if (!row) {
      // A SKU added since the list was read: read the list again, once things settle.
      window.clearTimeout(this.reloadTimer);
      this.reloadTimer = window.setTimeout(() => void this.load(), 1000);
      return;
    }
    if (data.price) {
      row.item.price = data.price;
      this.flash(row.price, formatMoney(data.price));
    }
    window.clearTimeout(this.timers.get(data.sku_id));
    this.timers.set(
      data.sku_id,
      window.setTimeout(() => {
        this.timers.delete(data.sku_id);
        void this.refreshSku(data.sku_id);
      }, DEBOUNCE_MS),
    );
  }

  onResync(topic: string): void {
    if (topic === 'inventory' && this.loaded) void this.load();
  }

  private async load(): Promise<void> {
    if (this.loading) return;
    this.loading = true;
    this.notice.textContent = this.loaded ? '' : 'Loading inventory…';
    try {
      const items = await fetchAll<InventoryItem>('/v1/inventory?limit=100');
      this.render(items);
      this.loaded = true;
      this.notice.textContent = items.length === 0 ? 'This shop has no SKUs yet.' : '';
      this.updated.textContent = `Updated ${formatTime(new Date().toISOString())}`;
    } catch (err) {
      this.notice.textContent =
        err instanceof ProblemError && err.status === 404
          ? `The inventory list is not available on this server yet (${describeError(err)}).`
          : `Could not load the inventory. ${describeError(err)}`;
    } finally {
      this.loading = false;
    }
  }

  private render(items: InventoryItem[]): void {
    const keep = this.openSku;
    this.rows.clear();
    this.openSku = null;
    this.tbody.replaceChildren();
    for (const item of items) {
      const row = this.renderRow(item);
      this.rows.set(item.sku_id, row);
      this.tbody.appendChild(row.tr);
    }
    if (keep && this.rows.has(keep)) this.openAdjust(keep, false);
  }

  private renderRow(item: InventoryItem): Row {
    const num = (testid: string, n: number, label: string) =>
      h('td', { class: 'num', 'data-testid': testid, 'data-label': label }, formatCount(n));
    const price = h('td', { class: 'num', 'data-label': 'Price' }, formatMoney(item.price));
    const onHand = num('inv-on-hand', item.on_hand, 'On hand');
    const reserved = num('inv-reserved', item.reserved, 'Reserved');
    const available = num('inv-available', item.available, 'Available');
    const openButton = h(
      'button',
      {
        type: 'button',
        class: 'btn btn-small',
        'data-testid': 'adjust-open',
        'aria-expanded': 'false',
        'aria-label': `Adjust stock of ${item.product_title} · ${item.title}`,
        onclick: () => this.openAdjust(item.sku_id, true),
      },
      'Adjust…',
    );
    const adjustCell = h('td', { class: 'adjust-cell' }, openButton);
    const tr = h(
      'tr',
      {
        'data-testid': 'inventory-row',
        'data-sku-id': item.sku_id,
        class: item.status === 'archived' ? 'is-archived' : null,
      },
      h(
        'td',
        { 'data-label': 'Product' },
        h('span', null, item.product_title),
        item.status !== 'active' ? h('span', { class: 'tag' }, item.status) : null,
        h('span', { class: 'sub mono' }, item.sku_id),
      ),
      h('td', { 'data-label': 'SKU' }, item.title),
      price,
      onHand,
      reserved,
      available,
      adjustCell,
    );
    return { item, tr, price, onHand, reserved, available, adjustCell, openButton };
  }

  private async refreshSku(skuId: string): Promise<void> {
    try {
      this.applyStock(await request<SkuStock>(`/v1/skus/${enc(skuId)}/inventory`));
    } catch (err) {
      console.warn('could not refresh', skuId, describeError(err));
    }
  }

  private applyStock(s: SkuStock): void {
    const row = this.rows.get(s.sku_id);
    if (!row) return;
    Object.assign(row.item, { on_hand: s.on_hand, reserved: s.reserved, available: s.available });
    this.flash(row.onHand, formatCount(s.on_hand));
    this.flash(row.reserved, formatCount(s.reserved));
    this.flash(row.available, formatCount(s.available));
  }

  private flash(cell: HTMLElement, text: string): void {
    if (cell.textContent === text) return;
    cell.textContent = text;
    cell.classList.remove('flash');
    void cell.offsetWidth; // restart the animation
    cell.classList.add('flash');
  }

  private closeAdjust(): void {
    const row = this.openSku ? this.rows.get(this.openSku) : undefined;
    this.openSku = null;
    if (!row) return;
    replace(row.adjustCell, row.openButton);
    row.openButton.setAttribute('aria-expanded', 'false');
    row.openButton.focus();
  }

  private openAdjust(skuId: string, focus: boolean): void {
    if (this.openSku === skuId) {
      if (focus) this.rows.get(skuId)?.adjustCell.querySelector('input')?.focus();
      return;
    }
    if (this.openSku) this.closeAdjust();
    const row = this.rows.get(skuId);
    if (!row) return;
    this.openSku = skuId;
    row.openButton.setAttribute('aria-expanded', 'true');
    const messages = new Messages();
    const delta = field(uid('adjust-delta'), 'Change (+/−)', {
      'data-testid': 'adjust-delta',
      inputmode: 'numeric',
      placeholder: '+10 or -3',
    });
    const reason = field(uid('adjust-reason'), 'Reason', {
      'data-testid': 'adjust-reason',
      placeholder: 'Stock count',
    });
    const form = h(
      'form',
      { class: 'adjust-form', novalidate: true, 'aria-label': `Adjust stock of ${row.item.title}` },
      delta.wrap,
      reason.wrap,
      h(
        'div',
        { class: 'form-buttons' },
        h(
          'button',
          { type: 'submit', class: 'btn btn-primary btn-small', 'data-testid': 'adjust-submit' },
          'Apply',
        ),
        h('button', { type: 'button', class: 'btn btn-small', onclick: () => this.closeAdjust() }, 'Close'),
      ),
      messages.el,
    );
    form.addEventListener('keydown', (e) => {
      if (e.key === 'Escape') {
        e.stopPropagation();
        this.closeAdjust();
      }
    });
    form.addEventListener('submit', (e) => {
      e.preventDefault();
      void this.submitAdjust(row, delta.input, reason.input, messages, form);
    });
    replace(row.adjustCell, form);
    if (focus) delta.input.focus();
  }

  private async submitAdjust(
    row: Row,
    deltaInput: HTMLInputElement,
    reasonInput: HTMLInputElement,
    messages: Messages,
    form: HTMLFormElement,
  ): Promise<void> {
    const text = deltaInput.value.trim().replace(/^\u2212/, '-');
    const why = reasonInput.value.trim();
    const delta = /^[+-]?\d+$/.test(text) ? Number(text) : NaN;
    let problem: string | null = null;
    if (!Number.isSafeInteger(delta) || delta === 0)
      problem = 'Enter a whole number other than 0, like 10 or -3.';
    else if (Math.abs(delta) > DELTA_MAX)
      problem = `The change can be at most ${formatCount(DELTA_MAX)} either way.`;
    else if (!why) problem = 'Enter a reason for the change.';
    else if (why.length > 200) problem = 'The reason can be at most 200 characters.';
    if (problem) return messages.formError(problem);
    messages.clear();
    const item = row.item;
    const signed = delta > 0 ? `+${formatCount(delta)}` : `−${formatCount(-delta)}`;
    const yes = await confirmDialog({
      title: 'Adjust stock',
      message:
        `Change the stock of ${item.product_title} · ${item.title} by ${signed} ` +
        `(${formatCount(item.on_hand)} → ${formatCount(item.on_hand + delta)} on hand) for “${why}”?`,
      confirmLabel: 'Adjust stock',
    });
    if (!yes) return;
    const buttons = form.querySelectorAll('button');
    for (const b of buttons) b.disabled = true;
    try {
      const s = await post<SkuStock>(`/v1/skus/${enc(item.sku_id)}/stock-adjustments`, {
        delta,
        reason: why,
      });
      this.applyStock(s);
      deltaInput.value = '';
      reasonInput.value = '';
      messages.ok(`Stock updated: ${formatCount(s.on_hand)} on hand, ${formatCount(s.available)} available.`);
    } catch (err) {
      messages.apiError(err);
    } finally {
      for (const b of buttons) b.disabled = false;
    }
  }
}

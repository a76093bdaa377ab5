// The detail panel of one order: lines, totals, address, shipment, history and refunds, with
// the actions its status allows (ship, deliver, cancel, refund), each confirmed first.
import { ProblemError, describeError, enc, fetchAll, post, type Order, type Refund } from '../api';
import { h, replace } from '../dom';
import { formatMoney, formatTime, parseMajor, type Money } from '../money';
import { Messages, ageCell, confirmDialog, disclosureBadge, field, statusBadge, uid } from '../ui';

function refundable(o: Order): Money {
  return { amount: Math.max(0, o.total.amount - o.refunded_amount.amount), currency: o.total.currency };
}

/** "−¥13.60": an amount taken off. */
function minus(m: Money): string {
  return `−${formatMoney(m)}`;
}

export interface DetailHooks {
  close(): void;
  changed(order: Order): void;
  refresh(): Promise<void>;
}

type Action = 'ship' | 'deliver' | 'cancel' | 'refund';

function allowedActions(o: Order): Action[] {
  const out: Action[] = [];
  if (o.status === 'paid') out.push('ship');
  if (o.status === 'shipped') out.push('deliver');
  if (o.status === 'awaiting_payment' || o.status === 'paid') out.push('cancel');
  if (['paid', 'shipped', 'delivered', 'completed'].includes(o.status) && refundable(o).amount > 0) {
    out.push('refund');
  }
  return out;
}

export class OrderDetail {
  readonly el: HTMLElement;
  readonly orderId: string;
  readonly messages = new Messages();
  private order: Order;
  private actionsKey = '';
  private busy = false;
  /** The refund being submitted, so a retry after a lost answer reuses its key. */
  private pendingRefund: { body: string; key: string } | null = null;

  private readonly heading: HTMLHeadingElement;
  private readonly summary = h('div', { class: 'detail-summary' });
  private readonly info = h('div', { class: 'detail-info' });
  private readonly actions = h('div', { class: 'detail-actions' });
  private readonly refunds = h('div', { class: 'refunds' }, h('p', { class: 'sub' }, 'Loading refunds…'));
  private readonly backdrop: HTMLDivElement;
  private refundHint: HTMLElement | null = null;

  constructor(
    order: Order,
    private readonly hooks: DetailHooks,
  ) {
    this.order = order;
    this.orderId = order.id;
    const headingId = uid('detail-heading');
    this.heading = h('h2', { id: headingId, tabindex: -1 }, 'Order ', h('span', { class: 'mono' }, order.id));
    this.backdrop = h('div', { class: 'drawer-backdrop', onclick: () => hooks.close() });
    this.el = h(
      'div',
      { class: 'drawer-layer' },
      this.backdrop,
      h(
        'aside',
        { class: 'drawer', role: 'dialog', 'aria-labelledby': headingId, 'data-testid': 'order-detail' },
        h(
          'header',
          { class: 'drawer-header' },
          this.heading,
          h(
            'button',
            {
              type: 'button',
              class: 'btn btn-icon',
              'data-testid': 'order-detail-close',
              'aria-label': 'Close order details',
              onclick: () => hooks.close(),
            },
            '✕',
          ),
        ),
        h(
          'div',
          { class: 'drawer-body' },
          this.summary,
          this.actions,
          this.info,
          h('section', null, h('h3', null, 'Refunds'), this.refunds),
        ),
      ),
    );
    this.update(order);
    void this.loadRefunds();
  }

  focus(): void {
    this.heading.focus();
  }

  destroy(): void {
    this.el.remove();
  }

  update(o: Order): void {
    this.order = o;
    this.renderInfo();
    const key = allowedActions(o).join(',');
    if (key !== this.actionsKey) {
      this.actionsKey = key;
      this.renderActions();
    }
    if (this.refundHint) this.refundHint.textContent = `Up to ${formatMoney(refundable(o))} can be refunded.`;
  }

  async loadRefunds(): Promise<void> {
    try {
      const list = await fetchAll<Refund>(`/v1/orders/${enc(this.orderId)}/refunds?limit=100`);
      if (list.length === 0) {
        replace(this.refunds, h('p', { class: 'sub' }, 'No refunds.'));
        return;
      }
      replace(
        this.refunds,
        h(
          'ul',
          { class: 'refund-list' },
          list.map((r) =>
            h(
              'li',
              null,
              h('strong', null, formatMoney(r.amount)),
              ' ',
              statusBadge(r.status),
              r.restock ? h('span', { class: 'tag' }, 'restocked') : null,
              h('span', { class: 'refund-reason' }, r.reason),
              h(
                'span',
                { class: 'sub' },
                `${formatTime(r.created_at)} · `,
                h('span', { class: 'mono' }, r.id),
              ),
            ),
          ),
        ),
      );
    } catch (err) {
      replace(
        this.refunds,
        h('p', { class: 'msg msg-error' }, `Could not load refunds. ${describeError(err)}`),
      );
    }
  }

  private renderInfo(): void {
    const o = this.order;
    const a = o.shipping_address;
    const moneyRow = (label: string, m: Money | undefined, cls = '') =>
      m ? [h('dt', { class: cls }, label), h('dd', { class: `num ${cls}` }, formatMoney(m))] : [];
    // What coupons took off, between subtotal/shipping and total: one row per coupon, or the
    // order's discount alone when the server sends no breakdown.
    const discounts = o.discounts ?? [];
    const discountRows: HTMLElement[] =
      discounts.length > 0
        ? discounts.flatMap((d) => [
            h('dt', null, 'Coupon ', h('span', { class: 'mono' }, d.code)),
            h(
              'dd',
              { class: 'num discount', 'data-testid': 'order-discount-line', 'data-code': d.code },
              minus(d.amount),
            ),
          ])
        : o.discount && o.discount.amount > 0
          ? [h('dt', null, 'Discount'), h('dd', { class: 'num discount' }, minus(o.discount))]
          : [];
    const discountTotal =
      discounts.length > 1 && o.discount
        ? [
            h('dt', null, 'Discount'),
            h('dd', { class: 'num discount', 'data-testid': 'order-discount' }, minus(o.discount)),
          ]
        : [];
    replace(
      this.summary,
      statusBadge(o.status, 'order-status'),
      h('span', { class: 'sub' }, `Placed ${formatTime(o.created_at)} (`, ageCell(o.created_at), ')'),
      h('span', { class: 'sub' }, 'Buyer ', h('span', { class: 'mono' }, o.user_id)),
    );
    replace(
      this.info,
      h(
        'section',
        null,
        h('h3', null, 'Lines'),
        h(
          'ul',
          { class: 'detail-lines' },
          o.lines.map((l) =>
            h(
              'li',
              null,
              h('span', { class: 'line-title' }, `${l.title} × ${l.quantity}`),
              h('span', { class: 'num' }, formatMoney(l.line_total)),
              h(
                'span',
                { class: 'sub' },
                `${formatMoney(l.unit_price)} each · note `,
                h('span', { class: 'mono' }, l.note_id ?? '—'),
                l.note_id ? disclosureBadge(l.disclosure) : null,
                ' · ',
                h('span', { class: 'mono' }, l.sku_id),
              ),
              l.discount && l.discount.amount > 0
                ? h(
                    'span',
                    { class: 'sub line-discount', 'data-testid': 'line-discount' },
                    `${minus(l.discount)} coupon discount, ${formatMoney({
                      amount: l.line_total.amount - l.discount.amount,
                      currency: l.line_total.currency,
                    })} after it`,
                  )
                : null,
            ),
          ),
        ),
        h(
          'dl',
          { class: 'totals' },
          moneyRow('Subtotal', o.subtotal),
          moneyRow('Shipping', o.shipping_fee),
          discountRows,
          discountTotal,
          moneyRow('Total', o.total, 'total'),
          moneyRow('Refunded', o.refunded_amount),
        ),
      ),
      h(
        'section',
        null,
        h('h3', null, 'Ship to'),
        a
          ? h(
              'address',
              { 'data-testid': 'order-address' },
              h('span', null, `${a.name} · ${a.phone}`),
              h('span', null, a.line1),
              h('span', null, `${a.city} ${a.postal_code} · ${a.country}`),
            )
          : h('address', { 'data-testid': 'order-address' }, 'Erased at the buyer’s request.'),
      ),
      h(
        'section',
        null,
        h('h3', null, 'Shipment'),
        o.shipment
          ? h('p', null, `${o.shipment.carrier} · `, h('span', { class: 'mono' }, o.shipment.tracking_number))
          : h('p', { class: 'sub' }, 'Not shipped yet.'),
      ),
      h(
        'section',
        null,
        h('h3', null, 'History'),
        h(
          'ol',
          { class: 'history', 'data-testid': 'order-history' },
          o.history.map((e) =>
            h(
              'li',
              null,
              statusBadge(e.status),
              h('time', { datetime: e.at }, formatTime(e.at)),
              h('span', { class: 'sub' }, ageCell(e.at)),
            ),
          ),
        ),
      ),
    );
  }

  // ---- actions ----

  private renderActions(): void {
    const allowed = allowedActions(this.order);
    this.refundHint = null;
    if (allowed.length === 0) {
      replace(this.actions, this.messages.el);
      return;
    }
    const forms = h('div', { class: 'action-forms' });
    const bar = h('div', { class: 'action-bar', role: 'group', 'aria-label': 'Order actions' });
    const openForm = (form: HTMLElement, first: HTMLInputElement) => {
      for (const f of forms.children) (f as HTMLElement).hidden = f !== form;
      form.hidden = false;
      first.focus();
    };
    for (const action of allowed) {
      switch (action) {
        case 'ship': {
          const { form, first } = this.shipForm();
          forms.appendChild(form);
          bar.appendChild(this.button('action-ship', 'Ship…', () => openForm(form, first)));
          break;
        }
        case 'deliver':
          bar.appendChild(this.button('action-deliver', 'Mark delivered', () => void this.deliver()));
          break;
        case 'cancel':
          bar.appendChild(
            this.button('action-cancel', 'Cancel order', () => void this.cancel(), 'btn-danger-outline'),
          );
          break;
        case 'refund': {
          const { form, first } = this.refundForm();
          forms.appendChild(form);
          bar.appendChild(this.button('action-refund', 'Refund…', () => openForm(form, first)));
          break;
        }
      }
    }
    // Messages go under the open form, and outlive a re-render of the actions.
    replace(this.actions, h('h3', null, 'Actions'), bar, forms, this.messages.el);
  }

  private button(testid: string, label: string, onclick: () => void, cls = ''): HTMLButtonElement {
    return h('button', { type: 'button', class: `btn ${cls}`, 'data-testid': testid, onclick }, label);
  }

  private shipForm(): { form: HTMLFormElement; first: HTMLInputElement } {
    const carrier = field(uid('ship-carrier'), 'Carrier', {
      'data-testid': 'ship-carrier',
      placeholder: 'SF Express',
    });
    const tracking = field(uid('ship-tracking'), 'Tracking number', { 'data-testid': 'ship-tracking' });
    const form = h(
      'form',
      { class: 'action-form', hidden: true, novalidate: true, 'aria-label': 'Ship the order' },
      carrier.wrap,
      tracking.wrap,
      h(
        'div',
        { class: 'form-buttons' },
        h('button', { type: 'submit', class: 'btn btn-primary', 'data-testid': 'ship-submit' }, 'Ship order'),
      ),
    );
    form.addEventListener('submit', (e) => {
      e.preventDefault();
      const c = carrier.input.value.trim();
      const t = tracking.input.value.trim();
      const problem = !c
        ? 'Enter the carrier.'
        : c.length > 100
          ? 'The carrier can be at most 100 characters.'
          : !t
            ? 'Enter the tracking number.'
            : t.length > 100
              ? 'The tracking number can be at most 100 characters.'
              : null;
      if (problem) return this.messages.formError(problem);
      void this.run(
        'Ship order',
        `Mark order ${this.orderId} as shipped with ${c}, tracking number ${t}?`,
        async () => {
          const o = await post<Order>(`/v1/orders/${enc(this.orderId)}/ship`, {
            carrier: c,
            tracking_number: t,
          });
          this.hooks.changed(o);
          return 'Order marked as shipped.';
        },
      );
    });
    return { form, first: carrier.input };
  }

  private refundForm(): { form: HTMLFormElement; first: HTMLInputElement } {
    const amount = field(uid('refund-amount'), 'Amount (¥)', {
      'data-testid': 'refund-amount',
      inputmode: 'decimal',
      placeholder: '12.50',
    });
    const reason = field(uid('refund-reason'), 'Reason', { 'data-testid': 'refund-reason' });
    const restockId = uid('refund-restock');
    const restock = h('input', { type: 'checkbox', id: restockId, 'data-testid': 'refund-restock' });
    this.refundHint = h(
      'p',
      { class: 'sub' },
      `Up to ${formatMoney(refundable(this.order))} can be refunded.`,
    );
    const form = h(
      'form',
      { class: 'action-form', hidden: true, novalidate: true, 'aria-label': 'Refund the order' },
      amount.wrap,
      this.refundHint,
      reason.wrap,
      h(
        'div',
        { class: 'check' },
        restock,
        h('label', { for: restockId }, 'Put the stock back (only with a refund of everything left)'),
      ),
      h(
        'div',
        { class: 'form-buttons' },
        h('button', { type: 'submit', class: 'btn btn-primary', 'data-testid': 'refund-submit' }, 'Refund'),
      ),
    );
    form.addEventListener('submit', (e) => {
      e.preventDefault();
      const left = refundable(this.order);
      const parsed = parseMajor(amount.input.value, left.currency);
      const why = reason.input.value.trim();
      let problem: string | null = null;
      if (!parsed.ok) problem = parsed.error;
      else if (parsed.minor > left.amount) problem = `At most ${formatMoney(left)} can be refunded.`;
      else if (!why) problem = 'Enter a reason for the refund.';
      else if (why.length > 200) problem = 'The reason can be at most 200 characters.';
      if (problem || !parsed.ok) return this.messages.formError(problem ?? '');
      const money: Money = { amount: parsed.minor, currency: left.currency };
      const body = { amount: money, reason: why, restock: restock.checked };
      void this.run(
        'Refund',
        `Refund ${formatMoney(money)} of order ${this.orderId} to the buyer for “${why}”` +
          (body.restock ? ', and put the stock back?' : '?'),
        async () => {
          const text = JSON.stringify(body);
          if (this.pendingRefund?.body !== text)
            this.pendingRefund = { body: text, key: crypto.randomUUID() };
          const key = this.pendingRefund.key;
          try {
            await post<Refund>(`/v1/orders/${enc(this.orderId)}/refunds`, body, { 'Idempotency-Key': key });
          } catch (err) {
            // Only an unanswered request or a server fault may be retried with the same key.
            if (!(err instanceof ProblemError && err.retryable)) this.pendingRefund = null;
            throw err;
          }
          this.pendingRefund = null;
          amount.input.value = '';
          reason.input.value = '';
          restock.checked = false;
          void this.loadRefunds();
          return `Refund of ${formatMoney(money)} requested.`;
        },
        true,
      );
    });
    return { form, first: amount.input };
  }

  private async deliver(): Promise<void> {
    await this.run('Mark delivered', `Mark order ${this.orderId} as delivered to the buyer?`, async () => {
      this.hooks.changed(await post<Order>(`/v1/orders/${enc(this.orderId)}/deliver`, {}));
      return 'Order marked as delivered.';
    });
  }

  private async cancel(): Promise<void> {
    const o = this.order;
    const message =
      o.status === 'paid'
        ? `Cancel order ${o.id}? The buyer is refunded ${formatMoney(refundable(o))} in full and the stock is put back.`
        : `Cancel order ${o.id}? Its reserved stock is released.`;
    await this.run(
      'Cancel order',
      message,
      async () => {
        this.hooks.changed(await post<Order>(`/v1/orders/${enc(this.orderId)}/cancel`, {}));
        void this.loadRefunds();
        return 'Order cancelled.';
      },
      true,
    );
  }

  /** Confirm, then call; shows the outcome and refreshes the order. */
  private async run(
    title: string,
    summary: string,
    call: () => Promise<string>,
    danger = false,
  ): Promise<void> {
    if (this.busy) return;
    this.messages.clear();
    const yes = await confirmDialog({ title, message: summary, confirmLabel: title, danger });
    if (!yes) return;
    this.busy = true;
    this.actions.classList.add('is-busy');
    for (const b of this.actions.querySelectorAll('button')) b.disabled = true;
    try {
      const ok = await call();
      this.messages.ok(ok);
    } catch (err) {
      this.messages.apiError(err);
    } finally {
      this.busy = false;
      this.actions.classList.remove('is-busy');
      for (const b of this.actions.querySelectorAll('button')) b.disabled = false;
    }
    await this.hooks.refresh();
  }
}

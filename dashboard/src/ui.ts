// Small shared pieces: the confirmation dialog, status badges, form messages and the parts every
// list view is built from (toolbar, table, "Load more").
import { describeError } from './api';
import { h, replace, srOnly, type Child } from './dom';
import type { LiveEvent } from './live';
import { formatAge, formatTime } from './money';

/** What main.ts needs from each tab's view. */
export interface View {
  readonly el: HTMLElement;
  show(): void;
  hide(): void;
  onEvent(event: LiveEvent): void;
  /** The live topic could not be resumed: refetch its state over HTTP. */
  onResync(topic: string): void;
  destroy(): void;
}

/**
 * A view's toolbar: its h1 (the target of the section's aria-labelledby), with the subtitle under
 * it when there is one, and on the right the controls ("Updated …", Refresh, a filter).
 */
export function viewToolbar(
  headingId: string,
  title: string,
  subtitle: string | null,
  ...controls: Child[]
): HTMLDivElement {
  const heading = h('h1', { id: headingId }, title);
  return h(
    'div',
    { class: 'toolbar' },
    subtitle === null ? heading : h('div', null, heading, h('p', { class: 'sub' }, subtitle)),
    h('div', { class: 'toolbar-controls' }, controls),
  );
}

/** The toolbar's Refresh button. */
export function refreshButton(testid: string | undefined, onClick: () => void): HTMLButtonElement {
  return h('button', { type: 'button', class: 'btn', 'data-testid': testid, onclick: onClick }, 'Refresh');
}

/** A header cell: its label, right-aligned for numbers, or only for screen readers. */
export interface TableColumn {
  label: string;
  num?: boolean;
  srOnly?: boolean;
}

interface DataTableOptions {
  testid: string;
  /** Added to `data`: the table's own styles. */
  className: string;
  /** Read by screen readers only. */
  caption: string;
  /** The header cells (a plain string for a plain one), or a header row the view builds itself. */
  columns: readonly (string | TableColumn)[] | HTMLTableRowElement;
  tbody: HTMLTableSectionElement;
}

/** A `table.data` with its caption, header row and the view's tbody. */
export function dataTable(opts: DataTableOptions): HTMLTableElement {
  const headRow =
    opts.columns instanceof HTMLTableRowElement
      ? opts.columns
      : h(
          'tr',
          null,
          opts.columns.map((c) => {
            const col = typeof c === 'string' ? { label: c } : c;
            const label = col.srOnly ? srOnly(col.label) : col.label;
            return h('th', { scope: 'col', class: col.num ? 'num' : null }, label);
          }),
        );
  return h(
    'table',
    { class: `data ${opts.className}`, 'data-testid': opts.testid },
    h('caption', { class: 'sr-only' }, opts.caption),
    h('thead', null, headRow),
    opts.tbody,
  );
}

/** The "Load more" button under a paged list, hidden until there is a next page. */
export function loadMoreButton(testid: string, onClick: () => void): HTMLButtonElement {
  return h(
    'button',
    { type: 'button', class: 'btn', 'data-testid': testid, hidden: true, onclick: onClick },
    'Load more',
  );
}

/** A relative age ("3 min ago") with the local time as its tooltip; refreshed by the orders view. */
export function ageCell(iso: string): HTMLTimeElement {
  return h('time', { class: 'age', datetime: iso, 'data-at': iso, title: formatTime(iso) }, formatAge(iso));
}

export function statusLabel(status: string): string {
  return status.replace(/_/g, ' ');
}

const DISCLOSURES: Record<string, { label: string; title: string }> = {
  brand: { label: 'Brand', title: 'Posted by the shop itself' },
  affiliate: { label: 'Affiliate', title: 'The author earns commission on sales from this note' },
};

/** "Brand" or "Affiliate" for a note's disclosure; nothing when it is absent, null or unknown. */
export function disclosureBadge(disclosure: unknown): HTMLSpanElement | null {
  if (typeof disclosure !== 'string' || !Object.hasOwn(DISCLOSURES, disclosure)) return null;
  const d = DISCLOSURES[disclosure];
  if (!d) return null;
  return h(
    'span',
    {
      class: `badge badge-disclosure badge-${disclosure}`,
      title: d.title,
      'data-testid': 'disclosure-badge',
      'data-disclosure': disclosure,
    },
    d.label,
  );
}

export function statusBadge(status: string, testid?: string): HTMLSpanElement {
  return h(
    'span',
    { class: `badge badge-${status.replace(/[^a-z_]/g, '')}`, 'data-testid': testid },
    statusLabel(status),
  );
}

interface ConfirmOptions {
  title: string;
  message: string;
  confirmLabel: string;
  danger?: boolean;
}

/** An in-page modal confirmation; resolves true on "yes", false on "no" or Escape. */
export function confirmDialog(opts: ConfirmOptions): Promise<boolean> {
  const previous = document.activeElement instanceof HTMLElement ? document.activeElement : null;
  const titleId = `confirm-title-${Math.random().toString(36).slice(2)}`;
  const no = h('button', { type: 'button', class: 'btn', 'data-testid': 'confirm-no' }, 'Go back');
  const yes = h(
    'button',
    {
      type: 'button',
      class: opts.danger ? 'btn btn-danger' : 'btn btn-primary',
      'data-testid': 'confirm-yes',
    },
    opts.confirmLabel,
  );
  const dialog = h(
    'dialog',
    { class: 'confirm', 'data-testid': 'confirm-dialog', 'aria-labelledby': titleId },
    h('h2', { id: titleId }, opts.title),
    h('p', { class: 'confirm-message' }, opts.message),
    h('div', { class: 'confirm-buttons' }, no, yes),
  );
  document.body.appendChild(dialog);
  return new Promise<boolean>((resolve) => {
    let answered = false;
    const finish = (answer: boolean) => {
      if (answered) return;
      answered = true;
      if (dialog.open) dialog.close();
      dialog.remove();
      previous?.focus();
      resolve(answer);
    };
    yes.addEventListener('click', () => finish(true));
    no.addEventListener('click', () => finish(false));
    // Escape fires "cancel"; keep it from reaching the panel behind the dialog.
    dialog.addEventListener('cancel', (e) => {
      e.preventDefault();
      finish(false);
    });
    dialog.addEventListener('keydown', (e) => {
      if (e.key === 'Escape') {
        e.preventDefault();
        e.stopPropagation();
        finish(false);
      }
    });
    dialog.addEventListener('close', () => finish(false));
    dialog.showModal();
    no.focus();
  });
}

/** True while a confirmation dialog is open (Escape belongs to it then). */
export function dialogOpen(): boolean {
  return document.querySelector('dialog[open]') !== null;
}

/** The message area of a form: client-side errors, API refusals and successes. */
export class Messages {
  readonly el = h('div', { class: 'messages', 'aria-live': 'polite' });

  clear(): void {
    this.el.replaceChildren();
  }

  formError(text: string): void {
    replace(this.el, h('p', { class: 'msg msg-error', 'data-testid': 'form-error', role: 'alert' }, text));
  }

  apiError(err: unknown): void {
    replace(
      this.el,
      h('p', { class: 'msg msg-error', 'data-testid': 'action-error', role: 'alert' }, describeError(err)),
    );
  }

  ok(text: string): void {
    replace(this.el, h('p', { class: 'msg msg-ok', 'data-testid': 'action-ok', role: 'status' }, text));
  }
}

/** A labelled text input; returns the wrapper and the input. */
export function field(
  id: string,
  label: string,
  attrs: Record<string, string | boolean | undefined>,
): { wrap: HTMLDivElement; input: HTMLInputElement } {
  const input = h('input', { id, type: 'text', autocomplete: 'off', ...attrs });
  const wrap = h('div', { class: 'field' }, h('label', { for: id }, label), input);
  return { wrap, input };
}

let idCounter = 0;
export function uid(prefix: string): string {
  idCounter += 1;
  return `${prefix}-${idCounter}`;
}

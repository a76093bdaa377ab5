// Attribution: "Content that sells" — views, carts, orders and GMV per note, with a GMV chart.
import { BarController, BarElement, CategoryScale, Chart, LinearScale, Tooltip } from 'chart.js';
import { ProblemError, describeError, request, type NoteStats } from '../api';
import { h, replace } from '../dom';
import type { LiveEvent } from '../live';
import { formatCount, formatMoney, formatTime, toMajor } from '../money';
import { dataTable, disclosureBadge, refreshButton, viewToolbar, type View } from '../ui';

Chart.register(BarController, BarElement, CategoryScale, LinearScale, Tooltip);
Chart.defaults.font.family =
  'system-ui, -apple-system, "Segoe UI", "PingFang SC", "Hiragino Sans GB", "Microsoft YaHei", "Noto Sans CJK SC", sans-serif';
Chart.defaults.color = '#475467';

const AUTO_REFRESH_MS = 10_000;
/** Counts may lag an order by up to 1 s; refresh a little after one, at most this often. */
const EVENT_DELAY_MS = 1200;
const EVENT_MIN_GAP_MS = 3000;

/** Money columns some servers add to each row (coupons taken off, commission owed, what is left). */
type ExtraKey = 'discount' | 'commission' | 'net';
type SortKey = 'note' | 'views' | 'add_to_carts' | 'orders' | 'units' | 'gmv' | 'conversion' | ExtraKey;

interface Column {
  key: SortKey;
  label: string;
  testid?: string;
  numeric: boolean;
}

const COLUMNS: Column[] = [
  { key: 'note', label: 'Note', numeric: false },
  { key: 'views', label: 'Views', testid: 'attr-views', numeric: true },
  { key: 'add_to_carts', label: 'Add-to-carts', testid: 'attr-add-to-carts', numeric: true },
  { key: 'orders', label: 'Orders', testid: 'attr-orders', numeric: true },
  { key: 'units', label: 'Units', testid: 'attr-units', numeric: true },
  { key: 'gmv', label: 'GMV', testid: 'attr-gmv', numeric: true },
  { key: 'conversion', label: 'Conversion', testid: 'attr-conversion', numeric: true },
];

/** Shown after GMV when any row carries them. */
const EXTRA_COLUMNS: (Column & { key: ExtraKey })[] = [
  { key: 'discount', label: 'Discount', testid: 'attr-discount', numeric: true },
  { key: 'commission', label: 'Commission', testid: 'attr-commission', numeric: true },
  { key: 'net', label: 'Net', testid: 'attr-net', numeric: true },
];

function columnsFor(notes: NoteStats[]): Column[] {
  const extra = EXTRA_COLUMNS.filter((c) => notes.some((n) => n[c.key] !== undefined && n[c.key] !== null));
  if (extra.length === 0) return COLUMNS;
  const at = COLUMNS.findIndex((c) => c.key === 'gmv') + 1;
  return [...COLUMNS.slice(0, at), ...extra, ...COLUMNS.slice(at)];
}

function conversion(n: NoteStats): number | null {
  return n.views > 0 ? n.orders / n.views : null;
}

function formatConversion(n: NoteStats): string {
  const c = conversion(n);
  if (c === null) return '—';
  return `${(c * 100).toLocaleString('zh-CN', { maximumFractionDigits: 1 })}%`;
}

function noteName(n: NoteStats): string {
  return n.title || n.note_id;
}

function sortValue(n: NoteStats, key: SortKey): number | string {
  switch (key) {
    case 'note':
      return noteName(n).toLocaleLowerCase();
    case 'gmv':
      return n.gmv.amount;
    case 'discount':
    case 'commission':
    case 'net':
      return n[key]?.amount ?? Number.NEGATIVE_INFINITY;
    case 'conversion':
      return conversion(n) ?? -1;
    case 'views':
    case 'add_to_carts':
    case 'orders':
    case 'units':
      return n[key];
  }
}

function cellText(n: NoteStats, key: SortKey): string {
  switch (key) {
    case 'note':
      return noteName(n);
    case 'gmv':
      return formatMoney(n.gmv);
    case 'discount':
    case 'commission':
    case 'net':
      return formatMoney(n[key]);
    case 'conversion':
      return formatConversion(n);
    case 'views':
    case 'add_to_carts':
    case 'orders':
    case 'units':
      return formatCount(n[key]);
  }
}

function shorten(text: string, max: number): string {
  const chars = Array.from(text);
  return chars.length > max ? `${chars.slice(0, max - 1).join('')}…` : text;
}

export class AttributionView implements View {
  readonly el: HTMLElement;
  private notes: NoteStats[] = [];
  private sort: { key: SortKey; dir: 'ascending' | 'descending' } = { key: 'gmv', dir: 'descending' };
  private columns: Column[] = COLUMNS;
  private visible = false;
  private timer: number | undefined;
  private eventTimer: number | undefined;
  private lastRefresh = 0;
  private inFlight = false;
  private again = false;
  private chart: Chart<'bar', number[], string> | null = null;
  /** The notes in the chart's order (GMV, highest first). */
  private chartNotes: NoteStats[] = [];

  private readonly headRow = h('tr');
  private readonly tbody = h('tbody');
  private readonly notice = h('p', { class: 'notice', role: 'status' });
  private readonly updated = h('span', { class: 'sub' });
  private readonly canvas = h('canvas', {
    'data-testid': 'gmv-chart',
    role: 'img',
    'aria-label': 'GMV by note, in yuan',
  });
  private readonly chartBox = h('div', { class: 'chart-box' }, this.canvas);
  private readonly content: HTMLDivElement;

  constructor() {
    const table = dataTable({
      testid: 'attribution-table',
      className: 'attribution',
      caption: 'Sales attributed to each note; select a column header to sort',
      columns: this.headRow, // sortable header cells, built by renderHead()
      tbody: this.tbody,
    });
    this.content = h(
      'div',
      { class: 'attr-layout', hidden: true },
      h('div', { class: 'table-wrap' }, table),
      h('figure', { class: 'chart-card' }, h('figcaption', null, 'GMV by note (¥)'), this.chartBox),
    );
    this.el = h(
      'section',
      { class: 'view', 'aria-labelledby': 'attribution-heading', hidden: true },
      viewToolbar(
        'attribution-heading',
        'Content that sells',
        'Sales are credited to the note each cart line was added from.',
        this.updated,
        refreshButton('attribution-refresh', () => void this.refresh()),
      ),
      this.notice,
      this.content,
    );
    this.renderHead();
  }

  show(): void {
    this.visible = true;
    this.el.hidden = false;
    void this.refresh();
    window.clearInterval(this.timer);
    this.timer = window.setInterval(() => void this.refresh(), AUTO_REFRESH_MS);
  }

  hide(): void {
    this.visible = false;
    this.el.hidden = true;
    window.clearInterval(this.timer);
    window.clearTimeout(this.eventTimer);
    this.eventTimer = undefined;
  }

  destroy(): void {
    this.hide();
    this.chart?.destroy();
    this.chart = null;
  }

  onEvent(e: LiveEvent): void {
    if (e.topic !== 'orders' || !e.type.startsWith('order.') || !this.visible) return;
    if (this.eventTimer !== undefined) return; // one is already on its way
    const at = Math.max(Date.now() + EVENT_DELAY_MS, this.lastRefresh + EVENT_MIN_GAP_MS);
    this.eventTimer = window.setTimeout(() => {
      this.eventTimer = undefined;
      void this.refresh();
    }, at - Date.now());
  }

  onResync(): void {
    if (this.visible) void this.refresh();
  }

  async refresh(): Promise<void> {
    if (this.inFlight) {
      this.again = true;
      return;
    }
    this.inFlight = true;
    this.lastRefresh = Date.now();
    if (this.notes.length === 0) this.notice.textContent = 'Loading…';
    try {
      // Every page: the table sorts and charts all the shop's notes.
      const notes: NoteStats[] = [];
      let cursor: string | null = null;
      do {
        const query: string = cursor ? `&cursor=${encodeURIComponent(cursor)}` : '';
        const res: { data: NoteStats[]; next_cursor: string | null } = await request<{
          data: NoteStats[];
          next_cursor: string | null;
        }>(`/v1/analytics/notes?limit=100${query}`);
        notes.push(...res.data);
        cursor = res.next_cursor;
      } while (cursor);
      // The pages rank by GMV, computed again for each page: a sale between two pages can move a
      // note onto the next page again. Each note once.
      const seen = new Set<string>();
      this.notes = notes.filter((n) => {
        if (seen.has(n.note_id)) return false;
        seen.add(n.note_id);
        return true;
      });
      const columns = columnsFor(this.notes);
      if (columns.map((c) => c.key).join() !== this.columns.map((c) => c.key).join()) {
        this.columns = columns;
        if (!columns.some((c) => c.key === this.sort.key)) this.sort = { key: 'gmv', dir: 'descending' };
        this.renderHead();
      }
      this.notice.textContent = this.notes.length === 0 ? 'No notes tag this shop’s products yet.' : '';
      this.content.hidden = this.notes.length === 0;
      this.updated.textContent = `Updated ${formatTime(new Date().toISOString())}`;
      this.renderBody();
      if (this.visible) this.renderChart();
    } catch (err) {
      this.notice.textContent =
        err instanceof ProblemError && err.status === 404
          ? `Attribution is not available on this server yet (${describeError(err)}).`
          : `Could not load attribution. ${describeError(err)}`;
    } finally {
      this.inFlight = false;
      if (this.again) {
        this.again = false;
        void this.refresh();
      }
    }
  }

  private setSort(key: SortKey): void {
    if (this.sort.key === key) {
      this.sort.dir = this.sort.dir === 'ascending' ? 'descending' : 'ascending';
    } else {
      this.sort = { key, dir: key === 'note' ? 'ascending' : 'descending' };
    }
    this.renderHead();
    this.renderBody();
    this.headRow.querySelector<HTMLButtonElement>(`button[data-key="${key}"]`)?.focus();
  }

  private renderHead(): void {
    replace(
      this.headRow,
      this.columns.map((c) => {
        const active = this.sort.key === c.key;
        return h(
          'th',
          { scope: 'col', class: c.numeric ? 'num' : null, 'aria-sort': active ? this.sort.dir : null },
          h(
            'button',
            { type: 'button', class: 'sort', 'data-key': c.key, onclick: () => this.setSort(c.key) },
            c.label,
            h(
              'span',
              { class: 'sort-arrow', 'aria-hidden': 'true' },
              active ? (this.sort.dir === 'ascending' ? '▲' : '▼') : '↕',
            ),
          ),
        );
      }),
    );
  }

  private sorted(): NoteStats[] {
    const { key, dir } = this.sort;
    const sign = dir === 'ascending' ? 1 : -1;
    return [...this.notes].sort((a, b) => {
      const va = sortValue(a, key);
      const vb = sortValue(b, key);
      const c = va < vb ? -1 : va > vb ? 1 : 0;
      return c * sign || (a.note_id < b.note_id ? -1 : 1);
    });
  }

  private renderBody(): void {
    replace(
      this.tbody,
      this.sorted().map((n) =>
        h(
          'tr',
          { 'data-testid': 'attribution-row', 'data-note-id': n.note_id },
          this.columns.map((c) =>
            c.key === 'note'
              ? h(
                  'th',
                  { scope: 'row', class: 'note-cell' },
                  h('span', null, noteName(n)),
                  disclosureBadge(n.disclosure),
                  h('span', { class: 'sub mono' }, n.note_id),
                )
              : h('td', { class: 'num', 'data-testid': c.testid }, cellText(n, c.key)),
          ),
        ),
      ),
    );
  }

  private renderChart(): void {
    const byGmv = [...this.notes].sort(
      (a, b) => b.gmv.amount - a.gmv.amount || (a.note_id < b.note_id ? -1 : 1),
    );
    this.chartNotes = byGmv;
    const labels = byGmv.map((n) => shorten(noteName(n), this.chartBox.clientWidth < 480 ? 12 : 24));
    const values = byGmv.map((n) => toMajor(n.gmv));
    this.chartBox.style.height = `${Math.max(160, byGmv.length * 38 + 56)}px`;
    this.canvas.setAttribute(
      'aria-label',
      `GMV by note: ${byGmv.map((n) => `${noteName(n)} ${formatMoney(n.gmv)}`).join('; ')}`,
    );
    if (this.chart) {
      this.chart.data.labels = labels;
      const ds = this.chart.data.datasets[0];
      if (ds) ds.data = values;
      this.chart.update();
      return;
    }
    this.chart = new Chart(this.canvas, {
      type: 'bar',
      data: {
        labels,
        datasets: [
          { label: 'GMV', data: values, backgroundColor: '#d4293d', borderRadius: 4, maxBarThickness: 28 },
        ],
      },
      options: {
        indexAxis: 'y',
        responsive: true,
        maintainAspectRatio: false,
        animation: { duration: 250 },
        plugins: {
          legend: { display: false },
          tooltip: {
            callbacks: {
              title: (items) => {
                const n = this.chartNotes[items[0]?.dataIndex ?? -1];
                return n ? noteName(n) : '';
              },
              label: (item) => formatMoney(this.chartNotes[item.dataIndex]?.gmv),
            },
          },
        },
        scales: {
          x: {
            beginAtZero: true,
            ticks: { callback: (v) => `¥${formatCount(Number(v))}` },
            grid: { color: '#eef0f3' },
          },
          y: { grid: { display: false } },
        },
      },
    });
  }
}

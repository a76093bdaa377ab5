// Money is an integer count of the currency's minor unit (fen for CNY); never a float in state.
// Floats appear only at the edge, to hand a number to Intl for display or to a chart.

export interface Money {
  amount: number;
  currency: string;
}

const formatters = new Map<string, Intl.NumberFormat>();

function formatter(currency: string): Intl.NumberFormat {
  let f = formatters.get(currency);
  if (!f) {
    f = new Intl.NumberFormat('zh-CN', { style: 'currency', currency });
    formatters.set(currency, f);
  }
  return f;
}

/** Digits after the decimal point for a currency: 2 for CNY, 0 for JPY. */
export function minorDigits(currency: string): number {
  return formatter(currency).resolvedOptions().maximumFractionDigits ?? 2;
}

/** In major units (yuan), for charts. */
export function toMajor(m: Money): number {
  return m.amount / 10 ** minorDigits(m.currency);
}

/** "¥68.00" */
export function formatMoney(m: Money | null | undefined): string {
  if (!m) return '—';
  return formatter(m.currency).format(toMajor(m));
}

/** An amount typed in major units ("12.50") as minor units, or an error message. */
export function parseMajor(
  input: string,
  currency: string,
): { ok: true; minor: number } | { ok: false; error: string } {
  const text = input.trim();
  const digits = minorDigits(currency);
  const match = /^(\d+)(?:\.(\d+))?$/.exec(text);
  if (!match) return { ok: false, error: 'Enter an amount like 12.50.' };
  const whole = match[1] ?? '0';
  const frac = match[2] ?? '';
  if (frac.length > digits) {
    return {
      ok: false,
      error: digits === 0 ? 'Enter a whole amount.' : `Use at most ${digits} decimals.`,
    };
  }
  const minor = Number(whole + frac.padEnd(digits, '0'));
  if (!Number.isSafeInteger(minor)) return { ok: false, error: 'That amount is too large.' };
  if (minor <= 0) return { ok: false, error: 'The amount must be more than zero.' };
  return { ok: true, minor };
}

const timeFormat = new Intl.DateTimeFormat('zh-CN', {
  year: 'numeric',
  month: '2-digit',
  day: '2-digit',
  hour: '2-digit',
  minute: '2-digit',
  second: '2-digit',
  hour12: false,
});

/** Local date and time, "2026/11/29 10:50:19". */
export function formatTime(iso: string | null | undefined): string {
  if (!iso) return '—';
  const t = new Date(iso);
  return Number.isNaN(t.getTime()) ? iso : timeFormat.format(t);
}

/** "just now", "3 min ago", "2 h ago", "4 d ago". */
export function formatAge(iso: string | null | undefined, now: number = Date.now()): string {
  if (!iso) return '—';
  const t = new Date(iso).getTime();
  if (Number.isNaN(t)) return '—';
  const s = Math.max(0, Math.round((now - t) / 1000));
  if (s < 45) return 'just now';
  const min = Math.round(s / 60);
  if (min < 60) return `${min} min ago`;
  const hours = Math.round(min / 60);
  if (hours < 48) return `${hours} h ago`;
  return `${Math.round(hours / 24)} d ago`;
}

export function formatCount(n: number): string {
  return n.toLocaleString('zh-CN');
}

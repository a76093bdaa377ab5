// The JSON API client: one fetch wrapper, typed answers, and RFC 9457 problems as ProblemError.
import type { Money } from './money';

export type OrderStatus =
  'awaiting_payment' | 'paid' | 'shipped' | 'delivered' | 'completed' | 'cancelled' | 'expired' | 'refunded';

export const ORDER_STATUSES: readonly OrderStatus[] = [
  'awaiting_payment',
  'paid',
  'shipped',
  'delivered',
  'completed',
  'cancelled',
  'expired',
  'refunded',
];

export interface Merchant {
  id: string;
  name: string;
  currency: string;
}

/** Who stands behind a note, set by the engine: the shop itself, or a creator paid commission. */
export type Disclosure = 'brand' | 'affiliate';

export interface OrderLine {
  sku_id: string;
  title: string;
  quantity: number;
  unit_price: Money;
  line_total: Money;
  /** This line's part of the order's discount (absent from servers without coupons). */
  discount?: Money;
  note_id: string | null;
  /** The note's disclosure, when the server sends it with the line. */
  disclosure?: Disclosure | null;
}

/** One coupon's discount on an order. */
export interface OrderDiscount {
  code: string;
  amount: Money;
}

export interface Address {
  name: string;
  phone: string;
  line1: string;
  city: string;
  postal_code: string;
  country: string;
}

export interface Order {
  id: string;
  checkout_id: string;
  user_id: string;
  merchant_id: string;
  status: OrderStatus;
  lines: OrderLine[];
  subtotal: Money;
  shipping_fee: Money;
  discount?: Money;
  discounts?: OrderDiscount[];
  total: Money;
  refunded_amount: Money;
  shipping_address: Address | null;
  shipment: { carrier: string; tracking_number: string } | null;
  history: { status: OrderStatus; at: string }[];
  created_at: string;
  updated_at: string;
}

export interface Refund {
  id: string;
  order_id: string;
  payment_id: string;
  amount: Money;
  reason: string;
  restock: boolean;
  status: string;
  created_at: string;
  updated_at: string;
}

export interface InventoryItem {
  sku_id: string;
  product_id: string;
  product_title: string;
  title: string;
  price: Money;
  on_hand: number;
  reserved: number;
  available: number;
  status: string;
}

export interface SkuStock {
  sku_id: string;
  on_hand: number;
  reserved: number;
  available: number;
}

export interface NoteStats {
  note_id: string;
  title?: string;
  views: number;
  add_to_carts: number;
  orders: number;
  units: number;
  gmv: Money;
  /** Optional columns, shown when the server sends them. */
  discount?: Money;
  commission?: Money;
  net?: Money;
  disclosure?: Disclosure | null;
}

// ---- promotions (coupons) ----

export type CouponKind = 'percent' | 'amount';
export type CouponStatus = 'active' | 'disabled';

export interface Coupon {
  code: string;
  scope: 'merchant' | 'platform';
  merchant_id: string | null;
  kind: CouponKind;
  /** A percent (1–100) for `percent`; minor units of `currency` for `amount`. */
  value: number;
  currency: string;
  min_spend: Money;
  starts_at: string | null;
  ends_at: string | null;
  max_redemptions: number | null;
  per_user_limit: number | null;
  status: CouponStatus;
  created_at: string;
  updated_at: string;
  /** Checkouts holding it or paid with it (its owner only). */
  in_use?: number;
  /** Checkouts paid with it (its owner only). */
  redeemed?: number;
}

export interface CouponCreate {
  code: string;
  kind: CouponKind;
  value: number;
  min_spend?: Money;
  starts_at?: string;
  ends_at?: string;
  max_redemptions?: number;
  per_user_limit?: number;
}

export interface CouponPatch {
  status?: CouponStatus;
  ends_at?: string;
  max_redemptions?: number;
}

// ---- creator commissions owed by the shop ----

export type CommissionKind = 'accrue' | 'reverse' | 'settle';

export interface CommissionEntry {
  order_id: string;
  note_id: string;
  creator_id: string;
  kind: CommissionKind;
  amount: Money;
  at: string;
  disclosure?: Disclosure | null;
}

/** GET /v1/merchants/me/commissions: totals over everything, entries newest first, paged. */
export interface MerchantCommissions {
  accrued: Money;
  reversed: Money;
  settled: Money;
  owed: Money;
  entries: CommissionEntry[];
  next_cursor: string | null;
}

export interface Page<T> {
  data: T[];
  next_cursor: string | null;
}

/** A refusal from the API (problem+json), or status 0 when the request never got an answer. */
export class ProblemError extends Error {
  constructor(
    readonly status: number,
    readonly title: string,
    readonly detail: string,
    readonly code: string,
  ) {
    super(detail ? `${title}: ${detail}` : title);
    this.name = 'ProblemError';
  }

  /** True when retrying the same request may succeed (no answer, or a server fault). */
  get retryable(): boolean {
    return this.status === 0 || this.status >= 500;
  }
}

const TOKEN_KEY = 'redloop.token';

export function loadToken(): string | null {
  try {
    return sessionStorage.getItem(TOKEN_KEY);
  } catch {
    return null;
  }
}

export function saveToken(token: string | null): void {
  try {
    if (token) sessionStorage.setItem(TOKEN_KEY, token);
    else sessionStorage.removeItem(TOKEN_KEY);
  } catch {
    // Storage disabled: the session lasts as long as the page.
  }
}

let unauthorizedHandler: ((e: ProblemError) => void) | null = null;

/** Called when a signed-in request is answered 401 (the token expired or was revoked). */
export function onUnauthorized(handler: ((e: ProblemError) => void) | null): void {
  unauthorizedHandler = handler;
}

interface RequestOptions {
  method?: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  body?: unknown;
  headers?: Record<string, string>;
  token?: string;
  signal?: AbortSignal;
}

export async function request<T>(path: string, options: RequestOptions = {}): Promise<T> {
  const token = options.token ?? loadToken();
  const headers: Record<string, string> = { Accept: 'application/json', ...options.headers };
  if (token) headers['Authorization'] = `Bearer ${token}`;
  const method = options.method ?? 'GET';
  let body: string | undefined;
  if (method !== 'GET') {
    headers['Content-Type'] = 'application/json';
    body = JSON.stringify(options.body ?? {});
  }
  let res: Response;
  try {
    res = await fetch(path, { method, headers, body, signal: options.signal, cache: 'no-store' });
  } catch (err) {
    if (err instanceof DOMException && err.name === 'AbortError') throw err;
    throw new ProblemError(0, 'Network error', 'The server could not be reached.', 'network');
  }
  const text = await res.text();
  let json: unknown = null;
  if (text) {
    try {
      json = JSON.parse(text);
    } catch {
      json = null;
    }
  }
  if (!res.ok) {
    const p = (json && typeof json === 'object' ? json : {}) as Record<string, unknown>;
    const problem = new ProblemError(
      res.status,
      typeof p['title'] === 'string' ? p['title'] : res.statusText || `HTTP ${res.status}`,
      typeof p['detail'] === 'string' ? p['detail'] : '',
      typeof p['code'] === 'string' ? p['code'] : '',
    );
    if (res.status === 401 && !options.token && unauthorizedHandler) unauthorizedHandler(problem);
    throw problem;
  }
  return json as T;
}

export function post<T>(path: string, body: unknown, headers?: Record<string, string>): Promise<T> {
  return request<T>(path, { method: 'POST', body, headers });
}

export function patch<T>(path: string, body: unknown): Promise<T> {
  return request<T>(path, { method: 'PATCH', body });
}

function pageQuery(limit: number, cursor: string | null): string {
  return `limit=${limit}${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`;
}

/** The shop's coupons, newest first. */
export function listCoupons(limit: number, cursor: string | null): Promise<Page<Coupon>> {
  return request<Page<Coupon>>(`/v1/coupons?${pageQuery(limit, cursor)}`);
}

export function createCoupon(body: CouponCreate): Promise<Coupon> {
  return post<Coupon>('/v1/coupons', body);
}

export function updateCoupon(code: string, body: CouponPatch): Promise<Coupon> {
  return patch<Coupon>(`/v1/coupons/${encodeURIComponent(code)}`, body);
}

/** What the shop owes creators; a ProblemError with status 404 where the server lacks the route. */
export function getMerchantCommissions(limit: number, cursor: string | null): Promise<MerchantCommissions> {
  return request<MerchantCommissions>(`/v1/merchants/me/commissions?${pageQuery(limit, cursor)}`);
}

/** Follows next_cursor until the list ends (bounded, in case a server loops). */
export async function fetchAll<T>(path: string, maxPages = 100): Promise<T[]> {
  const items: T[] = [];
  let cursor: string | null = null;
  for (let i = 0; i < maxPages; i++) {
    const sep = path.includes('?') ? '&' : '?';
    const url: string = cursor ? `${path}${sep}cursor=${encodeURIComponent(cursor)}` : path;
    const page: Page<T> = await request<Page<T>>(url);
    items.push(...page.data);
    cursor = page.next_cursor;
    if (!cursor) break;
  }
  return items;
}

export const enc = encodeURIComponent;

/** The words to show for a failure, title and detail. */
export function describeError(err: unknown): string {
  if (err instanceof ProblemError) {
    return err.detail ? `${err.title}: ${err.detail}` : err.title;
  }
  return err instanceof Error ? err.message : String(err);
}

// The Redloop merchant dashboard: sign-in, the header and tabs, the live stream, and routing
// between the orders, inventory, attribution, promotions and creator payouts views.
import './styles.css';
import { describeError, loadToken, onUnauthorized, request, saveToken, type Merchant } from './api';
import { h, replace } from './dom';
import { LiveClient, type LiveStatus } from './live';
import type { View } from './ui';
import { AttributionView } from './views/attribution';
import { InventoryView } from './views/inventory';
import { OrdersView } from './views/orders';
import { PayoutsView } from './views/payouts';
import { PromotionsView } from './views/promotions';

type Route = 'orders' | 'inventory' | 'attribution' | 'promotions' | 'payouts';
const ROUTES: { route: Route; label: string; title?: string }[] = [
  { route: 'orders', label: 'Orders' },
  { route: 'inventory', label: 'Inventory' },
  { route: 'attribution', label: 'Attribution' },
  { route: 'promotions', label: 'Promotions' },
  { route: 'payouts', label: 'Payouts', title: 'Creator payouts' },
];

const root = document.getElementById('app') as HTMLElement;

interface Session {
  live: LiveClient;
  views: Record<Route, View>;
  current: Route | null;
  tabs: Record<Route, HTMLAnchorElement>;
  measure: ResizeObserver;
}

let session: Session | null = null;

// ---- sign-in ----

function showSignIn(token = '', error = ''): void {
  const input = h('input', {
    id: 'token-input',
    name: 'token',
    type: 'password',
    autocomplete: 'off',
    spellcheck: 'false',
    required: true,
    'data-testid': 'token-input',
    'aria-describedby': 'token-help signin-error',
  });
  input.value = token;
  const errorEl = h('p', {
    id: 'signin-error',
    class: 'msg msg-error',
    role: 'alert',
    'data-testid': 'signin-error',
  });
  const setError = (text: string) => {
    errorEl.textContent = text;
    errorEl.hidden = !text;
  };
  setError(error);
  const submit = h(
    'button',
    { type: 'submit', class: 'btn btn-primary', 'data-testid': 'signin-submit' },
    'Sign in',
  );
  const form = h(
    'form',
    { class: 'signin-form', 'data-testid': 'signin-form', novalidate: true },
    h('label', { for: 'token-input' }, 'Merchant token'),
    input,
    h(
      'p',
      { id: 'token-help', class: 'sub' },
      'Paste the merchant token (JWT) you were given. It is kept only for this browser tab.',
    ),
    errorEl,
    submit,
  );
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    void signIn(input.value.trim(), setError, submit);
  });
  replace(
    root,
    h(
      'main',
      { class: 'signin' },
      h(
        'div',
        { class: 'signin-card' },
        h(
          'div',
          { class: 'brand brand-large' },
          h('span', { class: 'logo', 'aria-hidden': 'true' }),
          'Redloop',
        ),
        h('h1', null, 'Merchant dashboard'),
        form,
      ),
    ),
  );
  document.title = 'Sign in · Redloop';
  if (token && !error) form.requestSubmit();
  else input.focus();
}

async function signIn(
  token: string,
  setError: (t: string) => void,
  submit: HTMLButtonElement,
): Promise<void> {
  if (!token) {
    setError('Paste a merchant token to sign in.');
    return;
  }
  setError('');
  submit.disabled = true;
  submit.textContent = 'Signing in…';
  try {
    const merchant = await request<Merchant>('/v1/merchants/me', { token });
    saveToken(token);
    startSession(token, merchant);
  } catch (err) {
    saveToken(null);
    setError(describeError(err));
    submit.disabled = false;
    submit.textContent = 'Sign in';
  }
}

function signOut(error = ''): void {
  if (session) {
    session.live.stop();
    session.measure.disconnect();
    for (const v of Object.values(session.views)) v.destroy();
    session = null;
  }
  onUnauthorized(null);
  saveToken(null);
  showSignIn('', error);
}

// ---- the signed-in app ----

function startSession(token: string, merchant: Merchant): void {
  const liveEl = h('span', { class: 'live', 'data-testid': 'live-status', role: 'status' }, 'reconnecting…');
  const setLive = (s: LiveStatus) => {
    liveEl.textContent = s === 'live' ? 'live' : 'reconnecting…';
    liveEl.classList.toggle('is-live', s === 'live');
  };

  const attribution = new AttributionView();
  const views: Record<Route, View> = {
    orders: new OrdersView(),
    inventory: new InventoryView(),
    attribution,
    promotions: new PromotionsView(merchant.currency || 'CNY'),
    payouts: new PayoutsView(),
  };
  const tabs = {} as Record<Route, HTMLAnchorElement>;
  for (const { route, label, title } of ROUTES) {
    tabs[route] = h('a', { href: `#/${route}`, class: 'tab', 'data-testid': `tab-${route}`, title }, label);
  }
  const live = new LiveClient({
    token,
    topics: ['orders', 'inventory'],
    onEvent: (e) => {
      for (const v of Object.values(views)) v.onEvent(e);
    },
    onStatus: setLive,
    onResync: (topic) => {
      for (const v of Object.values(views)) v.onResync(topic);
    },
  });

  const topbar = h(
    'header',
    { class: 'topbar' },
    h(
      'div',
      { class: 'brand' },
      h('span', { class: 'logo', 'aria-hidden': 'true' }),
      h('span', { class: 'brand-name' }, 'Redloop'),
    ),
    h('nav', { class: 'tabs', 'aria-label': 'Sections' }, Object.values(tabs)),
    h(
      'div',
      { class: 'account' },
      liveEl,
      h(
        'span',
        { class: 'merchant-name', 'data-testid': 'merchant-name', title: merchant.id },
        merchant.name,
      ),
      h(
        'button',
        { type: 'button', class: 'btn btn-small', 'data-testid': 'signout', onclick: () => signOut() },
        'Sign out',
      ),
    ),
  );
  replace(
    root,
    h('a', { href: '#main', class: 'skip-link' }, 'Skip to content'),
    topbar,
    h(
      'main',
      { id: 'main', class: 'content', tabindex: -1 },
      Object.values(views).map((v) => v.el),
    ),
  );
  // The order panel opens below the header; it needs the header's height, which wraps on phones.
  const measure = new ResizeObserver(() => {
    document.documentElement.style.setProperty('--topbar-h', `${topbar.getBoundingClientRect().height}px`);
  });
  measure.observe(topbar);
  session = { live, views, current: null, tabs, measure };
  onUnauthorized((err) => signOut(`You were signed out: ${describeError(err)}`));
  live.start();
  route();
}

function currentRoute(): Route {
  const name = location.hash.replace(/^#\/?/, '');
  return ROUTES.some((r) => r.route === name) ? (name as Route) : 'orders';
}

function route(): void {
  if (!session) return;
  const next = currentRoute();
  if (session.current === next) return;
  if (session.current) session.views[session.current].hide();
  session.current = next;
  for (const { route: r } of ROUTES) {
    if (r === next) session.tabs[r].setAttribute('aria-current', 'page');
    else session.tabs[r].removeAttribute('aria-current');
  }
  session.views[next].show();
  const found = ROUTES.find((r) => r.route === next);
  const label = found?.title ?? found?.label ?? '';
  document.title = `${label} · Redloop`;
}

window.addEventListener('hashchange', route);

// ---- start ----

function boot(): void {
  const url = new URL(location.href);
  const fromUrl = url.searchParams.get('token');
  if (fromUrl !== null) {
    // Keep the token out of the address bar, history and referrers.
    url.searchParams.delete('token');
    history.replaceState(history.state, '', url.pathname + url.search + url.hash);
  }
  const token = (fromUrl ?? '').trim() || loadToken() || '';
  showSignIn(token);
}

boot();

// The live stream: one WebSocket to /v1/stream, subscribed to a few topics, resumed after a
// drop from the last seq seen on each topic (docs/live-events.md).

export interface LiveEvent {
  seq: number;
  topic: string;
  type: string;
  data: unknown;
}

export type LiveStatus = 'live' | 'reconnecting';

export interface LiveOptions {
  token: string;
  topics: string[];
  onEvent: (event: LiveEvent) => void;
  onStatus: (status: LiveStatus) => void;
  /** The resume was refused: the topic is live again, but what was missed must be refetched. */
  onResync: (topic: string) => void;
}

const BACKOFF_MIN_MS = 1000;
const BACKOFF_MAX_MS = 30000;

export class LiveClient {
  private ws: WebSocket | null = null;
  private readonly lastSeq = new Map<string, number>();
  private readonly subscribed = new Set<string>();
  /** Topics the server refused on this socket (not ours to read): not waited for. */
  private readonly refused = new Set<string>();
  /** Topics subscribed on this socket with after_seq, awaiting the answer. */
  private readonly resuming = new Set<string>();
  /** Topics whose resume was refused: resync once the plain subscription is acknowledged. */
  private readonly needResync = new Set<string>();
  private backoff = BACKOFF_MIN_MS;
  private timer: number | undefined;
  private stopped = false;
  private status: LiveStatus | null = null;

  constructor(private readonly opts: LiveOptions) {}

  start(): void {
    this.stopped = false;
    this.connect();
  }

  stop(): void {
    this.stopped = true;
    window.clearTimeout(this.timer);
    const ws = this.ws;
    this.ws = null;
    if (ws) {
      ws.onopen = ws.onmessage = ws.onclose = ws.onerror = null;
      ws.close(1000, 'signed out');
    }
  }

  private url(): string {
    const scheme = location.protocol === 'https:' ? 'wss:' : 'ws:';
    return `${scheme}//${location.host}/v1/stream?access_token=${encodeURIComponent(this.opts.token)}`;
  }

  private setStatus(status: LiveStatus): void {
    if (status === this.status) return;
    this.status = status;
    this.opts.onStatus(status);
  }

  private connect(): void {
    if (this.stopped) return;
    this.subscribed.clear();
    this.refused.clear();
    this.resuming.clear();
    this.setStatus('reconnecting');
    let ws: WebSocket;
    try {
      ws = new WebSocket(this.url());
    } catch {
      this.scheduleReconnect();
      return;
    }
    this.ws = ws;
    ws.onopen = () => {
      for (const topic of this.opts.topics) this.subscribe(topic, true);
    };
    ws.onmessage = (e: MessageEvent) => {
      if (typeof e.data === 'string') this.handle(e.data);
    };
    ws.onclose = () => {
      if (this.ws !== ws) return;
      this.ws = null;
      this.subscribed.clear();
      this.setStatus('reconnecting');
      this.scheduleReconnect();
    };
  }

  private scheduleReconnect(): void {
    if (this.stopped) return;
    window.clearTimeout(this.timer);
    const delay = this.backoff;
    this.backoff = Math.min(this.backoff * 2, BACKOFF_MAX_MS);
    this.timer = window.setTimeout(() => this.connect(), delay);
  }

  private subscribe(topic: string, resume: boolean): void {
    const after = this.lastSeq.get(topic);
    const msg: Record<string, unknown> = { op: 'subscribe', topic };
    if (resume && after !== undefined) {
      msg['after_seq'] = after;
      this.resuming.add(topic);
    } else {
      this.resuming.delete(topic);
    }
    this.ws?.send(JSON.stringify(msg));
  }

  private handle(text: string): void {
    let msg: Record<string, unknown>;
    try {
      const parsed: unknown = JSON.parse(text);
      if (!parsed || typeof parsed !== 'object') return;
      msg = parsed as Record<string, unknown>;
    } catch {
      return;
    }
    const topic = typeof msg['topic'] === 'string' ? msg['topic'] : '';
    if (typeof msg['seq'] === 'number' && 'data' in msg && typeof msg['type'] === 'string') {
      const seq = msg['seq'];
      if (seq <= (this.lastSeq.get(topic) ?? -1)) return; // seen already
      this.lastSeq.set(topic, seq);
      this.opts.onEvent({ seq, topic, type: msg['type'], data: msg['data'] });
      return;
    }
    if (msg['type'] === 'subscribed') {
      // A fresh subscription goes live after the acknowledged position; a resume's replay of
      // what was missed follows this frame and moves lastSeq on by itself.
      if (!this.resuming.has(topic) && typeof msg['position'] === 'number') {
        this.lastSeq.set(topic, Math.max(msg['position'], this.lastSeq.get(topic) ?? -1));
      }
      this.resuming.delete(topic);
      this.subscribed.add(topic);
      this.checkLive();
      if (this.needResync.delete(topic)) this.opts.onResync(topic);
      return;
    }
    if (msg['type'] === 'error') {
      const code = msg['code'];
      if (this.resuming.has(topic) && (code === 'conflict' || code === 'invalid_request')) {
        // Too far behind to replay (or the log was reset): subscribe afresh first, then
        // refetch over HTTP, in that order so that nothing falls between.
        this.lastSeq.delete(topic);
        this.needResync.add(topic);
        this.subscribe(topic, false);
        return;
      }
      console.warn('live stream refused', topic, code, msg['detail']);
      if (topic && this.opts.topics.includes(topic)) {
        this.refused.add(topic);
        this.checkLive();
      }
    }
  }

  private checkLive(): void {
    if (this.subscribed.size > 0 && this.subscribed.size + this.refused.size >= this.opts.topics.length) {
      this.backoff = BACKOFF_MIN_MS;
      this.setStatus('live');
    }
  }
}

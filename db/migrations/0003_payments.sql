-- Payments: their history, refunds, the provider's webhook events; orders remember restocks.

ALTER TABLE payments ADD COLUMN refunded_minor BIGINT NOT NULL DEFAULT 0;

CREATE TABLE payment_history (
  seq {{SEQ_PK}},
  payment_id TEXT NOT NULL REFERENCES payments(id),
  status TEXT NOT NULL,
  at BIGINT NOT NULL
);
CREATE INDEX payment_history_by_payment ON payment_history (payment_id, seq);

ALTER TABLE orders ADD COLUMN restocked INTEGER NOT NULL DEFAULT 0;

CREATE TABLE refunds (
  seq {{SEQ_PK}},
  id TEXT NOT NULL UNIQUE,
  order_id TEXT NULL REFERENCES orders(id),
  payment_id TEXT NOT NULL REFERENCES payments(id),
  amount_minor BIGINT NOT NULL CHECK (amount_minor > 0),
  currency TEXT NOT NULL,
  reason TEXT NOT NULL,
  restock INTEGER NOT NULL,
  status TEXT NOT NULL CHECK (status IN ('pending', 'succeeded')),
  created_at BIGINT NOT NULL,
  updated_at BIGINT NOT NULL
);
CREATE INDEX refunds_by_order ON refunds (order_id, seq);
CREATE INDEX refunds_by_payment ON refunds (payment_id, seq);

-- Every provider event, by its id: a repeat is recognised and has no effect. Events that
-- name what the engine doesn't know yet wait here as 'pending' and are retried.
CREATE TABLE webhook_events (
  id TEXT PRIMARY KEY,
  type TEXT NOT NULL,
  payload TEXT NOT NULL,
  status TEXT NOT NULL CHECK (status IN ('processed', 'pending', 'rejected')),
  attempts INTEGER NOT NULL,
  detail TEXT NOT NULL,
  received_at BIGINT NOT NULL,
  updated_at BIGINT NOT NULL
);
CREATE INDEX webhook_events_pending ON webhook_events (status, updated_at);

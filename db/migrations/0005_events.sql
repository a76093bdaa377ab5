-- The event log behind the live stream (GET /v1/stream): written in the same transaction as
-- the change it reports (the outbox), read after commit. seq is the log's position: it only
-- grows (AUTOINCREMENT / a sequence never reuses a value), so it increases within every topic.
-- scope 'orders': order, payment and refund events, for the user (user_id) and the shop
--   (merchant_id, null for a payment, which is the buyer's);
-- scope 'sku': stock and price events of one SKU (sku_id), public; merchant_id is its shop's.
CREATE TABLE events (
  seq {{SEQ_PK}},
  at BIGINT NOT NULL,
  scope TEXT NOT NULL CHECK (scope IN ('orders', 'sku')),
  type TEXT NOT NULL,
  user_id TEXT NULL,
  merchant_id TEXT NULL,
  sku_id TEXT NULL,
  data TEXT NOT NULL
);
CREATE INDEX events_by_sku ON events (sku_id, seq);
CREATE INDEX events_by_user ON events (user_id, seq);
CREATE INDEX events_by_merchant ON events (merchant_id, seq);
CREATE INDEX events_by_at ON events (at);

-- The highest seq removed by retention: a resume from before it may have lost events.
CREATE TABLE event_log_state (
  id INTEGER PRIMARY KEY CHECK (id = 1),
  purged_through BIGINT NOT NULL
);
INSERT INTO event_log_state (id, purged_through) VALUES (1, 0);

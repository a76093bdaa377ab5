-- The live stream gains the scope 'earnings': a creator's commission entries (user_id: the
-- creator; merchant_id: the shop that owes them). A CHECK can't be changed in place on SQLite,
-- so the table is built again. Rows keep their seq (clients resume from a seq they remember), and
-- new ones continue after every seq the old table gave out, purged ones included.
ALTER TABLE events RENAME TO events_before_0011;
DROP INDEX events_by_sku;
DROP INDEX events_by_user;
DROP INDEX events_by_merchant;
DROP INDEX events_by_at;
CREATE TABLE events (
  seq {{SEQ_PK}},
  at BIGINT NOT NULL,
  scope TEXT NOT NULL CHECK (scope IN ('orders', 'sku', 'earnings')),
  type TEXT NOT NULL,
  user_id TEXT NULL,
  merchant_id TEXT NULL,
  sku_id TEXT NULL,
  data TEXT NOT NULL
);
INSERT INTO events (seq, at, scope, type, user_id, merchant_id, sku_id, data)
  SELECT seq, at, scope, type, user_id, merchant_id, sku_id, data FROM events_before_0011
  ORDER BY seq;
{{KEEP_SEQ events events_before_0011}}
DROP TABLE events_before_0011;
CREATE INDEX events_by_sku ON events (sku_id, seq);
CREATE INDEX events_by_user ON events (user_id, seq);
CREATE INDEX events_by_merchant ON events (merchant_id, seq);
CREATE INDEX events_by_at ON events (at);

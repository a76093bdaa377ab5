-- Merchants, users, the catalog with its inventory ledger, notes, and idempotency keys.
-- {{SEQ_PK}} is the one dialect difference: an auto-incrementing integer primary key that
-- orders rows by insertion (cursor pagination uses it).

CREATE TABLE merchants (
  id TEXT PRIMARY KEY,
  name TEXT NOT NULL,
  currency TEXT NOT NULL,
  shipping_fee_minor BIGINT NOT NULL CHECK (shipping_fee_minor >= 0),
  free_shipping_over_minor BIGINT NULL CHECK (free_shipping_over_minor >= 0),
  return_window_days INTEGER NOT NULL CHECK (return_window_days >= 0),
  created_at BIGINT NOT NULL,
  updated_at BIGINT NOT NULL
);

CREATE TABLE users (
  id TEXT PRIMARY KEY,
  created_at BIGINT NOT NULL
);

CREATE TABLE products (
  seq {{SEQ_PK}},
  id TEXT NOT NULL UNIQUE,
  merchant_id TEXT NOT NULL REFERENCES merchants(id),
  title TEXT NOT NULL,
  description TEXT NOT NULL,
  status TEXT NOT NULL CHECK (status IN ('active', 'archived')),
  commission_rate_bps INTEGER NOT NULL CHECK (commission_rate_bps BETWEEN 0 AND 8000),
  created_at BIGINT NOT NULL,
  updated_at BIGINT NOT NULL
);
CREATE INDEX products_by_merchant ON products (merchant_id, seq);

CREATE TABLE product_media (
  product_id TEXT NOT NULL REFERENCES products(id),
  position INTEGER NOT NULL,
  type TEXT NOT NULL CHECK (type IN ('image', 'video')),
  url TEXT NOT NULL,
  PRIMARY KEY (product_id, position)
);

CREATE TABLE skus (
  seq {{SEQ_PK}},
  id TEXT NOT NULL UNIQUE,
  product_id TEXT NOT NULL REFERENCES products(id),
  merchant_id TEXT NOT NULL REFERENCES merchants(id),
  title TEXT NOT NULL,
  price_minor BIGINT NOT NULL CHECK (price_minor >= 0),
  currency TEXT NOT NULL,
  on_hand BIGINT NOT NULL CHECK (on_hand >= 0),
  reserved BIGINT NOT NULL CHECK (reserved >= 0),
  position INTEGER NOT NULL,
  created_at BIGINT NOT NULL,
  updated_at BIGINT NOT NULL,
  CHECK (on_hand >= reserved)
);
CREATE INDEX skus_by_product ON skus (product_id, position);

-- Every change of a SKU's on_hand or reserved, with its cause: on_hand = SUM(on_hand_delta).
CREATE TABLE inventory_ledger (
  seq {{SEQ_PK}},
  sku_id TEXT NOT NULL REFERENCES skus(id),
  kind TEXT NOT NULL CHECK (kind IN ('adjustment', 'reservation', 'release', 'sale', 'restock')),
  on_hand_delta BIGINT NOT NULL,
  reserved_delta BIGINT NOT NULL,
  reason TEXT NOT NULL,
  ref TEXT NOT NULL,
  actor_id TEXT NOT NULL,
  at BIGINT NOT NULL
);
CREATE INDEX inventory_ledger_by_sku ON inventory_ledger (sku_id, seq);

CREATE TABLE notes (
  seq {{SEQ_PK}},
  id TEXT NOT NULL UNIQUE,
  author_id TEXT NOT NULL,
  title TEXT NOT NULL,
  body TEXT NOT NULL,
  created_at BIGINT NOT NULL
);
CREATE INDEX notes_by_author ON notes (author_id, seq);

CREATE TABLE note_media (
  note_id TEXT NOT NULL REFERENCES notes(id),
  position INTEGER NOT NULL,
  type TEXT NOT NULL CHECK (type IN ('image', 'video')),
  url TEXT NOT NULL,
  PRIMARY KEY (note_id, position)
);

CREATE TABLE note_skus (
  note_id TEXT NOT NULL REFERENCES notes(id),
  sku_id TEXT NOT NULL REFERENCES skus(id),
  position INTEGER NOT NULL,
  note_seq BIGINT NOT NULL,
  PRIMARY KEY (note_id, sku_id)
);
CREATE INDEX note_skus_by_sku ON note_skus (sku_id, note_seq);

-- Views are counted in memory and added here in batches (at most a second behind).
CREATE TABLE note_stats (
  note_id TEXT PRIMARY KEY REFERENCES notes(id),
  views BIGINT NOT NULL DEFAULT 0
);

-- The first response to a caller's Idempotency-Key, returned again byte for byte.
CREATE TABLE idempotency_keys (
  caller TEXT NOT NULL,
  idem_key TEXT NOT NULL,
  request_hash TEXT NOT NULL,
  status INTEGER NOT NULL,
  response_body TEXT NOT NULL,
  created_at BIGINT NOT NULL,
  PRIMARY KEY (caller, idem_key)
);
CREATE INDEX idempotency_keys_by_age ON idempotency_keys (created_at);

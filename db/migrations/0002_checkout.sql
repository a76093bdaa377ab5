-- Carts, checkouts, orders with their lines and history, payments, and stock reservations.

-- seq keeps the lines in the order they were first added.
CREATE TABLE cart_lines (
  seq {{SEQ_PK}},
  user_id TEXT NOT NULL,
  sku_id TEXT NOT NULL REFERENCES skus(id),
  quantity BIGINT NOT NULL CHECK (quantity BETWEEN 1 AND 999),
  note_id TEXT NULL REFERENCES notes(id),
  added_at BIGINT NOT NULL,
  updated_at BIGINT NOT NULL,
  UNIQUE (user_id, sku_id)
);

CREATE TABLE checkouts (
  seq {{SEQ_PK}},
  id TEXT NOT NULL UNIQUE,
  user_id TEXT NOT NULL,
  status TEXT NOT NULL CHECK (status IN ('awaiting_payment', 'paid', 'expired', 'cancelled')),
  payment_id TEXT NOT NULL,
  created_at BIGINT NOT NULL,
  expires_at BIGINT NOT NULL,
  updated_at BIGINT NOT NULL
);
CREATE INDEX checkouts_due ON checkouts (status, expires_at);

CREATE TABLE payments (
  id TEXT PRIMARY KEY,
  checkout_id TEXT NOT NULL REFERENCES checkouts(id),
  user_id TEXT NOT NULL,
  status TEXT NOT NULL CHECK (status IN ('requires_confirmation', 'processing', 'succeeded',
                                         'failed', 'cancelled', 'partially_refunded', 'refunded')),
  amount_minor BIGINT NOT NULL CHECK (amount_minor >= 0),
  currency TEXT NOT NULL,
  created_at BIGINT NOT NULL,
  updated_at BIGINT NOT NULL
);

CREATE TABLE orders (
  seq {{SEQ_PK}},
  id TEXT NOT NULL UNIQUE,
  checkout_id TEXT NOT NULL REFERENCES checkouts(id),
  user_id TEXT NOT NULL,
  merchant_id TEXT NOT NULL REFERENCES merchants(id),
  status TEXT NOT NULL CHECK (status IN ('awaiting_payment', 'paid', 'shipped', 'delivered',
                                         'completed', 'cancelled', 'expired', 'refunded')),
  currency TEXT NOT NULL,
  subtotal_minor BIGINT NOT NULL,
  shipping_fee_minor BIGINT NOT NULL,
  total_minor BIGINT NOT NULL,
  refunded_minor BIGINT NOT NULL CHECK (refunded_minor >= 0 AND refunded_minor <= total_minor),
  ship_name TEXT NULL,
  ship_phone TEXT NULL,
  ship_line1 TEXT NULL,
  ship_city TEXT NULL,
  ship_postal_code TEXT NULL,
  ship_country TEXT NULL,
  carrier TEXT NULL,
  tracking_number TEXT NULL,
  created_at BIGINT NOT NULL,
  updated_at BIGINT NOT NULL
);
CREATE INDEX orders_by_checkout ON orders (checkout_id);
CREATE INDEX orders_by_user ON orders (user_id, seq);
CREATE INDEX orders_by_user_status ON orders (user_id, status, seq);
CREATE INDEX orders_by_merchant ON orders (merchant_id, seq);
CREATE INDEX orders_by_merchant_status ON orders (merchant_id, status, seq);
CREATE INDEX orders_by_status ON orders (status, seq);

CREATE TABLE order_lines (
  order_id TEXT NOT NULL REFERENCES orders(id),
  position INTEGER NOT NULL,
  sku_id TEXT NOT NULL REFERENCES skus(id),
  title TEXT NOT NULL,
  quantity BIGINT NOT NULL CHECK (quantity > 0),
  unit_price_minor BIGINT NOT NULL,
  line_total_minor BIGINT NOT NULL,
  note_id TEXT NULL,
  PRIMARY KEY (order_id, position)
);
CREATE INDEX order_lines_by_note ON order_lines (note_id);

CREATE TABLE order_history (
  seq {{SEQ_PK}},
  order_id TEXT NOT NULL REFERENCES orders(id),
  status TEXT NOT NULL,
  at BIGINT NOT NULL
);
CREATE INDEX order_history_by_order ON order_history (order_id, seq);

-- Stock held for an order line: skus.reserved = SUM(quantity) of the 'held' rows of the SKU.
CREATE TABLE reservations (
  order_id TEXT NOT NULL REFERENCES orders(id),
  sku_id TEXT NOT NULL REFERENCES skus(id),
  quantity BIGINT NOT NULL CHECK (quantity > 0),
  state TEXT NOT NULL CHECK (state IN ('held', 'released', 'sold')),
  created_at BIGINT NOT NULL,
  updated_at BIGINT NOT NULL,
  PRIMARY KEY (order_id, sku_id)
);
CREATE INDEX reservations_by_sku ON reservations (sku_id, state);

-- Promotions: merchant and platform coupons, and each coupon's part of an order's discount.

-- merchant_id NULL: a platform coupon (funded by the platform). in_use counts the checkouts that
-- hold the coupon (unpaid) or paid with it; the limits are checked against it with a guarded
-- update. redeemed counts those that paid. Both move with the orders (coupon_redemptions).
CREATE TABLE coupons (
  seq {{SEQ_PK}},
  code TEXT NOT NULL UNIQUE,
  merchant_id TEXT NULL REFERENCES merchants(id),
  kind TEXT NOT NULL CHECK (kind IN ('percent', 'amount')),
  value BIGINT NOT NULL CHECK (value > 0),
  currency TEXT NOT NULL,
  min_spend_minor BIGINT NOT NULL CHECK (min_spend_minor >= 0),
  starts_at BIGINT NULL,
  ends_at BIGINT NULL,
  max_redemptions BIGINT NULL CHECK (max_redemptions > 0),
  per_user_limit BIGINT NULL CHECK (per_user_limit > 0),
  status TEXT NOT NULL CHECK (status IN ('active', 'disabled')),
  in_use BIGINT NOT NULL DEFAULT 0 CHECK (in_use >= 0),
  redeemed BIGINT NOT NULL DEFAULT 0 CHECK (redeemed >= 0),
  created_by TEXT NOT NULL,
  created_at BIGINT NOT NULL,
  updated_at BIGINT NOT NULL,
  CHECK (max_redemptions IS NULL OR in_use <= max_redemptions)
);
CREATE INDEX coupons_by_merchant ON coupons (merchant_id, seq);

-- One row per coupon and order it took money off (a platform coupon: one per order of the
-- checkout). state follows the order: held while unpaid, redeemed once paid, returned when the
-- order is cancelled or expires.
CREATE TABLE coupon_redemptions (
  coupon_code TEXT NOT NULL REFERENCES coupons(code),
  order_id TEXT NOT NULL REFERENCES orders(id),
  position INTEGER NOT NULL,
  checkout_id TEXT NOT NULL,
  user_id TEXT NOT NULL,
  merchant_id TEXT NOT NULL,
  amount_minor BIGINT NOT NULL CHECK (amount_minor >= 0),
  currency TEXT NOT NULL,
  state TEXT NOT NULL CHECK (state IN ('held', 'redeemed', 'returned')),
  created_at BIGINT NOT NULL,
  updated_at BIGINT NOT NULL,
  PRIMARY KEY (order_id, coupon_code)
);
CREATE INDEX coupon_redemptions_by_checkout ON coupon_redemptions (coupon_code, checkout_id);
CREATE INDEX coupon_redemptions_by_user ON coupon_redemptions (coupon_code, user_id, state);

-- The order's discount (the sum of its coupons' parts) and each line's part of it.
ALTER TABLE orders ADD COLUMN discount_minor BIGINT NOT NULL DEFAULT 0;
ALTER TABLE order_lines ADD COLUMN discount_minor BIGINT NOT NULL DEFAULT 0;

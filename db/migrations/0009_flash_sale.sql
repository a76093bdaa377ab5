-- Flash-sale protection and the reservation countdown (issue 9).
-- (0008 is the coupons migration of the main branch; the runner applies every migration it has
-- not recorded, so the two may arrive in either order.)

-- Units of the SKU one buyer may hold in orders that are awaiting payment, paid, shipped,
-- delivered or completed; NULL: no limit. Checked at checkout against the buyer's orders
-- (orders_by_user_status joined to order_lines), so a hot SKU's lines are never scanned.
ALTER TABLE skus ADD COLUMN per_user_limit INTEGER NULL
  CHECK (per_user_limit IS NULL OR per_user_limit BETWEEN 1 AND 999);

-- When the buyer extended the checkout's reservation (at most once); NULL: not extended.
ALTER TABLE checkouts ADD COLUMN extended_at BIGINT NULL;

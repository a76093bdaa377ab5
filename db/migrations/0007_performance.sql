-- Indexes for note attribution (GET /v1/analytics/notes). It reads, for every order of the shop,
-- the order's id and status and the lines of the order that name a note. Both indexes cover
-- what that read needs, so it never visits the orders or order_lines tables themselves:
-- the shop's orders in id order, with their status (which changes, so it is in the key's tail) ...
CREATE INDEX orders_by_merchant_id ON orders (merchant_id, id, status);
-- ... and, for each of them, its lines that name a note, with their units and amount.
CREATE INDEX order_lines_with_note ON order_lines (order_id, note_id, quantity, line_total_minor)
  WHERE note_id IS NOT NULL;

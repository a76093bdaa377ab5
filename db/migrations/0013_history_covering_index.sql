-- An order's history is read by order id (one order, or the 50 orders of a listing page): with
-- the status and time in the index, those reads need no lookup into the table per entry.
DROP INDEX order_history_by_order;
CREATE INDEX order_history_by_order ON order_history (order_id, seq, status, at);

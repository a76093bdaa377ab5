-- Attribution counters that are not derivable from orders: how often a note's reader put one
-- of its tagged SKUs in the cart (a PUT that creates the line or raises its quantity, with the
-- note named). Written in the cart command's transaction, so a replay of the journal writes
-- it again; like note_stats (views) it is analytics, not part of the state hash.
-- Orders, units and GMV per note are read from order_lines (their note_id), not counted here.
CREATE TABLE note_sku_stats (
  note_id TEXT NOT NULL REFERENCES notes(id),
  sku_id TEXT NOT NULL REFERENCES skus(id),
  add_to_carts BIGINT NOT NULL DEFAULT 0,
  PRIMARY KEY (note_id, sku_id)
);
CREATE INDEX note_sku_stats_by_sku ON note_sku_stats (sku_id);
CREATE INDEX order_lines_by_sku ON order_lines (sku_id);
CREATE INDEX skus_by_merchant ON skus (merchant_id, seq);

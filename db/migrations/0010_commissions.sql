-- Creator commissions: who earns on an order line (fixed at checkout), and the ledger.

-- The creator (the author of the line's note, a user other than the buyer) and the product's
-- rate when the line was bought; NULL when the line earns nobody anything. commission_minor is
-- what the line earns now (accrued - reversed; kept with the ledger, like skus.on_hand with the
-- inventory ledger), so attribution reads it with the line. commission_settled_at: when the
-- settlement ran for the line (NULL: not yet).
ALTER TABLE order_lines ADD COLUMN creator_id TEXT NULL;
ALTER TABLE order_lines ADD COLUMN commission_rate_bps INTEGER NULL;
ALTER TABLE order_lines ADD COLUMN commission_minor BIGINT NOT NULL DEFAULT 0;
ALTER TABLE order_lines ADD COLUMN commission_settled_at BIGINT NULL;

-- One row per accrual (a line, once its order is paid), reversal (a line and a refund: ref is
-- the refund id) and settlement (a line, once). amount_minor is positive; the kind says which
-- way it moves the balance (accrued - reversed - settled).
CREATE TABLE commission_entries (
  seq {{SEQ_PK}},
  order_id TEXT NOT NULL REFERENCES orders(id),
  position INTEGER NOT NULL,
  note_id TEXT NOT NULL,
  creator_id TEXT NOT NULL,
  merchant_id TEXT NOT NULL,
  kind TEXT NOT NULL CHECK (kind IN ('accrue', 'reverse', 'settle')),
  ref TEXT NOT NULL DEFAULT '',
  amount_minor BIGINT NOT NULL CHECK (amount_minor > 0),
  currency TEXT NOT NULL,
  at BIGINT NOT NULL,
  UNIQUE (order_id, position, kind, ref)
);
-- A creator's earnings and a shop's commissions, newest first.
CREATE INDEX commission_entries_by_creator ON commission_entries (creator_id, seq);
CREATE INDEX commission_entries_by_merchant ON commission_entries (merchant_id, seq);

-- The settlement sweep: lines that earn commission and are not settled yet.
CREATE INDEX order_lines_to_settle ON order_lines (order_id)
  WHERE creator_id IS NOT NULL AND commission_settled_at IS NULL;

-- Attribution (GET /v1/analytics/notes) now also reads each line's discount and commission:
-- the index of 0007 again, covering them, so the read still never visits order_lines itself.
DROP INDEX order_lines_with_note;
CREATE INDEX order_lines_with_note ON order_lines
  (order_id, note_id, quantity, line_total_minor, discount_minor, commission_minor)
  WHERE note_id IS NOT NULL;

-- The journal gains the kind 'settle' (the settlement sweep settling one order). A CHECK can't be
-- changed in place on SQLite, so the table is built again and its rows copied over in seq order.
-- The copy takes new seqs in that order: the same numbers on SQLite (AUTOINCREMENT leaves no
-- gaps in a table nothing is deleted from), and a fresh sequence that counts on from them on
-- PostgreSQL (whose sequences may have skipped numbers, which this closes up).
ALTER TABLE journal RENAME TO journal_before_0010;
CREATE TABLE journal (
  seq {{SEQ_PK}},
  at BIGINT NOT NULL,
  kind TEXT NOT NULL CHECK (kind IN ('config', 'http', 'actor', 'expire', 'webhook_retry', 'seed',
                                     'settle')),
  actor TEXT NOT NULL,
  role TEXT NOT NULL,
  method TEXT NOT NULL,
  target TEXT NOT NULL,
  idem_key TEXT NULL,
  request_id TEXT NOT NULL,
  body TEXT NOT NULL,
  ids TEXT NOT NULL,
  status INTEGER NOT NULL,
  response_sha256 TEXT NOT NULL
);
INSERT INTO journal (at, kind, actor, role, method, target, idem_key, request_id, body, ids,
                     status, response_sha256)
  SELECT at, kind, actor, role, method, target, idem_key, request_id, body, ids, status,
         response_sha256 FROM journal_before_0010 ORDER BY seq;
DROP TABLE journal_before_0010;

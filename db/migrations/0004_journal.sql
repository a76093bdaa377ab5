-- The transaction journal: every state-changing command, in the same transaction as its
-- effects, with what a replay needs to reproduce it exactly (time, caller, input, new ids) and
-- a hash of the response it gave.
CREATE TABLE journal (
  seq {{SEQ_PK}},
  at BIGINT NOT NULL,
  kind TEXT NOT NULL CHECK (kind IN ('config', 'http', 'actor', 'expire', 'webhook_retry', 'seed')),
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

-- Each journal entry may carry its command's effects: the rows it changed, as an SQLite
-- patchset in base64 (docs/journal.md#effects), so a replay can apply them instead of running
-- the handler again. NULL: not recorded (PostgreSQL, entries written before this migration,
-- a checkout whose person was erased); '': recorded, nothing changed.
ALTER TABLE journal ADD COLUMN effects TEXT NULL;

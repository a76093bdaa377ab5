#pragma once
// Journal export and replay: the record of what happened, applied again to an empty database
// without HTTP, reproducing the state exactly (checked by state hash and per-entry response
// hashes).
#include <cstdint>
#include <istream>
#include <optional>
#include <ostream>
#include <string>

#include "redloop/db/database.hpp"
#include "redloop/db/journal.hpp"
#include "redloop/engine/result.hpp"

namespace redloop::api {

// One line of an exported journal (a JSON object, no newline) and back. Decoding insists on
// every field with its type; anything else is invalid_request saying what is wrong.
std::string encode_journal_entry(const db::JournalEntry& e);
engine::Result<db::JournalEntry> decode_journal_entry(const std::string& line);

// Writes the journal after `since_seq` as JSON Lines; returns how many entries.
engine::Result<std::int64_t> export_journal(db::Database& db, std::int64_t since_seq,
                                            std::ostream& out);

// An exported journal as a replay writes it again into its database: the same entries, ids
// included, with every recorded `effects` null (a replay records none). Exporting a replayed
// database gives exactly this.
std::string journal_without_effects(const std::string& exported);

struct ReplayReport {
    std::int64_t applied = 0;
    std::int64_t from_effects = 0;          // of them, applied from their recorded effects
    std::optional<std::string> divergence;  // the first entry whose result differs, and how
    std::string state_hash;
};

struct ReplayOptions {
    // Also write the event log (the live stream's history) as the live server did. It is derived
    // data, in neither the state hash nor any answer a command gives, so a replay that only
    // checks the journal leaves it out: it was a fifth of the replay's time.
    bool event_log = false;
    // Apply the entries' recorded effects (the rows each command changed) where the journal
    // has them, instead of running the commands again: much faster, and it reproduces the
    // state exactly, but it does not check those entries' answers. Entries without effects
    // (recorded on PostgreSQL, before effects were recorded, or redacted by an erasure) and
    // config entries still run. SQLite targets only; elsewhere every entry runs.
    bool effects = false;
    // Entries whose effects are applied together (their patchsets combined into one).
    std::size_t effects_batch = 10000;
};

// Applies every entry of a JSON Lines journal to `db` (migrated, empty), stopping at the first
// divergence.
engine::Result<ReplayReport> replay_journal(db::Database& db, std::istream& in,
                                            const ReplayOptions& options = {});

engine::Result<std::string> state_hash_of(db::Database& db);

}  // namespace redloop::api

#pragma once
// The journal of state-changing commands, and the state hash a replay is checked against.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "redloop/db/tx.hpp"
#include "redloop/engine/time.hpp"

namespace redloop::db {

struct JournalEntry {
    std::int64_t seq = 0;  // assigned on append
    engine::Timestamp at;  // the engine's time for the command
    std::string kind;      // config | http | actor | expire | webhook_retry | seed
    std::string actor;     // usr_/mer_ id, or "system"
    std::string role;      // user | merchant | admin | system
    std::string method;    // HTTP method (http), else empty
    std::string target;    // path (http), checkout id (expire), event id (webhook_retry), ...
    std::optional<std::string> idem_key;
    std::string request_id;  // so a replayed error body is the same bytes
    std::string body;        // the validated input: request body, webhook payload, fixture file
    std::vector<std::string> ids;  // ids created, in order
    int status = 0;                // the response status
    std::string response_sha256;   // of the response body
};

std::int64_t append_journal(Tx& tx, const JournalEntry& e);
std::vector<JournalEntry> journal_since(Tx& tx, std::int64_t after_seq, int limit);
// The sequence number of the last entry (0 for an empty journal).
std::int64_t last_journal_seq(Tx& tx);
// The body of the newest entry of this kind, if any.
std::optional<std::string> last_journal_body(Tx& tx, const std::string& kind);

// SHA-256 (hex) over every business table in a canonical order: rows by their natural key,
// values as text, so SQLite and PostgreSQL give the same hash for the same state.
// Insertion sequences, note view counters, idempotency keys and the journal are left out.
std::string state_hash(Tx& tx);

}  // namespace redloop::db

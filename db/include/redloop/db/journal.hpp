#pragma once
// The journal of state-changing commands, and the state hash a replay is checked against.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "redloop/db/tx.hpp"
#include "redloop/engine/result.hpp"
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
    // Recorded effects (database.hpp, records_effects()): "+<epoch>" for an entry whose changes
    // are in its epoch's carrier, "<epoch>:<patchset base64>;<counters>" for the carrier;
    // nullopt when not recorded (a replay then runs the entry again).
    std::optional<std::string> effects;
};

// Writes the entry (seq and effects as given are ignored and kept, respectively) and notes its
// seq on the transaction, where the group commit stores the command's effects beside it.
std::int64_t append_journal(Tx& tx, const JournalEntry& e);
// The body as the journal stores it: sealed under the installed key ring (thread-safe, so a
// replay seals on its reading thread).
std::string seal_journal_body(std::string_view body);
// A replay's copy of an entry it applied from recorded effects: written with the body already
// sealed (seal_journal_body) and without the effects (the copy is not a source to replay from);
// nothing is noted on the transaction.
void append_journal_copy(Tx& tx, const JournalEntry& e, const std::string& sealed_body);
// A carrier's payload (after "<epoch>:", that is "<patchset base64>;<table>=<autoincrement
// counter>,...") decoded: no database needed, so a replay does it on its reading thread.
// invalid_request when it is not base64 or has no counters.
struct DecodedEffects {
    std::string patchset;  // bytes
    std::string counters;  // "<table>=<value>,..."
};
engine::Result<DecodedEffects> decode_effects(std::string_view payload);
// Applies the recorded effects of consecutive closed epochs, combined, in `tx` (SQLite), then
// sets the counters to the last carrier's; invalid_request when a patchset does not parse,
// conflict when the patchsets do not fit the database's rows (it is not the state they were
// recorded after).
engine::Status apply_effects(Tx& tx, const std::vector<const DecodedEffects*>& effects);
// The same from the payloads as recorded.
engine::Status apply_effects(Tx& tx, const std::vector<std::string_view>& payloads);
// A load from recorded effects into an empty SQLite file is faster with the secondary indexes
// built once at the end than kept up row by row. drop_secondary_indexes drops every index made
// by CREATE INDEX (not those of primary keys and UNIQUE constraints) and returns what it
// dropped; create_indexes makes them again (a UNIQUE one fails if the rows break it).
struct IndexDefinition {
    std::string name;
    std::string sql;
};
std::vector<IndexDefinition> drop_secondary_indexes(Tx& tx);
void create_indexes(Tx& tx, const std::vector<IndexDefinition>& indexes);
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

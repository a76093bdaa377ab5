#pragma once
// Key rotation: every sealed value re-sealed under the ring's first key, and personal data
// still stored in plaintext (rows from before sealing) sealed.
#include <cstdint>
#include <map>
#include <string>

#include "redloop/db/database.hpp"

namespace redloop::db {

struct RekeyReport {
    // Values found, by the key id they were sealed under ("plaintext" for legacy values).
    std::map<std::string, std::int64_t> found;
    // Values written again under the sealing key (the rest were already under it, or were
    // changed by someone else between the read and the write and were left to them).
    std::int64_t resealed = 0;
    std::int64_t skipped_changed = 0;
};

// Walks every sealed column in batches of `batch` rows: a read, then one short write
// transaction per batch that replaces each value only if it is still the one read (so a
// running server's writes are never overwritten). Needs the installed ring to hold every key
// a value was sealed under; an unknown key is an error naming it, with the batches before it
// kept.
engine::Result<RekeyReport> rekey(Database& db, int batch = 200);

}  // namespace redloop::db

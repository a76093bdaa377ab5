#pragma once
// Loads demo fixtures (fixtures/demo/*.json) through the same decoders and engine decisions
// as the API, so fixtures are validated like requests. Objects that already exist are left
// as they are, so seeding twice changes nothing.
#include <string>

#include "redloop/db/database.hpp"
#include "redloop/engine/result.hpp"
#include "redloop/engine/time.hpp"

namespace redloop::api {

struct SeedReport {
    int merchants = 0;
    int users = 0;
    int products = 0;
    int notes = 0;
    int skipped = 0;  // already present
};

// Seeds one fixture document inside the caller's transaction (journaled as "seed").
engine::Status seed_text(db::Tx& tx, const std::string& name, const std::string& text,
                         engine::Timestamp now, SeedReport& report);

engine::Result<SeedReport> seed_fixtures(db::Database& db, const std::string& dir,
                                         engine::Timestamp now);

}  // namespace redloop::api

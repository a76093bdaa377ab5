#pragma once
// Where the group-commit writer's time goes, statement by statement (serve
// --statement-profile, docs/performance.md): SQLite's trace hooks time every statement the
// writer runs, from its first step to its reset, with the steady clock. Off unless asked for:
// the hooks are not installed at all then. A statement SQLite prepares again after a schema
// change (migrations) is timed for its first attempt only.
#include <chrono>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "redloop/db/database.hpp"

struct sqlite3;
struct sqlite3_stmt;

namespace redloop::db {

class StatementProfile {
  public:
    // Times every statement `db` runs from now on, until this object is destroyed (which must
    // happen after the connection is closed, or after the hooks are taken off by closing).
    void attach(sqlite3* db);
    // The totals so far, the most time first.
    std::vector<StatementTiming> totals() const;

  private:
    static int on_trace(unsigned type, void* self, void* stmt, void* extra);
    void started(sqlite3_stmt* stmt);
    void finished(sqlite3_stmt* stmt);

    struct StringHash {
        using is_transparent = void;
        std::size_t operator()(std::string_view s) const {
            return std::hash<std::string_view>{}(s);
        }
    };
    mutable std::mutex mutex_;  // the writer adds; /metrics or shutdown reads
    std::unordered_map<sqlite3_stmt*, std::chrono::steady_clock::time_point> running_;
    std::unordered_map<std::string, StatementTiming, StringHash, std::equal_to<>> totals_;
};

}  // namespace redloop::db

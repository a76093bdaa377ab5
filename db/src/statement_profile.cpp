#include "statement_profile.hpp"

#include <sqlite3.h>

#include <algorithm>

namespace redloop::db {

void StatementProfile::attach(sqlite3* db) {
    sqlite3_trace_v2(db, SQLITE_TRACE_STMT | SQLITE_TRACE_PROFILE, &StatementProfile::on_trace,
                     this);
}

int StatementProfile::on_trace(unsigned type, void* self, void* stmt, void* /*extra*/) {
    auto* profile = static_cast<StatementProfile*>(self);
    auto* s = static_cast<sqlite3_stmt*>(stmt);
    if (type == SQLITE_TRACE_STMT) {
        profile->started(s);
    } else if (type == SQLITE_TRACE_PROFILE) {
        profile->finished(s);
    }
    return 0;
}

void StatementProfile::started(sqlite3_stmt* stmt) {
    const auto now = std::chrono::steady_clock::now();
    std::lock_guard lock(mutex_);
    // Also called at the start of each trigger program of a running statement: the first
    // call is its start.
    running_.emplace(stmt, now);
}

void StatementProfile::finished(sqlite3_stmt* stmt) {
    const auto now = std::chrono::steady_clock::now();
    const char* text = sqlite3_sql(stmt);
    const std::string_view sql = text ? std::string_view(text) : std::string_view("?");
    std::lock_guard lock(mutex_);
    auto run = running_.find(stmt);
    if (run == running_.end()) return;
    const auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(now - run->second).count();
    running_.erase(run);
    auto total = totals_.find(sql);
    if (total == totals_.end()) {
        total = totals_.emplace(std::string(sql), StatementTiming{std::string(sql), 0, 0}).first;
    }
    ++total->second.runs;
    total->second.nanoseconds += ns;
}

std::vector<StatementTiming> StatementProfile::totals() const {
    std::vector<StatementTiming> out;
    {
        std::lock_guard lock(mutex_);
        out.reserve(totals_.size());
        for (const auto& [sql, t] : totals_) out.push_back(t);
    }
    std::sort(out.begin(), out.end(), [](const StatementTiming& a, const StatementTiming& b) {
        return a.nanoseconds != b.nanoseconds ? a.nanoseconds > b.nanoseconds : a.sql < b.sql;
    });
    return out;
}

}  // namespace redloop::db

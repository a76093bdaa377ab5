#include "soci_util.hpp"

#include <fmt/format.h>
#include <soci/postgresql/soci-postgresql.h>
#include <sqlite3.h>

#include <stdexcept>

namespace redloop::db {

std::string sqlstate_of(const std::exception& e) {
    if (const auto* pg = dynamic_cast<const soci::postgresql_soci_error*>(&e)) {
        return pg->sqlstate();
    }
    return {};
}

bool is_retryable(const std::exception& e) {
    const auto state = sqlstate_of(e);
    return state == "40001" || state == "40P01";  // serialization failure, deadlock
}

engine::Error classify_exception(const std::exception& e) {
    const std::string what = e.what();
    const std::string state = sqlstate_of(e);
    if (state == "40001" || state == "40P01") {
        return engine::Error{engine::ErrorCode::unavailable,
                             fmt::format("the transaction lost a race with another one ({}); "
                                         "retry: {}",
                                         state, what)};
    }
    // Connection exceptions (class 08), the server shutting down or refusing connections
    // (57P01-57P03), too many connections (53300): passing, not a bug.
    if (state.rfind("08", 0) == 0 || state == "57P01" || state == "57P02" || state == "57P03" ||
        state == "53300") {
        return engine::Error{engine::ErrorCode::unavailable,
                             fmt::format("the database is not reachable ({}): {}", state, what)};
    }
    const bool constraint = what.find("UNIQUE constraint") != std::string::npos ||
                            what.find("duplicate key") != std::string::npos ||
                            what.find("CHECK constraint") != std::string::npos ||
                            what.find("violates check constraint") != std::string::npos;
    if (constraint) {
        return engine::Error{engine::ErrorCode::conflict,
                             fmt::format("the change conflicts with stored data: {}", what)};
    }
    return engine::Error{engine::ErrorCode::internal, fmt::format("database error: {}", what)};
}

std::string bytewise(Dialect d, std::string_view column) {
    switch (d) {
        case Dialect::sqlite:
            return std::string(column);  // BINARY is SQLite's default
        case Dialect::postgresql:
            return std::string(column) + " COLLATE \"C\"";
    }
    return std::string(column);
}

engine::Money money_from(long long minor, const std::string& currency) {
    auto c = engine::Currency::parse(currency);
    return engine::Money{static_cast<std::int64_t>(minor), c ? *c : engine::Currency::cny()};
}

Query::Query(Tx& tx, std::string sql) : tx_(tx), sql_(std::move(sql)) {}

Query::~Query() = default;

namespace {

[[noreturn]] void sqlite_failed(sqlite3* db, const std::string& sql) {
    throw std::runtime_error(std::string(sqlite3_errmsg(db)) + " in \"" + sql.substr(0, 200) +
                             "\"");
}

}  // namespace

void Query::start() {
    done_ = false;
    if (tx_.dialect() == Dialect::sqlite && tx_.statements()) {
        lease_ = tx_.statements()->acquire(sql_);
        sqlite3_stmt* st = lease_.get();
        sqlite3* db = tx_.statements()->db();
        int i = 0;
        for (const auto& u : uses_) {
            ++i;
            int rc = SQLITE_OK;
            if (u.ind && *u.ind == soci::i_null) {
                rc = sqlite3_bind_null(st, i);
            } else {
                switch (u.kind) {
                    case Kind::text: {
                        const auto& v = *static_cast<const std::string*>(u.value);
                        rc = sqlite3_bind_text(st, i, v.data(), static_cast<int>(v.size()),
                                               SQLITE_STATIC);
                        break;
                    }
                    case Kind::int64:
                        rc = sqlite3_bind_int64(st, i, *static_cast<const long long*>(u.value));
                        break;
                    case Kind::int32:
                        rc = sqlite3_bind_int(st, i, *static_cast<const int*>(u.value));
                        break;
                    case Kind::real:
                        rc = sqlite3_bind_double(st, i, *static_cast<const double*>(u.value));
                        break;
                }
            }
            if (rc != SQLITE_OK) sqlite_failed(db, sql_);
        }
        return;
    }
    soci_.emplace(tx_.sql());
    for (const auto& s : intos_) {
        switch (s.kind) {
            case Kind::text: {
                auto& v = *static_cast<std::string*>(s.value);
                s.ind ? soci_->exchange(soci::into(v, *s.ind)) : soci_->exchange(soci::into(v));
                break;
            }
            case Kind::int64: {
                auto& v = *static_cast<long long*>(s.value);
                s.ind ? soci_->exchange(soci::into(v, *s.ind)) : soci_->exchange(soci::into(v));
                break;
            }
            case Kind::int32: {
                auto& v = *static_cast<int*>(s.value);
                s.ind ? soci_->exchange(soci::into(v, *s.ind)) : soci_->exchange(soci::into(v));
                break;
            }
            case Kind::real: {
                auto& v = *static_cast<double*>(s.value);
                s.ind ? soci_->exchange(soci::into(v, *s.ind)) : soci_->exchange(soci::into(v));
                break;
            }
        }
    }
    for (const auto& s : uses_) {
        switch (s.kind) {
            case Kind::text: {
                const auto& v = *static_cast<const std::string*>(s.value);
                s.ind ? soci_->exchange(soci::use(v, *s.ind)) : soci_->exchange(soci::use(v));
                break;
            }
            case Kind::int64: {
                const auto& v = *static_cast<const long long*>(s.value);
                s.ind ? soci_->exchange(soci::use(v, *s.ind)) : soci_->exchange(soci::use(v));
                break;
            }
            case Kind::int32: {
                const auto& v = *static_cast<const int*>(s.value);
                s.ind ? soci_->exchange(soci::use(v, *s.ind)) : soci_->exchange(soci::use(v));
                break;
            }
            case Kind::real: {
                const auto& v = *static_cast<const double*>(s.value);
                s.ind ? soci_->exchange(soci::use(v, *s.ind)) : soci_->exchange(soci::use(v));
                break;
            }
        }
    }
    soci_->alloc();
    soci_->prepare(sql_);
    soci_->define_and_bind();
}

void Query::read_row() {
    sqlite3_stmt* st = lease_.get();
    int col = 0;
    for (const auto& s : intos_) {
        const bool null = sqlite3_column_type(st, col) == SQLITE_NULL;
        if (null) {
            if (!s.ind) {
                throw std::runtime_error("NULL in column " + std::to_string(col) +
                                         " without an indicator: \"" + sql_.substr(0, 200) + "\"");
            }
            *s.ind = soci::i_null;
            ++col;
            continue;
        }
        if (s.ind) *s.ind = soci::i_ok;
        switch (s.kind) {
            case Kind::text: {
                const auto* p = reinterpret_cast<const char*>(sqlite3_column_text(st, col));
                const int n = sqlite3_column_bytes(st, col);
                static_cast<std::string*>(s.value)->assign(p ? p : "", static_cast<std::size_t>(n));
                break;
            }
            case Kind::int64:
                *static_cast<long long*>(s.value) = sqlite3_column_int64(st, col);
                break;
            case Kind::int32:
                *static_cast<int*>(s.value) = sqlite3_column_int(st, col);
                break;
            case Kind::real:
                *static_cast<double*>(s.value) = sqlite3_column_double(st, col);
                break;
        }
        ++col;
    }
}

void Query::execute() {
    start();
    if (soci_) soci_->execute(false);
}

bool Query::fetch() {
    if (soci_) return soci_->fetch();
    if (done_ || !lease_) return false;
    const int rc = sqlite3_step(lease_.get());
    if (rc == SQLITE_ROW) {
        read_row();
        return true;
    }
    done_ = true;
    if (rc != SQLITE_DONE) sqlite_failed(tx_.statements()->db(), sql_);
    lease_ = StatementCache::Lease();  // hand the statement back now
    return false;
}

long long Query::run() {
    start();
    if (soci_) {
        soci_->execute(true);
        return soci_->get_affected_rows();
    }
    sqlite3* db = tx_.statements()->db();
    int rc = sqlite3_step(lease_.get());
    if (rc == SQLITE_ROW && !intos_.empty()) read_row();
    while (rc == SQLITE_ROW) rc = sqlite3_step(lease_.get());
    if (rc != SQLITE_DONE) sqlite_failed(db, sql_);
    lease_ = StatementCache::Lease();
    return sqlite3_changes(db);
}

}  // namespace redloop::db

#pragma once
// Helpers private to db/: SOCI exceptions to engine errors, and row conversions.
#include <soci/soci.h>

#include <cstdint>
#include <exception>
#include <optional>
#include <string>
#include <type_traits>
#include <vector>

#include "redloop/db/page.hpp"
#include "redloop/db/tx.hpp"
#include "redloop/engine/error.hpp"
#include "redloop/engine/money.hpp"

namespace redloop::db {

// A unique or check constraint violation is a conflict; a deadlock, a serialization failure or
// a lost connection (PostgreSQL) is unavailable; anything else is internal.
engine::Error classify_exception(const std::exception& e);
// PostgreSQL's SQLSTATE of a failure ("40P01"), empty for other errors.
std::string sqlstate_of(const std::exception& e);
// A deadlock or a serialization failure: the transaction may succeed when run again.
bool is_retryable(const std::exception& e);

// `column` ordered by its bytes, as SQLite's default collation (BINARY) orders text, whatever
// the PostgreSQL database's collation is (en-US puts "usr_a_b" before "usr_a1", bytes after), so
// both databases give rows in the same order. For text columns only.
std::string bytewise(Dialect d, std::string_view column);

// Money from its two columns; the currency was validated when written.
engine::Money money_from(long long minor, const std::string& currency);

// A nullable text column bound from an optional id: the value and its indicator together.
struct NullableText {
    std::string value;
    soci::indicator ind = soci::i_null;
};
template <typename IdT>
NullableText nullable(const std::optional<IdT>& id) {
    return id ? NullableText{id->str(), soci::i_ok} : NullableText{};
}

// A nullable integer column bound from an optional (a count, a limit, a time in ms).
struct NullableInt {
    long long value = 0;
    soci::indicator ind = soci::i_null;
};
inline NullableInt nullable_int(const std::optional<std::int64_t>& v) {
    return v ? NullableInt{*v, soci::i_ok} : NullableInt{};
}

}  // namespace redloop::db

#include "redloop/db/tx.hpp"
#include "statement_cache.hpp"

namespace redloop::db {

// A prepared statement with positional binds, for queries that return rows in a loop:
//   Query q(tx, "SELECT a, b FROM t WHERE c = :c"); q.into(a).into(b).use(c); q.execute();
//   while (q.fetch()) { ... }
// Bound variables are references: they must outlive the query (rvalues are refused).
// On SQLite the statement is prepared once per connection and reused (StatementCache); on
// PostgreSQL it goes through SOCI.
class Query {
  public:
    Query(Tx& tx, std::string sql);
    ~Query();
    Query(const Query&) = delete;
    Query& operator=(const Query&) = delete;

    template <typename T>
    Query& into(T& t) {
        intos_.push_back(Slot{kind_of<T>(), &t, nullptr});
        return *this;
    }
    template <typename T>
    Query& into(T& t, soci::indicator& ind) {
        intos_.push_back(Slot{kind_of<T>(), &t, &ind});
        return *this;
    }
    template <typename T>
    Query& use(const T& t) {
        uses_.push_back(Slot{kind_of<T>(), const_cast<T*>(&t), nullptr});
        return *this;
    }
    template <typename T>
    Query& use(const T&& t) = delete;
    template <typename T>
    Query& use(const T& t, soci::indicator& ind) {
        uses_.push_back(Slot{kind_of<T>(), const_cast<T*>(&t), &ind});
        return *this;
    }

    // For SELECT: prepares and executes without fetching; call fetch() per row.
    void execute();
    bool fetch();
    // For INSERT/UPDATE/DELETE: executes and returns the number of rows affected.
    long long run();

  private:
    enum class Kind { text, int64, int32, real };
    struct Slot {
        Kind kind;
        void* value;
        soci::indicator* ind;
    };
    template <typename T>
    static constexpr Kind kind_of() {
        if constexpr (std::is_same_v<T, std::string>) {
            return Kind::text;
        } else if constexpr (std::is_same_v<T, long long>) {
            return Kind::int64;
        } else if constexpr (std::is_same_v<T, int>) {
            return Kind::int32;
        } else {
            static_assert(std::is_same_v<T, double>, "bind std::string, long long, int or double");
            return Kind::real;
        }
    }
    void start();
    void read_row();

    Tx& tx_;
    std::string sql_;
    std::vector<Slot> intos_;
    std::vector<Slot> uses_;
    // SQLite: the statement (from the cache, or owned when the cached one is in use).
    StatementCache::Lease lease_;
    bool done_ = false;
    // PostgreSQL: SOCI.
    std::optional<soci::statement> soci_;
};

// A page, newest first, from an executed query that asked for limit + 1 rows into `row`
// (a row type with `seq` and `take()`): the extra row only says that there is a next page.
template <typename T, typename Row>
Page<T> fetch_page(Query& q, Row& row, int limit) {
    Page<T> page;
    long long last_seq = 0;
    while (q.fetch()) {
        if (static_cast<int>(page.items.size()) == limit) {
            page.next_before = last_seq;
            break;
        }
        last_seq = row.seq;
        page.items.push_back(row.take());
    }
    return page;
}

}  // namespace redloop::db

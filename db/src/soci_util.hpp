#pragma once
// Helpers private to db/: SOCI exceptions to engine errors, and row conversions.
#include <soci/soci.h>

#include <cstdint>
#include <exception>
#include <optional>
#include <string>

#include "redloop/engine/error.hpp"
#include "redloop/engine/money.hpp"

namespace redloop::db {

// A unique or check constraint violation is a conflict; anything else is internal.
engine::Error classify_exception(const std::exception& e);

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

}  // namespace redloop::db

#include "redloop/db/tx.hpp"

namespace redloop::db {

// A prepared statement with positional binds, for queries that return rows in a loop:
//   Query q(tx, "SELECT a, b FROM t WHERE c = :c"); q.into(a).into(b).use(c); q.execute();
//   while (q.fetch()) { ... }
// Bound variables are references: they must outlive the query (rvalues are refused).
class Query {
  public:
    Query(Tx& tx, std::string sql) : st_(tx.sql()), sql_(std::move(sql)) {}

    template <typename T>
    Query& into(T& t) {
        st_.exchange(soci::into(t));
        return *this;
    }
    template <typename T>
    Query& into(T& t, soci::indicator& ind) {
        st_.exchange(soci::into(t, ind));
        return *this;
    }
    template <typename T>
    Query& use(const T& t) {
        st_.exchange(soci::use(t));
        return *this;
    }
    template <typename T>
    Query& use(const T&& t) = delete;
    template <typename T>
    Query& use(const T& t, soci::indicator& ind) {
        st_.exchange(soci::use(t, ind));
        return *this;
    }

    // For SELECT: prepares and executes without fetching; call fetch() per row.
    void execute() {
        prepare();
        st_.execute(false);
    }
    bool fetch() { return st_.fetch(); }
    // For INSERT/UPDATE/DELETE: executes and returns the number of rows affected.
    long long run() {
        prepare();
        st_.execute(true);
        return st_.get_affected_rows();
    }

  private:
    void prepare() {
        st_.alloc();
        st_.prepare(sql_);
        st_.define_and_bind();
    }
    soci::statement st_;
    std::string sql_;
};

}  // namespace redloop::db

#pragma once
// One open transaction on one pooled connection. Repositories take a Tx&; callers outside db/
// never touch SOCI.
#include <cstdint>
#include <string>
#include <vector>

namespace soci {
class session;
}

namespace redloop::db {

class StatementCache;

enum class Dialect { sqlite, postgresql };

// What a write transaction changed that clients may watch: the repositories note it as they
// write, and the database's before-commit hook turns it into event-log rows in the same
// transaction (the outbox), so an event exists exactly when its change does.
struct TxChanges {
    enum class Entity { sku, order, payment, refund, commission };
    struct Change {
        Entity entity;
        std::string id;
        std::string type;  // "sku.stock_changed", "order.paid", "commission.accrued", ...
    };
    std::vector<Change> changes;
    std::int64_t at_ms = 0;  // the command's time, when the caller set it (0: the wall clock)

    void note(Entity e, std::string id, std::string type) {
        changes.push_back(Change{e, std::move(id), std::move(type)});
    }
    bool empty() const { return changes.empty(); }
};

class Tx {
  public:
    Tx(soci::session& sql, Dialect dialect, StatementCache* statements = nullptr)
        : sql_(sql), dialect_(dialect), statements_(statements) {}
    soci::session& sql() { return sql_; }
    // The connection's prepared statements (SQLite); null on PostgreSQL.
    StatementCache* statements() { return statements_; }
    Dialect dialect() const { return dialect_; }
    TxChanges& changes() { return changes_; }

  private:
    soci::session& sql_;
    Dialect dialect_;
    StatementCache* statements_;
    TxChanges changes_;
};

}  // namespace redloop::db

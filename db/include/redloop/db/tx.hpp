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
    // Effects (database.hpp, records_effects()): the mark a journal entry written in this
    // transaction carries ("+<epoch>", or empty: none recorded), the last entry written, and
    // whether the open epoch must be given up (an erasure dropped some of its effects).
    const std::string& effects_mark() const { return effects_mark_; }
    void set_effects_mark(std::string mark) { effects_mark_ = std::move(mark); }
    std::int64_t last_journal_seq() const { return last_journal_seq_; }
    void note_journal_entry(std::int64_t seq) { last_journal_seq_ = seq; }
    bool abandons_effects_epoch() const { return abandon_epoch_; }
    void abandon_effects_epoch() { abandon_epoch_ = true; }

  private:
    soci::session& sql_;
    Dialect dialect_;
    StatementCache* statements_;
    TxChanges changes_;
    std::string effects_mark_;
    std::int64_t last_journal_seq_ = 0;
    bool abandon_epoch_ = false;
};

}  // namespace redloop::db

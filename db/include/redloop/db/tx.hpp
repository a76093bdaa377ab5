#pragma once
// One open transaction on one pooled connection. Repositories take a Tx&; callers outside db/
// never touch SOCI.
namespace soci {
class session;
}

namespace redloop::db {

enum class Dialect { sqlite, postgresql };

class Tx {
  public:
    Tx(soci::session& sql, Dialect dialect) : sql_(sql), dialect_(dialect) {}
    soci::session& sql() { return sql_; }
    Dialect dialect() const { return dialect_; }

  private:
    soci::session& sql_;
    Dialect dialect_;
};

}  // namespace redloop::db

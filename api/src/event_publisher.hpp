#pragma once
// Turns what a write transaction changed (db::TxChanges) into event-log rows, inside that
// transaction: the outbox behind the live stream. Installed as the database's before-commit hook.
#include "redloop/db/tx.hpp"
#include "redloop/engine/result.hpp"

namespace redloop::api {

engine::Status publish_changes(db::Tx& tx);

}  // namespace redloop::api

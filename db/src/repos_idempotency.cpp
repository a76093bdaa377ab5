#include <soci/soci.h>

#include "redloop/db/repos.hpp"
#include "redloop/db/sealer.hpp"
#include "soci_util.hpp"

namespace redloop::db {

std::optional<StoredResponse> find_idempotent(Tx& tx, const std::string& caller,
                                              const std::string& key) {
    StoredResponse r;
    Query q(tx,
            "SELECT request_hash, status, response_body FROM idempotency_keys "
            "WHERE caller = :c AND idem_key = :k");
    q.into(r.request_hash).into(r.status).into(r.body).use(caller).use(key);
    q.execute();
    if (!q.fetch()) return std::nullopt;
    r.body = open_value(r.body, kSealIdempotentResponse);
    return r;
}

void store_idempotent(Tx& tx, const std::string& caller, const std::string& key,
                      const StoredResponse& r, engine::Timestamp now) {
    const long long at = now.unix_ms;
    // The response may carry personal data (a checkout's shipping address): sealed at rest.
    const std::string body = seal_value(r.body, kSealIdempotentResponse);
    Query q(tx,
            "INSERT INTO idempotency_keys (caller, idem_key, request_hash, status, response_body, "
            "created_at) VALUES (:c, :k, :h, :s, :b, :at)");
    q.use(caller).use(key).use(r.request_hash).use(r.status).use(body).use(at);
    q.run();
}

std::int64_t purge_idempotency(Tx& tx, engine::Timestamp cutoff) {
    const long long before = cutoff.unix_ms;
    Query q(tx, "DELETE FROM idempotency_keys WHERE created_at < :t");
    q.use(before);
    return q.run();
}

}  // namespace redloop::db

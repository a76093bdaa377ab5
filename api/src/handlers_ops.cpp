// /healthz, /readyz, /metrics.
#include <boost/json.hpp>

#include <fmt/format.h>

#include "handler_util.hpp"
#include "redloop/db/database.hpp"
#include "redloop/db/repos.hpp"
#include "stream_hub.hpp"

namespace redloop::api {

void add_ops_routes(Router& r) {
    r.add("GET", "/healthz", [](Context&) -> engine::Result<Response> {
        return json_response(200, boost::json::object{{"status", "ok"}});
    });
    // Ready when a query on a pooled connection answers (so a node whose database is away, or
    // whose connections all stay busy, is taken out of the load balancer's rotation) and the
    // schema is at least the one this binary was built for.
    r.add("GET", "/readyz", [](Context& ctx) -> engine::Result<Response> {
        auto unready = [](const std::string& detail) {
            return json_response(
                503, boost::json::object{{"status", "unavailable"}, {"detail", detail}});
        };
        auto ping = ctx.app.db().ping();
        if (!ping) {
            return unready(ping.error().code == engine::ErrorCode::unavailable &&
                                   ping.error().detail.find("busy") != std::string::npos
                               ? "every database connection is busy"
                               : "database not reachable");
        }
        auto version = ctx.app.db().schema_version();
        if (!version) return unready("database not reachable");
        const int expected = db::builtin_migrations().back().version;
        if (*version < expected) {
            return unready(
                fmt::format("the database schema is at version {}, this binary needs "
                            "{}: run redloop migrate",
                            *version, expected));
        }
        return json_response(
            200, boost::json::object{{"status", "ready"}, {"schema_version", *version}});
    });
    r.add("GET", "/v1/stream", [](Context&) -> engine::Result<Response> {
        return engine::fail(engine::ErrorCode::invalid_request,
                            "GET /v1/stream is a WebSocket: send Connection: Upgrade and "
                            "Upgrade: websocket (see docs/api.md, Live events)");
    });
    r.add("GET", "/metrics", [](Context& ctx) -> engine::Result<Response> {
        Response resp;
        resp.content_type = "text/plain; version=0.0.4; charset=utf-8";
        std::string extra =
            "# HELP redloop_checkouts_total Checkout attempts by outcome.\n"
            "# TYPE redloop_checkouts_total counter\n";
        const auto outcomes = ctx.app.checkout_counts();
        for (const auto& [outcome, n] : outcomes) {
            extra += fmt::format("redloop_checkouts_total{{outcome=\"{}\"}} {}\n", outcome, n);
        }
        // The attempts answered 429 (a retry of an answered attempt is never refused, though
        // its bucket may be empty).
        const auto limited = outcomes.find("rate_limited");
        extra += fmt::format(
            "# HELP redloop_rate_limited_total Requests refused by a per-user rate limit (429).\n"
            "# TYPE redloop_rate_limited_total counter\n"
            "redloop_rate_limited_total{{route=\"/v1/checkouts\"}} {}\n",
            limited == outcomes.end() ? 0 : limited->second);
        auto counts = ctx.app.db().read(
            [](db::Tx& tx) -> engine::Result<std::vector<std::pair<std::string, std::int64_t>>> {
                return db::order_counts_by_status(tx);
            });
        if (counts) {
            extra += "# HELP redloop_orders Orders by status.\n# TYPE redloop_orders gauge\n";
            for (const auto& [status, n] : *counts) {
                extra += fmt::format("redloop_orders{{status=\"{}\"}} {}\n", status, n);
            }
        }
        const auto writes = ctx.app.db().write_stats();
        extra += fmt::format(
            "# HELP redloop_db_write_batches_total Group commits (one transaction, one fsync).\n"
            "# TYPE redloop_db_write_batches_total counter\nredloop_db_write_batches_total {}\n"
            "# HELP redloop_db_write_commands_total Write commands in those group commits.\n"
            "# TYPE redloop_db_write_commands_total counter\n"
            "redloop_db_write_commands_total {}\n"
            "# HELP redloop_db_write_seconds_total Time the writer spent, by phase.\n"
            "# TYPE redloop_db_write_seconds_total counter\n"
            "redloop_db_write_seconds_total{{phase=\"run\"}} {:.6f}\n"
            "redloop_db_write_seconds_total{{phase=\"commit\"}} {:.6f}\n"
            "# HELP redloop_db_checkpoints_total WAL checkpoints run off the write path.\n"
            "# TYPE redloop_db_checkpoints_total counter\nredloop_db_checkpoints_total {}\n"
            "# HELP redloop_journal_effects_epochs_total Epochs of recorded effects, closed "
            "with a carrier or given up without one (their entries run in a replay).\n"
            "# TYPE redloop_journal_effects_epochs_total counter\n"
            "redloop_journal_effects_epochs_total{{outcome=\"carried\"}} {}\n"
            "redloop_journal_effects_epochs_total{{outcome=\"given_up\"}} {}\n",
            writes.batches, writes.commands, static_cast<double>(writes.run_ns) / 1e9,
            static_cast<double>(writes.commit_ns) / 1e9, writes.checkpoints,
            writes.effects_epochs_carried, writes.effects_epochs_given_up);
        const auto retries = ctx.app.db().retry_stats();
        extra += fmt::format(
            "# HELP redloop_db_retries_total Transactions run again after a deadlock or a "
            "serialization failure (PostgreSQL), and those that failed every attempt.\n"
            "# TYPE redloop_db_retries_total counter\n"
            "redloop_db_retries_total{{result=\"retried\"}} {}\n"
            "redloop_db_retries_total{{result=\"gave_up\"}} {}\n"
            "# HELP redloop_db_pool_timeouts_total Requests answered 503 because no database "
            "connection became free in time (--db-pool, --db-pool-timeout-ms).\n"
            "# TYPE redloop_db_pool_timeouts_total counter\nredloop_db_pool_timeouts_total {}\n",
            retries.retried, retries.gave_up, retries.pool_timeouts);
        extra += fmt::format(
            "# HELP redloop_note_cache_total Note reads served from the rendered-note cache (hit) "
            "or the database (miss).\n"
            "# TYPE redloop_note_cache_total counter\n"
            "redloop_note_cache_total{{result=\"hit\"}} {}\n"
            "redloop_note_cache_total{{result=\"miss\"}} {}\n",
            ctx.app.note_cache().hits(), ctx.app.note_cache().misses());
        extra += fmt::format(
            "# HELP redloop_order_cache_total Orders in order listings served from the cache of "
            "encoded orders (hit) or read and encoded (miss).\n"
            "# TYPE redloop_order_cache_total counter\n"
            "redloop_order_cache_total{{result=\"hit\"}} {}\n"
            "redloop_order_cache_total{{result=\"miss\"}} {}\n",
            ctx.app.order_cache().hits(), ctx.app.order_cache().misses());
        if (auto* hub = ctx.app.stream_hub()) extra += hub->metrics_text();
        resp.body = ctx.app.metrics().render(extra);
        return resp;
    });
}

}  // namespace redloop::api

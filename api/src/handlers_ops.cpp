// /healthz, /readyz, /metrics.
#include <boost/json.hpp>

#include <fmt/format.h>

#include "handler_util.hpp"
#include "redloop/db/repos.hpp"
#include "stream_hub.hpp"

namespace redloop::api {

void add_ops_routes(Router& r) {
    r.add("GET", "/healthz", [](Context&) -> engine::Result<Response> {
        return json_response(200, boost::json::object{{"status", "ok"}});
    });
    r.add("GET", "/readyz", [](Context& ctx) -> engine::Result<Response> {
        auto ping = ctx.app.db().ping();
        if (!ping) {
            return json_response(503, boost::json::object{{"status", "unavailable"},
                                                          {"detail", "database not reachable"}});
        }
        auto version = ctx.app.db().schema_version();
        return json_response(200, boost::json::object{{"status", "ready"},
                                                      {"schema_version", version ? *version : 0}});
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
        for (const auto& [outcome, n] : ctx.app.checkout_counts()) {
            extra += fmt::format("redloop_checkouts_total{{outcome=\"{}\"}} {}\n", outcome, n);
        }
        extra += fmt::format(
            "# HELP redloop_rate_limited_total Requests refused by a per-user rate limit (429).\n"
            "# TYPE redloop_rate_limited_total counter\n"
            "redloop_rate_limited_total{{route=\"/v1/checkouts\"}} {}\n",
            ctx.app.checkout_limiter().refused());
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
            "# TYPE redloop_db_checkpoints_total counter\nredloop_db_checkpoints_total {}\n",
            writes.batches, writes.commands, static_cast<double>(writes.run_ns) / 1e9,
            static_cast<double>(writes.commit_ns) / 1e9, writes.checkpoints);
        extra += fmt::format(
            "# HELP redloop_note_cache_total Note reads served from the rendered-note cache (hit) "
            "or the database (miss).\n"
            "# TYPE redloop_note_cache_total counter\n"
            "redloop_note_cache_total{{result=\"hit\"}} {}\n"
            "redloop_note_cache_total{{result=\"miss\"}} {}\n",
            ctx.app.note_cache().hits(), ctx.app.note_cache().misses());
        if (auto* hub = ctx.app.stream_hub()) extra += hub->metrics_text();
        resp.body = ctx.app.metrics().render(extra);
        return resp;
    });
}

}  // namespace redloop::api

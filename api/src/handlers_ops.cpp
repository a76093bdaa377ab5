// /healthz, /readyz, /metrics.
#include <boost/json.hpp>

#include "handler_util.hpp"

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
    r.add("GET", "/metrics", [](Context& ctx) -> engine::Result<Response> {
        Response resp;
        resp.content_type = "text/plain; version=0.0.4; charset=utf-8";
        resp.body = ctx.app.metrics().render("");
        return resp;
    });
}

}  // namespace redloop::api

#pragma once
// Plain request and response values: the handlers' view of HTTP, with no Beast in sight.
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace redloop::api {

// "/v1/notes/nte_1" -> {"v1", "notes", "nte_1"} (no decoding; for targets built in-process).
std::vector<std::string> split_path(const std::string& path);

struct Request {
    std::string method;                 // "GET", "POST", ...
    std::string target;                 // as sent: "/v1/notes?sku_id=sku_1"
    std::string path;                   // percent-decoded path without the query: "/v1/notes"
    std::vector<std::string> segments;  // decoded path segments: {"v1", "notes"}
    std::vector<std::pair<std::string, std::string>> query;  // decoded parameters in order
    std::string body;
    bool has_body = false;  // a Content-Length or Transfer-Encoding header was sent
    std::string content_type;
    std::string authorization;
    std::string idempotency_key;
    bool has_idempotency_key = false;
    std::string request_id;
    std::vector<std::pair<std::string, std::string>> headers;  // every header, names lower-case

    // The last value of a query parameter, or nullopt.
    std::optional<std::string> query_param(std::string_view name) const {
        std::optional<std::string> out;
        for (const auto& [k, v] : query) {
            if (k == name) out = v;
        }
        return out;
    }
};

struct Response {
    int status = 200;
    std::string content_type = "application/json";
    std::string body;
    std::vector<std::pair<std::string, std::string>> headers;
};

}  // namespace redloop::api

#include "router.hpp"

#include <boost/url/parse.hpp>

#include <algorithm>

namespace redloop::api {

std::vector<std::string> split_path(const std::string& path) {
    std::vector<std::string> out;
    std::size_t pos = 1;  // skip the leading '/'
    while (pos <= path.size()) {
        auto next = path.find('/', pos);
        if (next == std::string::npos) next = path.size();
        out.push_back(path.substr(pos, next - pos));
        pos = next + 1;
    }
    return out;
}

std::optional<RequestTarget> parse_target(std::string_view target) {
    auto url = boost::urls::parse_origin_form(target);
    if (!url) return std::nullopt;
    RequestTarget out;
    out.path = std::string(url->path());
    for (auto seg : url->segments()) out.segments.push_back(std::string(seg));
    for (auto param : url->params())
        out.query.emplace_back(std::string(param.key), std::string(param.value));
    return out;
}

namespace {
bool is_param(const std::string& seg) {
    return seg.size() >= 2 && seg.front() == '{' && seg.back() == '}';
}
}  // namespace

void Router::add(std::string method, std::string pattern, Handler handler) {
    auto segments = split_path(pattern);
    routes_.push_back(
        Route{std::move(method), std::move(pattern), std::move(segments), std::move(handler)});
}

RouteMatch Router::match(std::string_view method, const std::vector<std::string>& segments) const {
    RouteMatch out;
    for (const auto& r : routes_) {
        if (r.segments.size() != segments.size()) continue;
        std::vector<std::string> params;
        bool ok = true;
        for (std::size_t i = 0; i < segments.size() && ok; ++i) {
            if (is_param(r.segments[i])) {
                ok = !segments[i].empty();
                params.push_back(segments[i]);
            } else {
                ok = r.segments[i] == segments[i];
            }
        }
        if (!ok) continue;
        // HEAD is answered like GET (the server sends no content).
        if (r.method == method || (method == "HEAD" && r.method == "GET")) {
            if (!out.route) {
                out.route = &r;
                out.params = std::move(params);
            }
        }
        if (std::find(out.allowed.begin(), out.allowed.end(), r.method) == out.allowed.end()) {
            out.allowed.push_back(r.method);
        }
    }
    return out;
}

}  // namespace redloop::api

#pragma once
// Method + path-pattern routing ("/v1/products/{id}"). A path that matches with another method
// is 405 with Allow; no match at all is 404.
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "http_types.hpp"
#include "redloop/engine/result.hpp"

namespace redloop::api {

// The parts of a request target ("/v1/notes?sku_id=sku_1", origin form) the handlers see:
// the percent-decoded path, its decoded segments and the decoded query parameters in order.
// nullopt when the target is not a valid origin-form target (the server answers 400).
struct RequestTarget {
    std::string path;
    std::vector<std::string> segments;
    std::vector<std::pair<std::string, std::string>> query;
};
std::optional<RequestTarget> parse_target(std::string_view target);

struct Context;
using Handler = std::function<engine::Result<Response>(Context&)>;

struct Route {
    std::string method;
    std::string pattern;  // also the metrics label
    std::vector<std::string> segments;
    Handler handler;
};

struct RouteMatch {
    const Route* route = nullptr;
    std::vector<std::string> params;   // values of {x} segments in order
    std::vector<std::string> allowed;  // methods of routes whose path matched
};

class Router {
  public:
    void add(std::string method, std::string pattern, Handler handler);
    RouteMatch match(std::string_view method, const std::vector<std::string>& segments) const;
    // Every registration, in the order made (the hostile-client tests check their route tables
    // against it, so a new route without a case fails them).
    const std::vector<Route>& routes() const { return routes_; }

  private:
    std::vector<Route> routes_;
};

// Registers every route of the API (each area's add_*_routes, handlers_*.cpp): what App serves.
void add_api_routes(Router& r);

}  // namespace redloop::api

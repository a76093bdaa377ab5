#pragma once
// Static files under a mount point (the merchant dashboard at /dashboard/): content types,
// caching (hashed assets immutable, HTML revalidated), a Content-Security-Policy, conditional
// GETs, and no way out of the root directory.
#include <filesystem>
#include <optional>
#include <string>

#include "http_types.hpp"

namespace redloop::api {

struct StaticSite {
    std::filesystem::path root;        // e.g. dashboard/dist
    std::string mount = "/dashboard";  // served at /dashboard/...
};

// The response for a request under the site's mount, or nullopt when the path is elsewhere.
std::optional<Response> serve_static(const StaticSite& site, const Request& req);

// The policy sent with every dashboard response: everything from this origin, WebSocket back to
// it, no inline script, no framing.
extern const char* const kDashboardCsp;

}  // namespace redloop::api

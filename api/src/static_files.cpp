#include "static_files.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <fstream>
#include <map>
#include <sstream>
#include <system_error>

#include "problem.hpp"

namespace redloop::api {

namespace fs = std::filesystem;

const char* const kDashboardCsp =
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: https:; "
    "font-src 'self'; connect-src 'self' ws: wss:; object-src 'none'; base-uri 'none'; "
    "form-action 'self'; frame-ancestors 'none'";

namespace {

const std::map<std::string, std::string>& content_types() {
    static const std::map<std::string, std::string> types{
        {".html", "text/html; charset=utf-8"},
        {".js", "text/javascript; charset=utf-8"},
        {".mjs", "text/javascript; charset=utf-8"},
        {".css", "text/css; charset=utf-8"},
        {".json", "application/json"},
        {".map", "application/json"},
        {".svg", "image/svg+xml"},
        {".png", "image/png"},
        {".jpg", "image/jpeg"},
        {".jpeg", "image/jpeg"},
        {".webp", "image/webp"},
        {".ico", "image/x-icon"},
        {".woff2", "font/woff2"},
        {".woff", "font/woff"},
        {".txt", "text/plain; charset=utf-8"},
        {".webmanifest", "application/manifest+json"}};
    return types;
}

void security_headers(Response& r) {
    r.headers.emplace_back("Content-Security-Policy", kDashboardCsp);
    r.headers.emplace_back("Referrer-Policy", "no-referrer");
    r.headers.emplace_back("X-Frame-Options", "DENY");
}

Response problem(engine::ErrorCode code, std::string detail, const Request& req) {
    Response r = problem_response(engine::Error{code, std::move(detail)}, req.request_id);
    security_headers(r);
    return r;
}

std::optional<std::string> header(const Request& req, std::string_view name) {
    for (const auto& [k, v] : req.headers) {
        if (k == name) return v;
    }
    return std::nullopt;
}

// The file for a relative path, inside root, or nullopt.
std::optional<fs::path> locate(const fs::path& root, const std::string& rel) {
    std::error_code ec;
    const auto base = fs::canonical(root, ec);
    if (ec) return std::nullopt;
    const auto full = fs::weakly_canonical(base / rel, ec);
    if (ec) return std::nullopt;
    const auto [b, f] = std::mismatch(base.begin(), base.end(), full.begin(), full.end());
    if (b != base.end()) return std::nullopt;  // outside the root (a link out, say)
    if (!fs::is_regular_file(full, ec)) return std::nullopt;
    return full;
}

}  // namespace

std::optional<Response> serve_static(const StaticSite& site, const Request& req) {
    const std::string& path = req.path;
    if (path != site.mount && path.rfind(site.mount + "/", 0) != 0) return std::nullopt;
    if (req.method != "GET" && req.method != "HEAD") {
        Response r =
            problem(engine::ErrorCode::method_not_allowed,
                    req.method.substr(0, 16) + " is not allowed here; allowed: GET, HEAD", req);
        r.headers.emplace_back("Allow", "GET, HEAD");
        return r;
    }
    if (path == site.mount) {
        Response r;
        r.status = 308;
        r.content_type = "text/plain; charset=utf-8";
        r.body = "see " + site.mount + "/\n";
        r.headers.emplace_back("Location", site.mount + "/");
        return r;
    }
    // The decoded segments after the mount; anything that could climb out is refused.
    std::string rel;
    // "/dashboard" is one segment: the file's path starts after as many as the mount has '/'.
    const auto skip =
        static_cast<std::size_t>(std::count(site.mount.begin(), site.mount.end(), '/'));
    for (std::size_t i = skip; i < req.segments.size(); ++i) {
        const auto& seg = req.segments[i];
        if (seg.empty() && i + 1 == req.segments.size()) break;  // trailing slash
        if (seg.empty() || seg == "." || seg == ".." || seg.find('/') != std::string::npos ||
            seg.find('\\') != std::string::npos || seg.find('\0') != std::string::npos ||
            seg[0] == '.') {
            return problem(engine::ErrorCode::not_found, "no such file", req);
        }
        rel += (rel.empty() ? "" : "/") + seg;
    }
    if (rel.empty()) rel = "index.html";
    auto file = locate(site.root, rel);
    const bool has_extension = fs::path(rel).has_extension();
    if (!file && !has_extension) file = locate(site.root, "index.html");  // the app's own routes
    if (!file) {
        std::error_code ec;
        if (!fs::is_directory(site.root, ec))
            return problem(engine::ErrorCode::not_found,
                           "the dashboard is not built here (" + site.root.string() +
                               "); scripts/run builds it",
                           req);
        return problem(engine::ErrorCode::not_found, "no such file: " + rel.substr(0, 200), req);
    }
    std::error_code ec;
    const auto size = fs::file_size(*file, ec);
    const auto mtime = fs::last_write_time(*file, ec).time_since_epoch().count();
    const std::string etag = fmt::format("W/\"{:x}-{:x}\"", size, mtime);

    Response r;
    const auto ext = file->extension().string();
    auto type = content_types().find(ext);
    r.content_type = type != content_types().end() ? type->second : "application/octet-stream";
    security_headers(r);
    r.headers.emplace_back("ETag", etag);
    const bool hashed = rel.rfind("assets/", 0) == 0;  // Vite puts content hashes in these names
    r.headers.emplace_back("Cache-Control", ext == ".html" ? "no-cache"
                                            : hashed       ? "public, max-age=31536000, immutable"
                                                           : "public, max-age=300");
    if (auto inm = header(req, "if-none-match"); inm && *inm == etag) {
        r.status = 304;
        return r;
    }
    std::ifstream in(*file, std::ios::binary);
    std::ostringstream body;
    body << in.rdbuf();
    if (!in && !in.eof()) return problem(engine::ErrorCode::internal, "could not read " + rel, req);
    r.body = body.str();
    return r;
}

}  // namespace redloop::api

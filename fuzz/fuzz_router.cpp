// The whole in-process request path: an arbitrary method, target (parsed as the server does,
// parse_target), caller, content type, Idempotency-Key, Payment-Signature and body go through
// App::handle — routing with path parameters and query strings, the gate (media type, bearer
// token), the JSON decoders, the handlers and their transactions — against an in-memory SQLite
// database seeded with the demo catalog (fixtures/demo). The database is made afresh every
// kRequestsPerDatabase inputs so it stays small.
//
// Every answer must be well formed: a status from 200 to 499 (a 500 is a bug: bad input gets a
// clear problem+json error), errors as problem+json naming their code and status, JSON bodies
// that parse.
#include <fuzzer/FuzzedDataProvider.h>
#include <spdlog/spdlog.h>
#include <boost/json.hpp>

#include <cstddef>
#include <cstdint>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>

#include "app.hpp"
#include "auth.hpp"
#include "fuzz_check.hpp"
#include "redloop/db/database.hpp"
#include "redloop/db/sealer.hpp"
#include "router.hpp"
#include "seed.hpp"
#include "webhook_signature.hpp"

using namespace redloop;
namespace json = boost::json;

namespace {

constexpr int kRequestsPerDatabase = 2000;
const std::string kJwtSecret = "router_fuzz_jwt_secret_0123456789abcdef";
const std::string kWebhookSecret = "router_fuzz_webhook_secret_0123456789ab";
constexpr std::int64_t kStartMs = 1'780'000'000'000;

struct World {
    std::unique_ptr<db::Database> db;
    std::unique_ptr<api::App> app;
    std::int64_t now_ms = kStartMs;
    int requests = 0;
};

World& world() {
    static World w;
    return w;
}

std::string read_file(const std::string& path) {
    std::ifstream f(path, std::ios::binary);
    std::stringstream s;
    s << f.rdbuf();
    return s.str();
}

void make_world() {
    World& w = world();
    w.app.reset();
    w.db.reset();
    // Personal data is sealed at rest: the process needs a key ring before the first write.
    static const bool ring_installed = [] {
        auto ring = db::KeyRing::parse("fuzz1:cmVkbG9vcC1mdXp6LXJvdXRlci1kYXRhLWtleS0zMmI=");
        FUZZ_CHECK(ring.has_value(), ring.error().detail);
        db::install_key_ring(std::make_shared<const db::KeyRing>(std::move(*ring)));
        return true;
    }();
    (void)ring_installed;
    auto opened = db::Database::open(db::DatabaseOptions{":memory:", 1, 5000, 5000, false});
    FUZZ_CHECK(opened.has_value(), opened.error().detail);
    w.db = std::move(*opened);
    auto migrated = w.db->migrate();
    FUZZ_CHECK(migrated.has_value(), migrated.error().detail);
    static const std::string catalog =
        read_file(std::string(REDLOOP_SOURCE_DIR) + "/fixtures/demo/catalog.json");
    FUZZ_CHECK(!catalog.empty(), "fixtures/demo/catalog.json is missing");
    api::SeedReport report;
    auto seeded = w.db->write([&](db::Tx& tx) -> engine::Result<bool> {
        if (auto s =
                api::seed_text(tx, "catalog.json", catalog, engine::Timestamp{kStartMs}, report);
            !s)
            return engine::fail(s.error());
        return true;
    });
    FUZZ_CHECK(seeded.has_value(), seeded.error().detail);
    api::AppConfig config;
    config.jwt_secret = kJwtSecret;
    config.webhook_secret = kWebhookSecret;
    w.app =
        std::make_unique<api::App>(*w.db, config, [] { return engine::Timestamp{world().now_ms}; });
    w.requests = 0;
}

std::string token(const char* sub, api::Role role) {
    auto p = api::Principal{engine::ActorId::trusted(sub), role};
    auto t = api::mint_token(p, kJwtSecret, engine::Timestamp{kStartMs}, 10LL * 365 * 86400);
    FUZZ_CHECK(t.has_value(), t.error().detail);
    return "Bearer " + *t;
}

void check_response(const api::Request& req, const api::Response& r) {
    const std::string what = req.method + " " + req.target + " -> " + std::to_string(r.status) +
                             " " + r.body.substr(0, 500);
    FUZZ_CHECK(r.status >= 200 && r.status <= 499, what);
    if (r.status >= 400) {
        FUZZ_CHECK(r.content_type == "application/problem+json", what);
        boost::system::error_code ec;
        const auto v = json::parse(r.body, ec);
        FUZZ_CHECK(!ec && v.is_object(), what);
        const auto& o = v.as_object();
        FUZZ_CHECK(o.contains("code") && o.contains("detail") && o.contains("title"), what);
        FUZZ_CHECK(o.at("status") == r.status, what);
        return;
    }
    if (r.content_type == "application/json" && !r.body.empty()) {
        boost::system::error_code ec;
        (void)json::parse(r.body, ec);
        FUZZ_CHECK(!ec, what);
    }
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
    spdlog::set_level(spdlog::level::off);
    make_world();
    return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    World& w = world();
    if (++w.requests > kRequestsPerDatabase) make_world();
    static const std::string tokens[] = {
        token("usr_lin", api::Role::user), token("usr_mei", api::Role::user),
        token("mer_westlaketea", api::Role::merchant), token("mer_glowlab", api::Role::merchant),
        token("usr_admin", api::Role::admin)};
    static const char* const methods[] = {"GET", "POST", "PUT", "PATCH", "DELETE", "HEAD"};

    FuzzedDataProvider in(data, size);
    api::Request req;
    const auto m = in.ConsumeIntegralInRange<std::size_t>(0, std::size(methods));
    req.method = m < std::size(methods) ? methods[m] : in.ConsumeRandomLengthString(16);
    const auto who = in.ConsumeIntegralInRange<std::size_t>(0, std::size(tokens) + 1);
    if (who < std::size(tokens)) {
        req.authorization = tokens[who];
    } else if (who == std::size(tokens) + 1) {
        req.authorization = in.ConsumeRandomLengthString(256);
    }
    switch (in.ConsumeIntegralInRange<int>(0, 3)) {
        case 0:
            break;
        case 1:
            req.content_type = "application/json";
            break;
        case 2:
            req.content_type = "application/json; charset=utf-8";
            break;
        default:
            req.content_type = in.ConsumeRandomLengthString(64);
    }
    if (in.ConsumeBool()) {
        req.has_idempotency_key = true;
        req.idempotency_key = in.ConsumeRandomLengthString(64);
    }
    const int signature = in.ConsumeIntegralInRange<int>(0, 2);
    std::string signature_junk = signature == 2 ? in.ConsumeRandomLengthString(160) : "";
    req.target = in.ConsumeRandomLengthString(512);
    req.body = in.ConsumeRemainingBytesAsString();
    req.has_body = !req.body.empty();
    req.request_id = "req_fuzz";

    auto target = api::parse_target(req.target);
    if (!target) return 0;  // the server answers 400 before the app sees it
    req.path = std::move(target->path);
    req.segments = std::move(target->segments);
    req.query = std::move(target->query);
    if (!req.content_type.empty()) req.headers.emplace_back("content-type", req.content_type);
    if (!req.authorization.empty()) req.headers.emplace_back("authorization", req.authorization);
    if (req.has_idempotency_key) req.headers.emplace_back("idempotency-key", req.idempotency_key);
    if (signature == 1) {
        req.headers.emplace_back("payment-signature",
                                 api::sign_webhook(kWebhookSecret, w.now_ms / 1000, req.body));
    } else if (signature == 2) {
        req.headers.emplace_back("payment-signature", std::move(signature_junk));
    }

    const api::Response r = w.app->handle(req);
    check_response(req, r);
    w.now_ms += 1000;
    if (w.requests % 64 == 0) w.app->run_maintenance();
    return 0;
}

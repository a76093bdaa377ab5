// The journal replay benchmark: records a journal of at least --entries entries by driving the
// engine in-process (no sockets) through a realistic mix — many buyers, several shops, carts from
// notes, checkouts, card payments and their signed webhooks, declines, expiries, shipping and
// refunds — then replays it into an empty database and prints entries per second.
//
// The replay must reach the live state hash, and the new database's journal must be the recorded
// one (its effects left out); a mismatch exits non-zero, so the benchmark doubles as a large
// determinism check. Figures go to docs/performance.md by `scripts/bench`, never asserted.
#include <fmt/format.h>
#include <spdlog/spdlog.h>
#include <CLI/CLI.hpp>
#include <boost/json.hpp>
#include <cstdlib>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "app.hpp"
#include "auth.hpp"
#include "redloop/db/journal.hpp"
#include "redloop/db/sealer.hpp"
#include "replay.hpp"
#include "seed.hpp"
#include "webhook_signature.hpp"

namespace json = boost::json;
namespace fs = std::filesystem;
using namespace redloop;
using api::Request;
using api::Response;

namespace {

constexpr const char* kJwtSecret = "journal-bench-jwt-secret-0123456789abcdef";
constexpr const char* kWebhookSecret = "journal-bench-webhook-secret-0123456789ab";

// Stands in for the card network: remembers the event each call would send, so the benchmark
// delivers it as a signed webhook at a moment of its choosing.
class CapturingProvider : public engine::PaymentProvider {
  public:
    engine::Status confirm(const engine::Payment& p, std::string_view card) override {
        auto outcome = engine::sandbox_card_outcome(card);
        if (!outcome) return engine::fail(outcome.error());
        const bool ok = *outcome == engine::CardOutcome::succeed;
        events.push_back(json::serialize(json::object{
            {"id", fmt::format("evt_bench{:016d}", ++counter)},
            {"type", ok ? "payment.succeeded" : "payment.failed"},
            {"data",
             json::object{{"payment_id", p.id.str()},
                          {"amount", json::object{{"amount", p.amount.minor},
                                                  {"currency", p.amount.currency.code()}}}}}}));
        return {};
    }
    engine::Status refund(const engine::Refund& r) override {
        events.push_back(json::serialize(json::object{
            {"id", fmt::format("evt_bench{:016d}", ++counter)},
            {"type", "refund.succeeded"},
            {"data",
             json::object{{"payment_id", r.payment_id.str()},
                          {"refund_id", r.id.str()},
                          {"amount", json::object{{"amount", r.amount.minor},
                                                  {"currency", r.amount.currency.code()}}}}}}));
        return {};
    }
    std::vector<std::string> events;
    std::uint64_t counter = 0;
};

class Driver {
  public:
    Driver(api::App& app, CapturingProvider& provider, engine::Timestamp start)
        : app_(app), provider_(provider), now_(start) {}

    engine::Timestamp now() const { return now_; }
    void tick(std::int64_t ms) { now_ = now_ + ms; }

    Response call(const std::string& method, const std::string& target, const std::string& token,
                  const std::string& body = {}, const std::string& idem_key = {}) {
        Request req;
        req.method = method;
        req.target = target;
        req.path = target;
        req.segments = api::split_path(target);
        req.body = body;
        req.has_body = !body.empty();
        req.content_type = body.empty() ? "" : "application/json";
        if (!token.empty()) req.authorization = "Bearer " + token;
        if (!idem_key.empty()) {
            req.has_idempotency_key = true;
            req.idempotency_key = idem_key;
        }
        req.request_id = fmt::format("{:016x}", ++requests_);
        tick(40);
        return app_.handle(req);
    }

    // Delivers what the provider would have sent, signed as it would sign it.
    void deliver_events() {
        auto events = std::move(provider_.events);
        provider_.events.clear();
        for (const auto& body : events) {
            Request req;
            req.method = "POST";
            req.target = req.path = "/v1/webhooks/payments";
            req.segments = api::split_path(req.path);
            req.body = body;
            req.has_body = true;
            req.content_type = "application/json";
            req.headers.emplace_back("payment-signature",
                                     api::sign_webhook(kWebhookSecret, now_.unix_seconds(), body));
            req.request_id = fmt::format("{:016x}", ++requests_);
            tick(40);
            const auto r = app_.handle(req);
            if (r.status != 200) ++unexpected;
        }
    }

    std::uint64_t unexpected = 0;

  private:
    api::App& app_;
    CapturingProvider& provider_;
    engine::Timestamp now_;
    std::uint64_t requests_ = 0;
};

std::string token_for(api::Role role, const std::string& sub, engine::Timestamp now) {
    auto t = api::mint_token(api::Principal{*engine::ActorId::parse(sub), role}, kJwtSecret, now,
                             10LL * 365 * 24 * 3600);
    if (!t) throw std::runtime_error(t.error().detail);
    return *t;
}

std::int64_t journal_length(db::Database& db) {
    auto n = db.read(
        [](db::Tx& tx) -> engine::Result<std::int64_t> { return db::last_journal_seq(tx); });
    return n ? *n : 0;
}

struct Shop {
    std::string token;
    std::vector<std::string> skus;
};

const std::string kAddress =
    R"({"shipping_address":{"name":"Bench Buyer","phone":"13800000000","line1":"1 West Lake Rd",)"
    R"("city":"Hangzhou","postal_code":"310000","country":"CN"}})";

// Records the workload until the journal holds at least `target` entries.
int record(db::Database& db, const std::string& fixtures, std::int64_t target, std::uint32_t seed) {
    engine::Timestamp start{1'790'000'000'000};  // 2026-09-21, fixed so runs compare
    api::AppConfig config{kJwtSecret, kWebhookSecret};
    config.checkout_ttl_ms = 600'000;
    engine::Timestamp clock_now = start;
    api::App app(db, config, [&] { return clock_now; });
    CapturingProvider provider;
    app.set_provider(&provider);
    if (auto s = app.journal_config_if_changed(start); !s)
        throw std::runtime_error(s.error().detail);
    if (auto r = api::seed_fixtures(db, fixtures, start); !r)
        throw std::runtime_error(r.error().detail);

    Driver d(app, provider, start);
    auto sync = [&] { clock_now = d.now(); };
    std::mt19937 rng(seed);
    auto pick = [&](std::size_t n) { return static_cast<std::size_t>(rng() % n); };

    // Shops with deep stock, so the day is about throughput rather than selling out.
    std::vector<Shop> shops;
    for (int m = 0; m < 12; ++m) {
        Shop shop{token_for(api::Role::merchant, fmt::format("mer_bench{:02d}", m), d.now()), {}};
        for (int p = 0; p < 4; ++p) {
            json::array skus;
            for (int s = 0; s < 3; ++s) {
                skus.push_back(json::object{
                    {"title", fmt::format("Size {}", s)},
                    {"price",
                     json::object{{"amount", 990 + 1000 * s + 37 * p}, {"currency", "CNY"}}},
                    {"stock", 5'000'000}});
            }
            const json::object product{{"title", fmt::format("Bench product {}-{}", m, p)},
                                       {"description", "Made by the journal benchmark."},
                                       {"media", json::array{}},
                                       {"commission_rate_bps", 500},
                                       {"skus", std::move(skus)}};
            sync();
            auto r = d.call("POST", "/v1/products", shop.token, json::serialize(product));
            if (r.status != 201) throw std::runtime_error("product: " + r.body);
            const auto created = json::parse(r.body);
            for (const auto& s : created.at("skus").as_array())
                shop.skus.emplace_back(s.at("id").as_string());
        }
        shops.push_back(std::move(shop));
    }
    // Buyers, and notes written by some of them.
    std::vector<std::string> buyers;
    for (int u = 0; u < 2000; ++u)
        buyers.push_back(token_for(api::Role::user, fmt::format("usr_bench{:04d}", u), d.now()));
    std::vector<std::pair<std::string, std::string>> notes;  // note id, a tagged sku
    for (int n = 0; n < 60; ++n) {
        const auto& shop = shops[pick(shops.size())];
        const auto& sku = shop.skus[pick(shop.skus.size())];
        const json::object note{{"title", fmt::format("Bench note {}", n)},
                                {"body", "Tried it for a week."},
                                {"media", json::array{}},
                                {"products", json::array{json::object{{"sku_id", sku}}}}};
        sync();
        auto r = d.call("POST", "/v1/notes", buyers[pick(buyers.size())], json::serialize(note));
        if (r.status != 201) throw std::runtime_error("note: " + r.body);
        notes.emplace_back(std::string(json::parse(r.body).at("id").as_string()), sku);
    }

    std::vector<std::pair<std::size_t, std::string>> paid;  // shop index, order id
    std::int64_t length = journal_length(db);
    std::uint64_t round = 0;
    while (length < target) {
        for (int i = 0; i < 200; ++i, ++round) {
            const auto& buyer = buyers[pick(buyers.size())];
            // One or two lines, most of them from a note.
            std::size_t shop_index = pick(shops.size());
            for (int line = 0, lines = 1 + static_cast<int>(pick(3) == 0); line < lines; ++line) {
                std::string body;
                std::string sku;
                if (pick(4) != 0) {
                    const auto& [note, tagged] = notes[pick(notes.size())];
                    sku = tagged;
                    body = fmt::format(R"({{"quantity":{},"note_id":"{}"}})", 1 + pick(2), note);
                } else {
                    const auto& shop = shops[shop_index];
                    sku = shop.skus[pick(shop.skus.size())];
                    body = fmt::format(R"({{"quantity":{}}})", 1 + pick(2));
                }
                sync();
                d.call("PUT", "/v1/cart/items/" + sku, buyer, body);
            }
            sync();
            auto c =
                d.call("POST", "/v1/checkouts", buyer, kAddress, fmt::format("bench-{}", round));
            if (c.status != 201) continue;  // e.g. the cart was emptied by an earlier checkout
            const auto checkout = json::parse(c.body);
            const std::string payment(checkout.at("payment").at("id").as_string());
            const auto roll = pick(100);
            if (roll < 8) continue;  // abandoned: expires later
            const char* card = roll < 14 ? "4000000000000002" : "4242424242424242";
            sync();
            d.call("POST", "/v1/payments/" + payment + "/confirm", buyer,
                   fmt::format(R"({{"card_number":"{}"}})", card));
            sync();
            d.deliver_events();
            if (roll >= 14) {
                for (const auto& o : checkout.at("orders").as_array()) {
                    const std::string merchant(o.at("merchant_id").as_string());
                    if (merchant.rfind("mer_bench", 0) != 0) continue;
                    const auto index = static_cast<std::size_t>(std::stoi(merchant.substr(9)));
                    paid.emplace_back(index, std::string(o.at("id").as_string()));
                }
            }
        }
        // Merchants work through what was paid: ship most, refund some, part or whole.
        for (const auto& [shop_index, order] : paid) {
            const auto& token = shops[shop_index].token;
            const auto roll = pick(10);
            sync();
            if (roll < 7) {
                d.call("POST", "/v1/orders/" + order + "/ship", token,
                       R"({"carrier":"SF Express","tracking_number":"SF1234567890"})");
            } else if (roll < 9) {
                d.call("POST", "/v1/orders/" + order + "/refunds", token,
                       R"({"amount":{"amount":100,"currency":"CNY"},"reason":"late delivery"})",
                       "refund-" + order);
                sync();
                d.deliver_events();
            } else {
                d.call("POST", "/v1/orders/" + order + "/cancel", token);
                sync();
                d.deliver_events();
            }
        }
        paid.clear();
        sync();
        api::expire_due_checkouts(db, d.now());
        length = journal_length(db);
        std::cerr << fmt::format("\rrecorded {} entries", length) << std::flush;
    }
    std::cerr << '\n';
    if (d.unexpected) spdlog::warn("{} webhook deliveries were not answered 200", d.unexpected);
    return 0;
}

}  // namespace

int main(int argc, char** argv) {
    CLI::App cli{"Journal replay benchmark"};
    std::int64_t entries = 100'000;
    std::string work = (fs::temp_directory_path() / "redloop-journal-bench").string();
    std::string fixtures = REDLOOP_SOURCE_DIR "/fixtures/demo";
    std::uint32_t seed = 7;
    cli.add_option("--entries", entries, "record at least this many journal entries")
        ->check(CLI::Range(1, 100'000'000));
    cli.add_option("--work", work, "directory for the databases and the journal (recreated)");
    cli.add_option("--fixtures", fixtures, "demo fixtures to seed first")
        ->check(CLI::ExistingDirectory);
    cli.add_option("--seed", seed, "seed of the workload's choices");
    bool no_effects = false;
    cli.add_flag("--no-effects", no_effects,
                 "record no effects (as `serve --journal-effects false`): every entry runs again");
    CLI11_PARSE(cli, argc, argv);
    spdlog::set_level(spdlog::level::warn);
    // Personal data is sealed at rest: a fresh key for the bench's scratch databases, or the
    // ring in REDLOOP_DATA_KEYS when set (to replay its journal with `redloop replay` after).
    const char* ring_env = std::getenv("REDLOOP_DATA_KEYS");
    auto ring = db::KeyRing::parse(ring_env && *ring_env ? std::string(ring_env)
                                                         : db::KeyRing::generate("bench"));
    if (!ring) {
        std::cerr << "REDLOOP_DATA_KEYS: " << ring.error().detail << '\n';
        return 2;
    }
    db::install_key_ring(std::make_shared<const db::KeyRing>(std::move(*ring)));

    try {
        fs::remove_all(work);
        fs::create_directories(work);
        const auto live_path = (fs::path(work) / "live.db").string();
        const auto replay_path = (fs::path(work) / "replay.db").string();
        const auto journal_path = (fs::path(work) / "journal.jsonl").string();
        const auto effects_path = (fs::path(work) / "replay-effects.db").string();

        auto open = [](const std::string& path) {
            // The recording is scaffolding, the replay target is scratch: neither needs fsync.
            auto db = db::Database::open(
                db::DatabaseOptions{.url = path, .pool_size = 2, .durable = false});
            if (!db) throw std::runtime_error(db.error().detail);
            if (auto m = (*db)->migrate(); !m) throw std::runtime_error(m.error().detail);
            return std::move(*db);
        };

        auto live = open(live_path);
        live->set_effects_recording(!no_effects);
        const auto t0 = std::chrono::steady_clock::now();
        record(*live, fixtures, entries, seed);
        const auto t1 = std::chrono::steady_clock::now();
        {
            std::ofstream out(journal_path, std::ios::binary);
            auto n = api::export_journal(*live, 0, out);
            if (!n) throw std::runtime_error(n.error().detail);
            entries = *n;
        }
        const auto live_hash = api::state_hash_of(*live);
        if (!live_hash) throw std::runtime_error(live_hash.error().detail);
        const double record_s = std::chrono::duration<double>(t1 - t0).count();

        std::cout << fmt::format("journal: {} entries, {:.1f} MB ({})\n", entries,
                                 static_cast<double>(fs::file_size(journal_path)) / 1e6,
                                 journal_path);
        std::cout << fmt::format("record (in-process API): {:.2f} s, {:.0f} entries/s\n", record_s,
                                 static_cast<double>(entries) / record_s);
        // Both ways: running every entry again (each answer checked), and applying the recorded
        // effects (the state checked). Each into a new database; both must reach the live hash.
        bool all_same = true;
        std::string expected_journal;
        {
            std::ifstream in(journal_path, std::ios::binary);
            std::ostringstream text;
            text << in.rdbuf();
            expected_journal = api::journal_without_effects(text.str());
        }
        for (const bool effects : {false, true}) {
            const std::string path = effects ? effects_path : replay_path;
            auto target = open(path);
            std::ifstream in(journal_path, std::ios::binary);
            const auto r0 = std::chrono::steady_clock::now();
            auto report = api::replay_journal(*target, in, api::ReplayOptions{.effects = effects});
            const auto r1 = std::chrono::steady_clock::now();
            if (!report) throw std::runtime_error(report.error().detail);
            const double replay_s = std::chrono::duration<double>(r1 - r0).count();
            const char* how =
                effects ? "replay from recorded effects" : "replay by running entries";
            std::cout << fmt::format("{}: {} entries in {:.2f} s, {:.0f} entries/s", how,
                                     report->applied, replay_s,
                                     static_cast<double>(report->applied) / replay_s);
            if (effects)
                std::cout << fmt::format(" ({} from effects, {} run)", report->from_effects,
                                         report->applied - report->from_effects);
            std::cout << '\n';
            if (report->divergence) {
                std::cout << how << " diverged: " << *report->divergence << '\n';
                return 1;
            }
            const bool same = report->state_hash == *live_hash;
            std::cout << fmt::format("state hash live {} {} {}: {}\n", *live_hash, how,
                                     report->state_hash, same ? "same" : "DIFFERENT");
            // The new database's journal is the recorded one without the effects (exported, so
            // not part of the time above).
            std::ostringstream copied;
            if (auto n = api::export_journal(*target, 0, copied); !n)
                throw std::runtime_error(n.error().detail);
            const bool same_journal = copied.str() == expected_journal;
            std::cout << fmt::format("{}: the new journal is the recorded one: {}\n", how,
                                     same_journal ? "yes" : "NO");
            all_same = all_same && same && same_journal;
        }
        return all_same ? 0 : 1;
    } catch (const std::exception& e) {
        std::cerr << "journal bench failed: " << e.what() << '\n';
        return 2;
    }
}

// The `redloop` command itself: token, serve's refusal without secrets, migrate, seed.
#include <csignal>
#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>
#include <thread>

#include "support.hpp"
#include "test_database.hpp"

using namespace redloop;
using namespace redloop::it;
using api::Role;

namespace {

namespace fs = std::filesystem;

struct FixtureCounts {
    std::int64_t merchants = 0, products = 0, users = 0, notes = 0;
    std::int64_t total() const { return merchants + products + users + notes; }
    json::value first_note;  // the first note of the first file that has one
};

json::value read_json_file(const fs::path& p) {
    std::ifstream in(p, std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    return json::parse(ss.str());
}

// What the fixtures directory holds, read at run time (the fixtures may change).
FixtureCounts count_fixtures(const std::string& dir) {
    std::vector<fs::path> files;
    for (const auto& e : fs::directory_iterator(dir)) {
        if (e.is_regular_file() && e.path().extension() == ".json") files.push_back(e.path());
    }
    std::sort(files.begin(), files.end());
    FixtureCounts out;
    for (const auto& f : files) {
        const auto doc = read_json_file(f);
        const auto& top = doc.as_object();
        if (const auto* ms = top.if_contains("merchants")) {
            for (const auto& m : ms->as_array()) {
                ++out.merchants;
                if (const auto* ps = m.as_object().if_contains("products"))
                    out.products += static_cast<std::int64_t>(ps->as_array().size());
            }
        }
        if (const auto* us = top.if_contains("users"))
            out.users += static_cast<std::int64_t>(us->as_array().size());
        if (const auto* ns = top.if_contains("notes")) {
            out.notes += static_cast<std::int64_t>(ns->as_array().size());
            if (out.first_note.is_null() && !ns->as_array().empty())
                out.first_note = ns->as_array()[0];
        }
    }
    return out;
}

struct SeedReport {
    std::int64_t merchants = -1, products = -1, users = -1, notes = -1, skipped = -1;
};

// "seeded 3 merchants, 6 products, 4 users, 4 notes (0 already present)"
std::optional<SeedReport> parse_seed_report(const std::string& out) {
    const std::regex re(
        R"(seeded (\d+) merchants, (\d+) products, (\d+) users, (\d+) notes \((\d+) already present\))");
    std::smatch m;
    if (!std::regex_search(out, m, re)) return std::nullopt;
    return SeedReport{std::stoll(m[1]), std::stoll(m[2]), std::stoll(m[3]), std::stoll(m[4]),
                      std::stoll(m[5])};
}

std::string describe(const CliResult& r) {
    return "exit " + std::to_string(r.exit_code) + (r.timed_out ? " (timed out)" : "") +
           "\nstdout: " + r.out + "\nstderr: " + r.err.substr(0, 3000);
}

}  // namespace

TEST_SUITE("integration_cli") {
    TEST_CASE("redloop token needs REDLOOP_JWT_SECRET") {
        const auto none = run_cli({"token", "--role", "merchant", "--sub", "mer_cli"});
        INFO(describe(none));
        CHECK_FALSE(none.timed_out);
        CHECK(none.exit_code != 0);
        CHECK(none.out.find('.') == std::string::npos);  // no token printed
        CHECK(none.err.find("REDLOOP_JWT_SECRET") != std::string::npos);

        const auto short_secret = run_cli({"token", "--role", "merchant", "--sub", "mer_cli"},
                                          {{"REDLOOP_JWT_SECRET", "too-short"}});
        INFO(describe(short_secret));
        CHECK(short_secret.exit_code != 0);
        CHECK(short_secret.out.find('.') == std::string::npos);
    }

    TEST_CASE("redloop token mints a token the server accepts, and refuses a bad sub") {
        ServerProcess server;
        const auto sub = unique_id("mer_");
        const auto r = run_cli({"token", "--role", "merchant", "--sub", sub}, secret_env());
        INFO(describe(r));
        REQUIRE(r.exit_code == 0);
        std::string token = r.out;
        while (!token.empty() && (token.back() == '\n' || token.back() == '\r')) token.pop_back();
        CHECK(std::count(token.begin(), token.end(), '.') == 2);

        HttpClient c(server.port());
        const auto me = c.get("/v1/merchants/me", "Bearer " + token);
        REQUIRE_STATUS(me, 200);
        CHECK(jstr(me.json(), "/id") == sub);

        // --ttl: a 1 s token expires.
        const auto brief =
            run_cli({"token", "--role", "user", "--sub", "usr_brief", "--ttl", "1"}, secret_env());
        REQUIRE(brief.exit_code == 0);
        std::string brief_token = brief.out.substr(0, brief.out.find('\n'));
        std::this_thread::sleep_for(std::chrono::milliseconds(2100));
        CHECK_PROBLEM(c.post("/v1/notes", R"({"title":"late"})", "Bearer " + brief_token), 401,
                      "unauthenticated");

        for (const auto& args : std::vector<std::vector<std::string>>{
                 {"token", "--role", "merchant", "--sub", "usr_wrongkind"},
                 {"token", "--role", "user", "--sub", "mer_wrongkind"},
                 {"token", "--role", "merchant", "--sub", "mer_!!"},
                 {"token", "--role", "root", "--sub", "usr_x"},
                 {"token", "--role", "user"}}) {
            const auto bad = run_cli(args, secret_env());
            INFO(describe(bad));
            CHECK(bad.exit_code != 0);
            CHECK(bad.out.find('.') == std::string::npos);
        }
    }

    TEST_CASE("redloop serve without secrets and without --dev exits non-zero with a message") {
        TempDir dir;
        const std::vector<std::string> serve = {"serve", "--db",     dir.db("redloop"), "--port",
                                                "0",     "--listen", "127.0.0.1"};
        const auto none = run_cli(serve, {}, std::chrono::seconds(20));
        INFO(describe(none));
        CHECK_FALSE(none.timed_out);
        CHECK(none.exit_code != 0);
        CHECK(none.out.find("listening") == std::string::npos);
        CHECK(none.err.find("REDLOOP_JWT_SECRET") != std::string::npos);

        const auto only_jwt =
            run_cli(serve, {{"REDLOOP_JWT_SECRET", kTestJwtSecret}}, std::chrono::seconds(20));
        INFO(describe(only_jwt));
        CHECK_FALSE(only_jwt.timed_out);
        CHECK(only_jwt.exit_code != 0);
        CHECK(only_jwt.err.find("REDLOOP_WEBHOOK_SECRET") != std::string::npos);

        const auto short_secret = run_cli(
            serve,
            {{"REDLOOP_JWT_SECRET", "short"}, {"REDLOOP_WEBHOOK_SECRET", kTestWebhookSecret}},
            std::chrono::seconds(20));
        INFO(describe(short_secret));
        CHECK_FALSE(short_secret.timed_out);
        CHECK(short_secret.exit_code != 0);
        CHECK(short_secret.out.find("listening") == std::string::npos);
    }

    TEST_CASE("redloop serve --dev makes up missing secrets") {
        ServerOptions options;
        options.env = {};  // no secrets at all
        options.extra_args = {"--dev"};
        ServerProcess server(options);
        HttpClient c(server.port());
        REQUIRE_STATUS(c.get("/healthz"), 200);
        // Our secret is not the one it made up.
        CHECK_PROBLEM(c.get("/v1/merchants/me", server.bearer(Role::merchant, unique_id("mer_"))),
                      401, "unauthenticated");
    }

    TEST_CASE("serve checks integrity after a crash and never serves a damaged database") {
        TempDir dir;
        ServerOptions options;
        options.db_path = dir.db("crash");
        const auto marker = options.db_path + "-running";
        {
            ServerProcess first(options);
            HttpClient c(first.port());
            const auto m = new_merchant(first);
            create_product(c, m.auth, "Kept", {{"one", 1000, 3}});
            if (!test::on_postgresql()) CHECK(fs::exists(marker));
            first.signal(SIGKILL);
            REQUIRE(first.wait_exit(std::chrono::seconds(10)).has_value());
        }
        if (test::on_postgresql()) {
            // PostgreSQL checks its own pages: no marker, no check, and the data is there.
            ServerProcess again(options);
            CHECK(again.log().find("integrity check") == std::string::npos);
            CHECK(db_int(again, "SELECT COUNT(*) FROM products") == 1);
            return;
        }
        CHECK(fs::exists(marker));  // killed: the marker stays
        {
            ServerProcess after_crash(options);
            const auto log = after_crash.log();
            INFO(log);
            CHECK(log.find("integrity check ok") != std::string::npos);
            CHECK(log.find("did not stop cleanly") != std::string::npos);
            CHECK(db_int(after_crash, "SELECT COUNT(*) FROM products") == 1);
            CHECK(after_crash.terminate() == 0);
        }
        CHECK_FALSE(fs::exists(marker));  // a clean stop removes it
        {
            ServerProcess after_clean(options);
            CHECK(after_clean.log().find("integrity check") == std::string::npos);
            CHECK(after_clean.terminate() == 0);
        }
        // Damage one index page (its b-tree header) in the file the clean stop checkpointed.
        const auto page_size = db_int(options.db_path, "PRAGMA page_size");
        const auto root = db_int(
            options.db_path, "SELECT rootpage FROM sqlite_master WHERE name = 'orders_by_user'");
        REQUIRE(page_size >= 512);
        REQUIRE(root > 1);
        REQUIRE_FALSE(fs::exists(options.db_path + "-wal"));
        {
            std::fstream f(options.db_path, std::ios::in | std::ios::out | std::ios::binary);
            f.seekp((root - 1) * page_size);
            const std::string garbage(16, '\xff');
            f.write(garbage.data(), static_cast<std::streamsize>(garbage.size()));
        }
        const auto damaged = run_cli({"serve", "--db", options.db_path, "--port", "0", "--listen",
                                      "127.0.0.1", "--integrity-check", "always"},
                                     secret_env(), std::chrono::seconds(30));
        INFO(describe(damaged));
        CHECK_FALSE(damaged.timed_out);
        CHECK(damaged.exit_code == 1);
        CHECK(damaged.out.find("listening") == std::string::npos);
        CHECK(damaged.err.find("failed its integrity check") != std::string::npos);
        // The check can be turned off (an operator's decision), and its value is validated.
        const auto bad_mode = run_cli({"serve", "--db", options.db_path, "--integrity-check", "x"},
                                      secret_env(), std::chrono::seconds(30));
        CHECK(bad_mode.exit_code != 0);
        CHECK(bad_mode.err.find("--integrity-check") != std::string::npos);
    }

    TEST_CASE("redloop migrate creates the schema and is repeatable") {
        TempDir dir;
        const auto db = dir.db("migrated");
        const auto first = run_cli({"migrate", "--db", db});
        INFO(describe(first));
        REQUIRE(first.exit_code == 0);
        const std::regex version(R"(schema version (\d+))");
        std::smatch m;
        REQUIRE(std::regex_search(first.out, m, version));
        CHECK(std::stoi(m[1]) >= 1);
        const auto second = run_cli({"migrate", "--db", db});
        INFO(describe(second));
        CHECK(second.exit_code == 0);
        CHECK(second.out.find("schema version " + std::string(m[1])) != std::string::npos);
        CHECK(db_int(db, "SELECT COUNT(*) FROM merchants") == 0);

        // A database in a directory that doesn't exist (PostgreSQL: that the server hasn't got).
        const auto nowhere = run_cli({"migrate", "--db", dir.unopenable_db()});
        INFO(describe(nowhere));
        CHECK(nowhere.exit_code != 0);

        // No subcommand at all.
        CHECK(run_cli({}).exit_code != 0);
    }

    TEST_CASE("redloop seed loads the demo fixtures once; a server on that database serves them") {
        const auto fixtures = fixtures_dir();
        const auto counts = count_fixtures(fixtures);
        REQUIRE_MESSAGE(counts.notes > 0, "no notes in the fixtures at " << fixtures);
        TempDir dir;
        const auto db = dir.db("seeded");

        const auto first = run_cli({"seed", "--db", db, "--fixtures", fixtures});
        INFO(describe(first));
        REQUIRE(first.exit_code == 0);
        const auto r1 = parse_seed_report(first.out);
        REQUIRE(r1.has_value());
        CHECK(r1->merchants > 0);
        CHECK(r1->products > 0);
        CHECK(r1->notes > 0);
        // Every fixture object was either created or found present.
        CHECK(r1->merchants + r1->products + r1->users + r1->notes + r1->skipped == counts.total());
        CHECK(db_int(db, "SELECT COUNT(*) FROM notes") == r1->notes);
        CHECK(db_int(db, "SELECT COUNT(*) FROM products") == r1->products);

        const auto second = run_cli({"seed", "--db", db, "--fixtures", fixtures});
        INFO(describe(second));
        REQUIRE(second.exit_code == 0);
        const auto r2 = parse_seed_report(second.out);
        REQUIRE(r2.has_value());
        CHECK(r2->merchants == 0);
        CHECK(r2->products == 0);
        CHECK(r2->users == 0);
        CHECK(r2->notes == 0);
        CHECK(r2->skipped == counts.total());
        CHECK(db_int(db, "SELECT COUNT(*) FROM notes") == r1->notes);

        // A server on the seeded database serves the first fixture note as written.
        ServerOptions options;
        options.db_path = db;
        ServerProcess server(options);
        HttpClient c(server.port());
        const auto& fixture_note = counts.first_note;
        const auto note_id = jstr(fixture_note, "/id");
        const auto r = c.get("/v1/notes/" + note_id);
        REQUIRE_STATUS(r, 200);
        const auto n = r.json();
        CHECK(jstr(n, "/id") == note_id);
        CHECK(jstr(n, "/author_id") == jstr(fixture_note, "/author_id"));
        CHECK(jstr(n, "/title") == jstr(fixture_note, "/title"));
        if (fixture_note.as_object().contains("body"))
            CHECK(jstr(n, "/body") == jstr(fixture_note, "/body"));
        const auto& tagged = fixture_note.as_object().contains("products")
                                 ? fixture_note.at("products").as_array()
                                 : json::array{};
        REQUIRE(n.at("products").as_array().size() == tagged.size());
        for (std::size_t i = 0; i < tagged.size(); ++i) {
            const auto base = "/products/" + std::to_string(i);
            const auto sku_id = jstr(tagged[i], "/sku_id");
            CHECK(jstr(n, base + "/sku_id") == sku_id);
            // The listing agrees with the sku.
            const auto sku = c.get("/v1/skus/" + sku_id);
            REQUIRE_STATUS(sku, 200);
            CHECK(jint(n, base + "/price/amount") == jint(sku.json(), "/price/amount"));
            CHECK(jint(n, base + "/available") == jint(sku.json(), "/available"));
            REQUIRE_STATUS(c.get("/v1/products/" + jstr(n, base + "/product_id")), 200);
        }
        // A seeded merchant signs in and sees its seeded settings.
        if (!tagged.empty()) {
            const auto product = c.get("/v1/products/" + jstr(n, "/products/0/product_id"));
            const auto merchant_id = jstr(product.json(), "/merchant_id");
            const auto me = c.get("/v1/merchants/me", server.bearer(Role::merchant, merchant_id));
            REQUIRE_STATUS(me, 200);
            CHECK(jstr(me.json(), "/id") == merchant_id);
            CHECK(jstr(me.json(), "/name") != merchant_id);  // the fixture's name, not the default
        }
    }

    TEST_CASE("redloop seed with a bad fixture fails and loads nothing of that file") {
        TempDir dir;
        const auto db = dir.db("bad-seed");
        const auto fixtures = dir.file("fixtures");
        fs::create_directories(fixtures);
        {
            std::ofstream out(fixtures + "/bad.json");
            out << R"({"merchants":[{"id":"mer_badseed","name":"Bad","products":[)"
                   R"({"id":"prd_badseed","title":"Dollar tea","media":[],"skus":[)"
                   R"({"id":"sku_badseed","title":"Tin","price":{"amount":100,"currency":"USD"},"stock":1}]}]}]})";
        }
        const auto r = run_cli({"seed", "--db", db, "--fixtures", fixtures});
        INFO(describe(r));
        CHECK(r.exit_code != 0);
        CHECK(r.err.find("bad.json") != std::string::npos);
        CHECK(db_int(db, "SELECT COUNT(*) FROM merchants") == 0);
        CHECK(db_int(db, "SELECT COUNT(*) FROM products") == 0);

        const auto missing = run_cli({"seed", "--db", db, "--fixtures", dir.file("nope")});
        INFO(describe(missing));
        CHECK(missing.exit_code != 0);
    }

    TEST_CASE("redloop demo-buyers reads the demo notes, buys from them and pays") {
        TempDir dir;
        const auto db = dir.db("demo");
        REQUIRE(run_cli({"seed", "--db", db, "--fixtures", fixtures_dir()}).exit_code == 0);
        ServerOptions options;
        options.db_path = db;
        ServerProcess server(options);

        const auto no_secret = run_cli({"demo-buyers", "--count", "1"});
        CHECK(no_secret.exit_code == 2);
        CHECK(no_secret.err.find("REDLOOP_JWT_SECRET") != std::string::npos);

        const auto r = run_cli({"demo-buyers", "--port", std::to_string(server.port()), "--every",
                                "0", "--count", "12", "--seed", "3"},
                               secret_env());
        INFO(describe(r));
        REQUIRE(r.exit_code == 0);
        // Every order came from a demo note's cart line, with a Chinese shipping name.
        const auto orders = db_int(db, "SELECT COUNT(*) FROM orders");
        CHECK(orders > 0);
        CHECK(db_int(db, "SELECT COUNT(*) FROM order_lines WHERE note_id IS NULL") == 0);
        // The names are sealed at rest; the buyers read them back.
        CHECK(db_int(db, "SELECT COUNT(*) FROM orders WHERE ship_name LIKE 'v1:it1:%'") == orders);
        HttpClient c(server.port());
        std::int64_t named = 0;
        for (const char* user : {"usr_lin", "usr_mei", "usr_chen"}) {
            const auto list = c.get("/v1/orders?limit=100", server.bearer(Role::user, user));
            REQUIRE(list.status == 200);
            const auto body = list.json();
            for (const auto& o : body.at("data").as_array()) {
                const auto name = jstr(o, "/shipping_address/name");
                CHECK((name.find("\u6797") != std::string::npos ||
                       name.find("\u6885") != std::string::npos ||
                       name.find("\u9648") != std::string::npos));
                ++named;
            }
        }
        CHECK(named == orders);
        CHECK(db_int(db, "SELECT COUNT(*) FROM note_sku_stats") > 0);
        // Paid (or declined) through the sandbox's webhook: none left waiting.
        CHECK(eventually(
            [&] {
                return db_int(db,
                              "SELECT COUNT(*) FROM orders WHERE status = "
                              "'awaiting_payment'") == 0;
            },
            std::chrono::seconds(10)));
        CHECK(db_int(db, "SELECT COUNT(*) FROM orders WHERE status = 'paid'") > 0);
    }
}  // TEST_SUITE

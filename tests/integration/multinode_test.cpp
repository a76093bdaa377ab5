// Two `redloop serve` processes on one PostgreSQL database: buyers spread over both race for the
// last units, a merchant subscribed on one node sees an order paid through the other, one
// Idempotency-Key sent to both nodes at once gives one checkout, and both nodes' sweepers expire
// each checkout once.
//
// The test starts a throw-away cluster of its own with scripts/pg-cluster (which installs
// PostgreSQL 15 when it is missing) and stops it at the end; it is never skipped.
// Environment (tests.cmake): REDLOOP_SOURCE_DIR, the repository (for scripts/pg-cluster).
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <soci/soci.h>

#include <atomic>
#include <barrier>
#include <cstdio>
#include <cstdlib>
#include <set>
#include <thread>

#include "redloop/db/database.hpp"
#include "support.hpp"
#include "ws_client.hpp"

using namespace redloop;
using namespace redloop::it;
using api::Role;

namespace {

std::string source_dir() {
    const char* v = std::getenv("REDLOOP_SOURCE_DIR");
    REQUIRE_MESSAGE(v != nullptr, "REDLOOP_SOURCE_DIR is not set (see tests.cmake)");
    return v;
}

// Runs a shell command, returning its stdout; REQUIREs exit status 0.
std::string sh(const std::string& cmd) {
    std::string out;
    FILE* p = ::popen((cmd + " 2>&1").c_str(), "r");
    REQUIRE(p != nullptr);
    char buf[512];
    while (std::fgets(buf, sizeof buf, p)) out += buf;
    const int rc = ::pclose(p);
    INFO("command: ", cmd, "\noutput: ", out);
    REQUIRE(rc == 0);
    while (!out.empty() && (out.back() == '\n' || out.back() == '\r')) out.pop_back();
    return out;
}

// A loopback port nothing listens on, from the range set aside for these clusters.
int free_port() {
    for (int port = 55460; port <= 55469; ++port) {
        const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
        sockaddr_in a{};
        a.sin_family = AF_INET;
        a.sin_port = htons(static_cast<std::uint16_t>(port));
        a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        const bool ok = ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
        ::close(fd);
        if (ok) return port;
    }
    FAIL("no free port in 55460-55469");
    return 0;
}

// A PostgreSQL cluster of the test's own, stopped when the test ends (also when it fails).
class Cluster {
  public:
    Cluster() : port_(free_port()) {
        script_ = source_dir() + "/scripts/pg-cluster";
        sh(script_ + " start " + dir_.file("pg") + " " + std::to_string(port_));
        started_ = true;
    }
    ~Cluster() {
        if (started_)
            std::system((script_ + " stop " + dir_.file("pg") + " >/dev/null 2>&1").c_str());
    }
    Cluster(const Cluster&) = delete;
    Cluster& operator=(const Cluster&) = delete;
    // A fresh database; its URL.
    std::string createdb(const std::string& name) {
        return sh(script_ + " createdb " + std::to_string(port_) + " " + name);
    }

  private:
    TempDir dir_;
    int port_;
    std::string script_;
    bool started_ = false;
};

// One integer from the database (the test's own connection).
std::int64_t pg_int(db::Database& d, const std::string& sql) {
    auto v = d.read([&](db::Tx& tx) -> engine::Result<std::int64_t> {
        long long n = 0;
        soci::indicator ind = soci::i_null;
        tx.sql() << sql, soci::into(n, ind);
        return ind == soci::i_ok ? n : 0;
    });
    INFO("query: ", sql);
    REQUIRE(v.has_value());
    return *v;
}

std::unique_ptr<db::Database> connect(const std::string& url) {
    auto d = db::Database::open(db::DatabaseOptions{url, 1});
    REQUIRE_MESSAGE(d.has_value(), (d ? "" : d.error().detail));
    return std::move(*d);
}

ServerOptions node(const std::string& url, std::vector<std::string> extra = {}) {
    ServerOptions o;
    o.db_path = url;
    o.extra_args = {"--db-pool", "8", "--workers", "16", "--checkout-rate-per-minute", "0"};
    o.extra_args.insert(o.extra_args.end(), extra.begin(), extra.end());
    return o;
}

std::string bare(const std::string& auth) {
    return auth.substr(std::string("Bearer ").size());
}

HttpResponse put_line(HttpClient& c, const Actor& u, const std::string& sku, int quantity) {
    return c.request("PUT", "/v1/cart/items/" + sku,
                     R"({"quantity":)" + std::to_string(quantity) + "}",
                     {{"Authorization", u.auth}, {"Content-Type", "application/json"}});
}

HttpResponse checkout(HttpClient& c, const Actor& u, const std::string& key) {
    return c.post("/v1/checkouts", kAddressBody, u.auth, {{"Idempotency-Key", key}});
}

// Runs fn(i, client) on n threads, thread i with a client of nodes[i % 2] already connected,
// released at once.
void race_over(const std::vector<const ServerProcess*>& nodes, int n,
               const std::function<void(int, HttpClient&)>& fn) {
    std::barrier start(n);
    std::vector<std::thread> threads;
    for (int i = 0; i < n; ++i) {
        threads.emplace_back([&, i] {
            HttpClient c(nodes[static_cast<std::size_t>(i) % nodes.size()]->port());
            c.get("/healthz");
            start.arrive_and_wait();
            fn(i, c);
        });
    }
    for (auto& t : threads) t.join();
}

}  // namespace

TEST_SUITE("integration_multinode") {
    TEST_CASE("two nodes on one PostgreSQL: a race for 10 units, live events across nodes") {
        Cluster cluster;
        const auto url = cluster.createdb("redloop_multinode");
        ServerProcess a(node(url));
        ServerProcess b(node(url));
        HttpClient ca(a.port()), cb(b.port());
        for (auto* c : {&ca, &cb}) {
            const auto ready = c->get("/readyz");
            REQUIRE_STATUS(ready, 200);
            CHECK(jstr(ready.json(), "/status") == "ready");
        }
        const auto m = new_merchant(a);
        const auto p =
            create_product(ca, m.auth, "Last units", {{"scarce", 2500, 10}, {"plenty", 900, 1000}});
        const auto scarce = jstr(p, "/skus/0/id");
        const auto plenty = jstr(p, "/skus/1/id");

        // the merchant watches its orders on node B
        WsClient shop(b.port(), "/v1/stream?access_token=" + bare(m.auth));
        shop.subscribe("orders");
        shop.expect_type("subscribed");

        // 60 buyers, each with one unit in the cart (put through either node), race on both
        constexpr int kBuyers = 60;
        std::vector<Actor> buyers;
        for (int i = 0; i < kBuyers; ++i) {
            buyers.push_back(new_user(a));
            auto& c = i % 2 ? cb : ca;
            REQUIRE_STATUS(put_line(c, buyers.back(), scarce, 1), 200);
        }
        std::atomic<int> created{0}, sold_out{0}, other{0};
        std::mutex mutex;
        std::vector<std::string> payments, others;
        std::set<std::string> nodes_that_sold;
        race_over({&a, &b}, kBuyers, [&](int i, HttpClient& c) {
            const auto r =
                checkout(c, buyers[static_cast<std::size_t>(i)], "race-" + std::to_string(i));
            std::lock_guard lock(mutex);
            if (r.status == 201) {
                ++created;
                payments.push_back(jstr(r.json(), "/payment/id") + " " + std::to_string(i));
                nodes_that_sold.insert(i % 2 ? "b" : "a");
            } else if (r.status == 409 && problem_code(r) == "out_of_stock") {
                ++sold_out;
            } else {
                ++other;
                others.push_back(std::to_string(r.status) + " " + r.body);
            }
        });
        INFO("unexpected answers: ", others.size() ? others.front() : "");
        CHECK(created.load() == 10);
        CHECK(sold_out.load() == kBuyers - 10);
        CHECK(other.load() == 0);

        auto check = connect(url);
        CHECK(pg_int(*check, "SELECT COUNT(*) FROM orders") == 10);
        CHECK(pg_int(*check, "SELECT reserved FROM skus WHERE id = '" + scarce + "'") == 10);
        CHECK(pg_int(*check, "SELECT on_hand FROM skus WHERE id = '" + scarce + "'") == 10);
        CHECK(
            pg_int(*check, "SELECT COALESCE(SUM(quantity), 0) FROM reservations WHERE sku_id = '" +
                               scarce + "' AND state = 'held'") == 10);
        CHECK(pg_int(*check,
                     "SELECT COALESCE(SUM(on_hand_delta), 0) FROM inventory_ledger WHERE "
                     "sku_id = '" +
                         scarce + "'") == 10);
        CHECK(pg_int(*check,
                     "SELECT COALESCE(SUM(reserved_delta), 0) FROM inventory_ledger WHERE "
                     "sku_id = '" +
                         scarce + "'") == 10);
        // the journal holds one entry per checkout that committed, in commit order, and every
        // entry's events too: seq never goes back within the log
        CHECK(pg_int(*check,
                     "SELECT COUNT(*) FROM journal WHERE method = 'POST' AND target = "
                     "'/v1/checkouts' AND status = 201") == 10);

        // one order paid through node A: the merchant on node B hears of it
        REQUIRE(!payments.empty());
        const auto first = payments.front();
        const auto payment = first.substr(0, first.find(' '));
        const auto buyer =
            buyers[static_cast<std::size_t>(std::stoi(first.substr(first.find(' ') + 1)))];
        REQUIRE_STATUS(ca.post("/v1/payments/" + payment + "/confirm", kGoodCard, buyer.auth), 200);
        const auto paid = shop.expect_type("order.paid", std::chrono::seconds(10));
        CHECK(jstr(paid, "/data/status") == "paid");
        CHECK(jstr(paid, "/data/user_id") == buyer.id);
        CHECK(pg_int(*check, "SELECT COUNT(*) FROM orders WHERE status = 'paid'") == 1);
        const auto metrics_b = cb.get("/metrics").body;
        CHECK(metric_value(metrics_b, "redloop_ws_notifications_total").value_or(0) > 0);

        // one Idempotency-Key sent to both nodes at once: one checkout, the same answer twice
        const auto twice = new_user(a);
        REQUIRE_STATUS(put_line(ca, twice, plenty, 2), 200);
        std::vector<HttpResponse> answers(2);
        race_over({&a, &b}, 2, [&](int i, HttpClient& c) {
            answers[static_cast<std::size_t>(i)] = checkout(c, twice, "same-key");
        });
        REQUIRE_STATUS(answers[0], 201);
        REQUIRE_STATUS(answers[1], 201);
        CHECK(answers[0].body == answers[1].body);
        CHECK(pg_int(*check, "SELECT COUNT(*) FROM checkouts WHERE user_id = '" + twice.id + "'") ==
              1);
        CHECK(pg_int(*check, "SELECT reserved FROM skus WHERE id = '" + plenty + "'") == 2);
    }

    TEST_CASE("two nodes' sweepers expire each checkout once") {
        Cluster cluster;
        const auto url = cluster.createdb("redloop_sweep");
        ServerProcess a(node(url, {"--checkout-ttl", "1"}));
        ServerProcess b(node(url, {"--checkout-ttl", "1"}));
        HttpClient ca(a.port()), cb(b.port());
        const auto m = new_merchant(a);
        const auto p = create_product(ca, m.auth, "Held", {{"held", 500, 100}});
        const auto sku = jstr(p, "/skus/0/id");
        constexpr int kCheckouts = 20;
        for (int i = 0; i < kCheckouts; ++i) {
            const auto u = new_user(a);
            auto& c = i % 2 ? cb : ca;
            REQUIRE_STATUS(put_line(c, u, sku, 1), 200);
            REQUIRE_STATUS(checkout(c, u, "sweep-" + std::to_string(i)), 201);
        }
        auto check = connect(url);
        CHECK(eventually(
            [&] {
                return pg_int(*check, "SELECT COUNT(*) FROM checkouts WHERE status = 'expired'") ==
                       kCheckouts;
            },
            std::chrono::seconds(20)));
        CHECK(pg_int(*check, "SELECT COUNT(*) FROM journal WHERE kind = 'expire'") == kCheckouts);
        CHECK(pg_int(*check, "SELECT COUNT(*) FROM events WHERE type = 'order.expired'") ==
              kCheckouts);
        CHECK(pg_int(*check, "SELECT reserved FROM skus WHERE id = '" + sku + "'") == 0);
        // neither node logged a failed expiry (a lost race would be "could not expire")
        CHECK(a.log(200000).find("could not expire") == std::string::npos);
        CHECK(b.log(200000).find("could not expire") == std::string::npos);
    }
}

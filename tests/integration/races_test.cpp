// The race suite (issue 11): many clients at once on the real server, on SQLite and (as
// pg_integration_races) on PostgreSQL. Each case counts what the race may produce and checks
// the database agrees with every answer given.
#include <algorithm>
#include <atomic>
#include <map>
#include <mutex>
#include <random>
#include <thread>

#include "support.hpp"

using namespace redloop;
using namespace redloop::it;

namespace {

// No per-user checkout rate limit: these cases send many checkouts per user on purpose.
ServerOptions race_server(std::vector<std::string> args = {}) {
    ServerOptions o;
    o.threads = 4;
    // On PostgreSQL the writers take turns: a request may wait its turn for a connection.
    o.extra_args = {"--checkout-rate-per-minute", "0", "--db-pool-timeout-ms", "60000"};
    o.extra_args.insert(o.extra_args.end(), args.begin(), args.end());
    return o;
}

std::string checkout_status(HttpClient& c, const Actor& u, const std::string& id) {
    return jstr(c.get("/v1/checkouts/" + id, u.auth).json(), "/status");
}

}  // namespace

TEST_SUITE("integration_races") {
    TEST_CASE("200 buyers, quantities 1..3, on the last 10 units, three rounds: never oversold") {
        ServerProcess server(race_server());
        HttpClient setup(server.port());
        const auto m = new_merchant(server);
        constexpr int kBuyers = 200;
        constexpr std::int64_t kUnits = 10;
        std::mt19937 rng(20261129);
        for (int round = 0; round < 3; ++round) {
            INFO("round ", round);
            const auto sku =
                jstr(create_product(setup, m.auth, "Last units " + std::to_string(round),
                                    {{"one", 9900, kUnits}}),
                     "/skus/0/id");
            std::vector<Actor> buyers;
            std::vector<std::int64_t> qty;
            for (int i = 0; i < kBuyers; ++i) {
                buyers.push_back(new_user(server));
                qty.push_back(1 + static_cast<std::int64_t>(rng() % 3));
                REQUIRE_STATUS(put_cart_line(setup, buyers.back(), sku, qty.back()), 200);
            }
            std::vector<int> status(kBuyers, 0);
            std::vector<std::string> code(kBuyers), checkout_id(kBuyers);
            race(server, kBuyers, [&](int i, HttpClient& c) {
                const auto r = post_checkout(c, buyers[i], "last-" + std::to_string(i));
                status[i] = r.status;
                if (r.status == 201) {
                    checkout_id[i] = jstr(r.json(), "/id");
                } else {
                    code[i] = problem_code(r);
                }
            });
            std::int64_t sold = 0, smallest_refused = 4;
            int created = 0;
            for (int i = 0; i < kBuyers; ++i) {
                INFO("buyer ", i, " quantity ", qty[i], " status ", status[i], " ", code[i]);
                if (status[i] == 201) {
                    ++created;
                    sold += qty[i];
                    CHECK(db_int(server, "SELECT COUNT(*) FROM orders WHERE checkout_id = ?1",
                                 {checkout_id[i]}) == 1);
                } else {
                    CHECK(status[i] == 409);
                    CHECK(code[i] == "out_of_stock");
                    smallest_refused = std::min(smallest_refused, qty[i]);
                }
            }
            // Never more than the stock; and no buyer was refused while its quantity was still
            // there (what is left at the end is less than every refused quantity).
            CHECK(sold <= kUnits);
            CHECK(kUnits - sold < smallest_refused);
            CHECK(created >= 4);  // at most 3 units each
            CHECK(db_int(server,
                         "SELECT COALESCE(SUM(quantity), 0) FROM reservations WHERE sku_id = ?1 "
                         "AND state = 'held'",
                         {sku}) == sold);
            const auto inv = setup.get("/v1/skus/" + sku + "/inventory", m.auth).json();
            CHECK(jint(inv, "/reserved") == sold);
            CHECK(jint(inv, "/available") == kUnits - sold);
            CHECK(db_int(server,
                         "SELECT COUNT(*) FROM orders o JOIN order_lines l ON l.order_id = o.id "
                         "WHERE l.sku_id = ?1",
                         {sku}) == created);
            check_stock_invariants(server, sku);
        }
    }

    TEST_CASE("100 requests with one Idempotency-Key: one checkout, 100 identical answers") {
        ServerProcess server(race_server());
        HttpClient setup(server.port());
        const auto m = new_merchant(server);
        const auto buyer = new_user(server);
        const auto sku =
            jstr(create_product(setup, m.auth, "Once", {{"one", 4200, 50}}), "/skus/0/id");
        REQUIRE_STATUS(put_cart_line(setup, buyer, sku, 2), 200);
        constexpr int kRequests = 100;
        std::vector<HttpResponse> answers(kRequests);
        race(server, kRequests,
             [&](int i, HttpClient& c) { answers[i] = post_checkout(c, buyer, "one-key"); });
        REQUIRE_STATUS(answers[0], 201);
        for (int i = 1; i < kRequests; ++i) {
            INFO("answer ", i);
            CHECK(answers[i].status == answers[0].status);
            CHECK(answers[i].body == answers[0].body);
        }
        CHECK(db_int(server, "SELECT COUNT(*) FROM checkouts WHERE user_id = ?1", {buyer.id}) == 1);
        CHECK(db_int(server, "SELECT COUNT(*) FROM orders WHERE user_id = ?1", {buyer.id}) == 1);
        CHECK(db_int(server, "SELECT COUNT(*) FROM payments") == 1);
        CHECK(db_int(server, "SELECT reserved FROM skus WHERE id = ?1", {sku}) == 2);
        CHECK(db_int(server,
                     "SELECT COUNT(*) FROM journal WHERE kind = 'http' AND target = "
                     "'/v1/checkouts' AND actor = ?1",
                     {buyer.id}) == 1);
        check_stock_invariants(server, sku);
    }

    TEST_CASE("payment successes racing the expiry sweeper: exactly one winner each") {
        // The checkouts live 1 s and the sweeper runs every 500 ms, so each expires between
        // 1.0 and 1.5 s after it was made. Each is confirmed 0-600 ms after it was made and the
        // sandbox's success follows 1 s after the confirm: at 1.0-1.6 s, on both sides of its
        // expiry.
        ServerProcess server(
            race_server({"--checkout-ttl", "1", "--sandbox-webhook-delay", "1000"}));
        HttpClient setup(server.port());
        const auto m = new_merchant(server);
        constexpr int kCheckouts = 24;
        constexpr std::int64_t kPrice = 3000;
        const auto sku =
            jstr(create_product(setup, m.auth, "Racing the clock", {{"one", kPrice, kCheckouts}}),
                 "/skus/0/id");
        struct Buy {
            Actor buyer;
            std::string checkout, payment, order;
            std::chrono::steady_clock::time_point created;
        };
        std::vector<Buy> buys;
        for (int i = 0; i < kCheckouts; ++i) {
            Buy b{new_user(server), "", "", "", {}};
            REQUIRE_STATUS(put_cart_line(setup, b.buyer, sku, 1), 200);
            buys.push_back(b);
        }
        std::vector<int> delay_ms(kCheckouts);
        std::mt19937 rng(1129);
        for (auto& d : delay_ms) d = static_cast<int>(rng() % 600);
        std::vector<int> made(kCheckouts, 0), confirmed(kCheckouts, 0);
        race(server, kCheckouts, [&](int i, HttpClient& c) {
            auto& b = buys[i];
            const auto r = post_checkout(c, b.buyer, "clock-" + std::to_string(i));
            b.created = std::chrono::steady_clock::now();
            made[i] = r.status;
            if (r.status != 201) return;
            const auto chk = r.json();
            b.checkout = jstr(chk, "/id");
            b.payment = jstr(chk, "/payment/id");
            b.order = jstr(chk, "/orders/0/id");
            std::this_thread::sleep_until(b.created + std::chrono::milliseconds(delay_ms[i]));
            confirmed[i] =
                c.post("/v1/payments/" + b.payment + "/confirm", kGoodCard, b.buyer.auth).status;
        });
        int paid = 0, expired = 0, expired_unpaid = 0;
        for (int i = 0; i < kCheckouts; ++i) {
            const auto& b = buys[i];
            INFO("checkout ", i, " confirmed after ", delay_ms[i], " ms: ", confirmed[i]);
            REQUIRE(made[i] == 201);
            // A slow database may let a checkout expire before its confirm is taken: then the
            // confirm is refused and nothing is charged (the sweeper won outright).
            CHECK((confirmed[i] == 200 || confirmed[i] == 409));
            // Let the sweeper, the success and the automatic refund of a late success settle:
            // paid, or expired with the payment refunded.
            REQUIRE(eventually(
                [&] {
                    const auto p = jstr(setup.get("/v1/payments/" + b.payment, b.buyer.auth).json(),
                                        "/status");
                    const auto o =
                        jstr(setup.get("/v1/orders/" + b.order, b.buyer.auth).json(), "/status");
                    return (p == "succeeded" && o == "paid") ||
                           (p == "refunded" && o == "expired") ||
                           (confirmed[i] == 409 && p == "cancelled" && o == "expired");
                },
                std::chrono::seconds(15)));
            const auto payment =
                jstr(setup.get("/v1/payments/" + b.payment, b.buyer.auth).json(), "/status");
            const auto chk = checkout_status(setup, b.buyer, b.checkout);
            const auto order =
                jstr(setup.get("/v1/orders/" + b.order, b.buyer.auth).json(), "/status");
            INFO("payment ", payment, " checkout ", chk, " order ", order);
            if (payment == "succeeded") {
                ++paid;
                CHECK(order == "paid");
                CHECK(chk != "expired");
                CHECK(db_int(server,
                             "SELECT COUNT(*) FROM reservations WHERE order_id = ?1 AND state = "
                             "'sold'",
                             {b.order}) == 1);
            } else if (payment == "cancelled") {
                ++expired_unpaid;
                CHECK(confirmed[i] == 409);
                CHECK(chk == "expired");
                CHECK(order == "expired");
                CHECK(db_int(server, "SELECT COUNT(*) FROM refunds WHERE payment_id = ?1",
                             {b.payment}) == 0);
            } else {
                ++expired;
                CHECK(chk == "expired");
                CHECK(order == "expired");
                CHECK(db_int(server,
                             "SELECT COUNT(*) FROM refunds WHERE payment_id = ?1 AND status = "
                             "'succeeded'",
                             {b.payment}) == 1);
                CHECK(db_int(server,
                             "SELECT COALESCE(SUM(amount_minor), 0) FROM refunds WHERE "
                             "payment_id = ?1 AND status = 'succeeded'",
                             {b.payment}) == kPrice);
            }
        }
        MESSAGE("paid ", paid, ", expired and refunded ", expired, ", expired before the confirm ",
                expired_unpaid);
        CHECK(paid + expired + expired_unpaid == kCheckouts);
        // Every sale took its unit once; every expiry gave it back.
        CHECK(db_int(server, "SELECT on_hand FROM skus WHERE id = ?1", {sku}) == kCheckouts - paid);
        CHECK(db_int(server, "SELECT reserved FROM skus WHERE id = ?1", {sku}) == 0);
        check_stock_invariants(server, sku);
    }

    TEST_CASE("30 concurrent refunds never exceed the order's total") {
        ServerProcess server(race_server());
        HttpClient setup(server.port());
        const auto m = new_merchant(server);
        const auto buyer = new_user(server);
        const auto sku =
            jstr(create_product(setup, m.auth, "Refund me", {{"one", 5000, 10}}), "/skus/0/id");
        REQUIRE_STATUS(put_cart_line(setup, buyer, sku, 2), 200);  // total 10000, no shipping fee
        const auto r = post_checkout(setup, buyer, "to-refund");
        REQUIRE_STATUS(r, 201);
        const auto chk = r.json();
        const auto payment = jstr(chk, "/payment/id");
        const auto order = jstr(chk, "/orders/0/id");
        const auto total = jint(chk, "/orders/0/total/amount");
        REQUIRE_STATUS(setup.post("/v1/payments/" + payment + "/confirm", kGoodCard, buyer.auth),
                       200);
        REQUIRE(eventually(
            [&] {
                return jstr(setup.get("/v1/orders/" + order, buyer.auth).json(), "/status") ==
                       "paid";
            },
            std::chrono::seconds(8)));
        constexpr int kRefunds = 30;
        constexpr std::int64_t kPart = 3000;
        std::atomic<int> accepted{0}, refused{0}, other{0};
        std::mutex mu;
        std::vector<std::string> unexpected;
        race(server, kRefunds, [&](int i, HttpClient& c) {
            const auto resp = c.post("/v1/orders/" + order + "/refunds",
                                     R"({"amount":{"amount":)" + std::to_string(kPart) +
                                         R"(,"currency":"CNY"},"reason":"race"})",
                                     m.auth, {{"Idempotency-Key", "refund-" + std::to_string(i)}});
            if (resp.status == 201 || resp.status == 202) {
                ++accepted;
            } else if (resp.status == 409) {
                ++refused;
            } else {
                ++other;
                std::lock_guard lock(mu);
                unexpected.push_back(std::to_string(resp.status) + " " + resp.body);
            }
        });
        INFO("unexpected: ", unexpected.empty() ? "" : unexpected.front());
        CHECK(other.load() == 0);
        CHECK(accepted.load() == static_cast<int>(total / kPart));
        CHECK(refused.load() == kRefunds - accepted.load());
        REQUIRE(eventually(
            [&] {
                return db_int(server,
                              "SELECT COUNT(*) FROM refunds WHERE order_id = ?1 AND status = "
                              "'succeeded'",
                              {order}) == accepted.load();
            },
            std::chrono::seconds(10)));
        const auto refunded =
            db_int(server, "SELECT refunded_minor FROM orders WHERE id = ?1", {order});
        CHECK(refunded == accepted.load() * kPart);
        CHECK(refunded <= total);
        CHECK(db_int(server,
                     "SELECT COALESCE(SUM(amount_minor), 0) FROM refunds WHERE order_id = ?1",
                     {order}) <= total);
        const auto p = setup.get("/v1/payments/" + payment, buyer.auth).json();
        CHECK(jint(p, "/refunded_amount/amount") == refunded);
    }
}

// Flash-sale protection on the real server: per-user limits of a SKU (cart and checkout, also
// under concurrency), the per-user rate limit of POST /v1/checkouts, and the one-time extension
// of a checkout's reservation.
#include <atomic>
#include <fstream>
#include <mutex>
#include <thread>

#include "support.hpp"

using namespace redloop;
using namespace redloop::it;
using api::Role;

namespace {

// A product with one SKU of `stock` units limited to `limit` per buyer (none: no limit);
// returns the SKU's id.
std::string limited_sku(HttpClient& c, const Actor& merchant, std::int64_t stock,
                        std::optional<std::int64_t> limit) {
    auto body = product_json("Drop", {{"limited", 9900, stock}});
    if (limit) body["skus"].as_array()[0].as_object()["per_user_limit"] = *limit;
    const auto r = c.post("/v1/products", to_json(body), merchant.auth);
    REQUIRE_STATUS(r, 201);
    return jstr(r.json(), "/skus/0/id");
}

HttpResponse extend(HttpClient& c, const std::string& auth, const std::string& checkout_id,
                    Headers headers = {}) {
    return c.post("/v1/checkouts/" + checkout_id + "/extend", "", auth, std::move(headers));
}

std::int64_t reserved_of(const ServerProcess& s, const std::string& sku) {
    return db_int(s, "SELECT reserved FROM skus WHERE id = ?1", {sku});
}

// Units of the SKU in the user's orders that count against the limit, read from the database.
std::int64_t units_held(const ServerProcess& s, const Actor& u, const std::string& sku) {
    return db_int(s,
                  "SELECT COALESCE(SUM(l.quantity), 0) FROM orders o JOIN order_lines l ON "
                  "l.order_id = o.id WHERE o.user_id = ?1 AND l.sku_id = ?2 AND o.status IN "
                  "('awaiting_payment', 'paid', 'shipped', 'delivered', 'completed')",
                  {u.id, sku});
}

std::int64_t cart_quantity(HttpClient& c, const Actor& u) {
    const auto cart = c.get("/v1/cart", u.auth).json();
    const auto& items = cart.at_pointer("/items").as_array();
    return items.empty() ? 0 : jint(items[0], "/quantity");
}

bool contains(const std::string& text, const std::string& part) {
    return text.find(part) != std::string::npos;
}

}  // namespace

TEST_SUITE("integration_flash_sale") {
    TEST_CASE("per_user_limit: set at create, shown on the sku, patched and cleared, validated") {
        ServerProcess server;
        HttpClient c(server.port());
        const auto m = new_merchant(server);
        auto body = product_json("Drop", {{"limited", 9900, 5}, {"free", 100, 5}});
        body["skus"].as_array()[0].as_object()["per_user_limit"] = 2;
        body["skus"].as_array()[1].as_object()["per_user_limit"] = nullptr;
        const auto created = c.post("/v1/products", to_json(body), m.auth);
        REQUIRE_STATUS(created, 201);
        CHECK(jint(created.json(), "/skus/0/per_user_limit") == 2);
        CHECK(jnull(created.json(), "/skus/1/per_user_limit"));
        const auto sku = jstr(created.json(), "/skus/0/id");
        CHECK(jint(c.get("/v1/skus/" + sku).json(), "/per_user_limit") == 2);
        CHECK(jint(c.get("/v1/products/" + jstr(created.json(), "/id")).json(),
                   "/skus/0/per_user_limit") == 2);

        for (const char* bad : {R"({"per_user_limit":0})", R"({"per_user_limit":1000})",
                                R"({"per_user_limit":"2"})", R"({"per_user_limit":1.5})"}) {
            INFO(bad);
            const auto r = c.patch("/v1/skus/" + sku, bad, m.auth);
            CHECK_PROBLEM(r, 400, "invalid_request");
            CHECK(contains(r.body, "per_user_limit"));
        }
        auto bad_create = product_json("Bad", {{"x", 100, 1}});
        bad_create["skus"].as_array()[0].as_object()["per_user_limit"] = -1;
        CHECK_PROBLEM(c.post("/v1/products", to_json(bad_create), m.auth), 400, "invalid_request");
        CHECK(jint(c.get("/v1/skus/" + sku).json(), "/per_user_limit") == 2);

        const auto raised = c.patch("/v1/skus/" + sku, R"({"per_user_limit":999})", m.auth);
        REQUIRE_STATUS(raised, 200);
        CHECK(jint(raised.json(), "/per_user_limit") == 999);
        // a patch without the field keeps it
        REQUIRE_STATUS(c.patch("/v1/skus/" + sku, R"({"title":"renamed"})", m.auth), 200);
        CHECK(jint(c.get("/v1/skus/" + sku).json(), "/per_user_limit") == 999);
        const auto cleared = c.patch("/v1/skus/" + sku, R"({"per_user_limit":null})", m.auth);
        REQUIRE_STATUS(cleared, 200);
        CHECK(jnull(cleared.json(), "/per_user_limit"));
        CHECK(db_int(server, "SELECT COUNT(*) FROM skus WHERE id = ?1 AND per_user_limit IS NULL",
                     {sku}) == 1);
        // another merchant can't
        CHECK_PROBLEM(
            c.patch("/v1/skus/" + sku, R"({"per_user_limit":1})", new_merchant(server).auth), 404,
            "not_found");
    }

    TEST_CASE("over the limit: the cart refuses early, the checkout refuses and reserves nothing") {
        ServerProcess server;
        HttpClient c(server.port());
        const auto m = new_merchant(server);
        const auto buyer = new_user(server);
        const auto sku = limited_sku(c, m, 50, 3);

        // the cart: a quantity above the limit is 409 conflict naming sku, limit and allowance
        const auto too_many = put_cart_line(c, buyer, sku, 4);
        CHECK_PROBLEM(too_many, 409, "conflict");
        CHECK(contains(too_many.body, sku));
        CHECK(contains(too_many.body, "limited to 3 per buyer"));
        CHECK(contains(too_many.body, "may buy 3 more"));
        CHECK(cart_quantity(c, buyer) == 0);

        // buy 1, then 2 more fit in the cart
        REQUIRE_STATUS(put_cart_line(c, buyer, sku, 1), 200);
        const auto first = post_checkout(c, buyer, "fs-1");
        REQUIRE_STATUS(first, 201);
        CHECK(reserved_of(server, sku) == 1);
        CHECK_PROBLEM(put_cart_line(c, buyer, sku, 3), 409, "conflict");
        REQUIRE_STATUS(put_cart_line(c, buyer, sku, 2), 200);

        // the merchant lowers the limit to 2 while the line waits in the cart: the checkout
        // refuses with 409, names the sku, the limit and what is left, and changes nothing
        REQUIRE_STATUS(c.patch("/v1/skus/" + sku, R"({"per_user_limit":2})", m.auth), 200);
        const auto refused = post_checkout(c, buyer, "fs-2");
        CHECK_PROBLEM(refused, 409, "conflict");
        CHECK(contains(refused.body, sku));
        CHECK(contains(refused.body, "limited to 2 per buyer"));
        CHECK(contains(refused.body, "may buy 1 more, not 2"));
        CHECK(reserved_of(server, sku) == 1);
        CHECK(units_held(server, buyer, sku) == 1);
        CHECK(db_int(server, "SELECT COUNT(*) FROM checkouts WHERE user_id = ?1", {buyer.id}) == 1);
        CHECK(cart_quantity(c, buyer) == 2);  // the cart is kept for the buyer to fix
        // the refusal is the key's answer: a retry with the same key gets it again
        const auto retried = post_checkout(c, buyer, "fs-2");
        CHECK(retried.status == 409);
        CHECK(retried.body == refused.body);

        // cancelling the first order frees its unit: now 2 fit
        const auto order = jstr(first.json(), "/orders/0/id");
        REQUIRE_STATUS(c.post("/v1/orders/" + order + "/cancel", "", buyer.auth), 200);
        CHECK(units_held(server, buyer, sku) == 0);
        const auto second = post_checkout(c, buyer, "fs-3");
        REQUIRE_STATUS(second, 201);
        CHECK(reserved_of(server, sku) == 2);
        CHECK(units_held(server, buyer, sku) == 2);
        const auto none_left = put_cart_line(c, buyer, sku, 1);
        CHECK_PROBLEM(none_left, 409, "conflict");
        CHECK(contains(none_left.body, "may buy 0 more"));

        // the limit is per buyer: another user buys as usual
        const auto other = new_user(server);
        REQUIRE_STATUS(put_cart_line(c, other, sku, 2), 200);
        REQUIRE_STATUS(post_checkout(c, other, "fs-other"), 201);
        CHECK(reserved_of(server, sku) == 4);
    }

    TEST_CASE("paid orders count against the limit; an expired checkout frees the allowance") {
        ServerProcess server(with_args({"--checkout-ttl", "1"}));
        HttpClient c(server.port());
        const auto m = new_merchant(server);
        const auto buyer = new_user(server);
        const auto sku = limited_sku(c, m, 50, 2);

        // one unit bought and paid
        REQUIRE_STATUS(put_cart_line(c, buyer, sku, 1), 200);
        const auto paid = post_checkout(c, buyer, "ex-1");
        REQUIRE_STATUS(paid, 201);
        pay_checkout(c, buyer, paid.json());
        CHECK(units_held(server, buyer, sku) == 1);

        // one more, left unpaid until it expires
        REQUIRE_STATUS(put_cart_line(c, buyer, sku, 1), 200);
        const auto unpaid = post_checkout(c, buyer, "ex-2");
        REQUIRE_STATUS(unpaid, 201);
        CHECK_PROBLEM(put_cart_line(c, buyer, sku, 1), 409, "conflict");
        const auto id = jstr(unpaid.json(), "/id");
        REQUIRE(eventually(
            [&] {
                return jstr(c.get("/v1/checkouts/" + id, buyer.auth).json(), "/status") ==
                       "expired";
            },
            std::chrono::seconds(5)));
        CHECK(units_held(server, buyer, sku) == 1);
        REQUIRE_STATUS(put_cart_line(c, buyer, sku, 1), 200);
        REQUIRE_STATUS(post_checkout(c, buyer, "ex-3"), 201);
        CHECK(units_held(server, buyer, sku) == 2);
    }

    TEST_CASE("one buyer racing many checkouts never gets more than the limit") {
        // Rate limit off, so every attempt reaches the check (the default would refuse the
        // burst's tail with 429 first).
        ServerOptions opts = with_args({"--checkout-rate-per-minute", "0"});
        opts.threads = 4;
        ServerProcess server(opts);
        HttpClient c(server.port());
        const auto m = new_merchant(server);
        const auto buyer = new_user(server);
        const auto sku = limited_sku(c, m, 100, std::nullopt);
        constexpr int kClients = 20;

        // Before the sale: 2 units bought while the SKU had no limit, and 1 more waiting in the
        // cart. Then the limit of 2 is set and 20 clients check the cart out at once: the cart
        // was filled before the limit, so only the checkout's own check can refuse them.
        REQUIRE_STATUS(put_cart_line(c, buyer, sku, 2), 200);
        const auto early = post_checkout(c, buyer, "early");
        REQUIRE_STATUS(early, 201);
        REQUIRE_STATUS(put_cart_line(c, buyer, sku, 1), 200);
        REQUIRE_STATUS(c.patch("/v1/skus/" + sku, R"({"per_user_limit":2})", m.auth), 200);
        {
            std::atomic<bool> start{false};
            std::atomic<int> refused_by_limit{0};
            std::vector<std::thread> burst;
            for (int i = 0; i < kClients; ++i) {
                burst.emplace_back([&, i] {
                    HttpClient own(server.port());
                    while (!start.load()) std::this_thread::yield();
                    const auto r = post_checkout(own, buyer, "burst-" + std::to_string(i));
                    if (r.status == 409 && contains(r.body, "limited to 2")) ++refused_by_limit;
                });
            }
            start = true;
            for (auto& t : burst) t.join();
            CHECK(refused_by_limit.load() == kClients);
            CHECK(units_held(server, buyer, sku) == 2);
            CHECK(reserved_of(server, sku) == 2);
            CHECK(cart_quantity(c, buyer) == 1);
        }
        // The sale proper: the early order is cancelled (its 2 units are free again) ...
        REQUIRE_STATUS(
            c.post("/v1/orders/" + jstr(early.json(), "/orders/0/id") + "/cancel", "", buyer.auth),
            200);
        REQUIRE(units_held(server, buyer, sku) == 0);

        // ... and 20 clients of the same buyer each put 1 in the (shared) cart and check out,
        // three rounds each, all at once.
        std::atomic<int> created{0}, limit_refusals{0}, other{0};
        std::mutex mutex;
        std::vector<std::string> unexpected;
        race(server, kClients, [&](int i, HttpClient& own) {
            for (int round = 0; round < 3; ++round) {
                const auto put = put_cart_line(own, buyer, sku, 1);
                if (put.status == 409 && contains(put.body, "limited to 2")) ++limit_refusals;
                const auto r = post_checkout(
                    own, buyer, "race-" + std::to_string(i) + "-" + std::to_string(round));
                if (r.status == 201) {
                    ++created;
                } else if (r.status == 409 && contains(r.body, "limited to 2")) {
                    ++limit_refusals;
                } else if (r.status == 409 && contains(r.body, "cart is empty")) {
                    ++other;  // another client's checkout took the line first
                } else {
                    std::lock_guard lock(mutex);
                    unexpected.push_back(std::to_string(r.status) + " " + r.body);
                }
            }
        });
        INFO("unexpected answers: ", unexpected.size(), unexpected.empty() ? "" : unexpected[0]);
        CHECK(unexpected.empty());
        // each checkout buys the 1 unit in the cart: exactly two can succeed
        CHECK(created.load() == 2);
        CHECK(limit_refusals.load() > 0);
        CHECK(units_held(server, buyer, sku) == 2);
        CHECK(reserved_of(server, sku) == 2);
        CHECK(db_int(server,
                     "SELECT COALESCE(SUM(quantity), 0) FROM reservations WHERE sku_id = ?1 "
                     "AND state = 'held'",
                     {sku}) == 2);
    }

    TEST_CASE("checkout rate limit: 429 with Retry-After past the burst, per user, nothing kept") {
        ServerProcess server(
            with_args({"--checkout-rate-per-minute", "60", "--checkout-burst", "3"}));
        HttpClient c(server.port());
        const auto m = new_merchant(server);
        const auto buyer = new_user(server);
        const auto other = new_user(server);
        const auto sku = limited_sku(c, m, 100, std::nullopt);

        // three attempts pass (one buys, two find the cart empty), the fourth is limited
        REQUIRE_STATUS(put_cart_line(c, buyer, sku, 1), 200);
        const auto first = post_checkout(c, buyer, "rl-1");
        REQUIRE_STATUS(first, 201);
        const auto second = post_checkout(c, buyer, "rl-2");
        CHECK_PROBLEM(second, 409, "conflict");
        CHECK_PROBLEM(post_checkout(c, buyer, "rl-3"), 409, "conflict");
        REQUIRE_STATUS(put_cart_line(c, buyer, sku, 1), 200);
        const auto limited = post_checkout(c, buyer, "rl-4");
        CHECK_PROBLEM(limited, 429, "rate_limited");
        REQUIRE(limited.has_header("Retry-After"));
        const auto retry_after = std::stoll(limited.header("Retry-After"));
        CHECK(retry_after >= 1);
        CHECK(retry_after <= 60);
        CHECK(contains(limited.body, "60 a minute"));
        // nothing happened: no checkout, no reservation, no stored key, no journal entry
        CHECK(reserved_of(server, sku) == 1);
        CHECK(cart_quantity(c, buyer) == 1);
        CHECK(db_int(server, "SELECT COUNT(*) FROM idempotency_keys WHERE idem_key = 'rl-4'") == 0);
        CHECK(db_int(server, "SELECT COUNT(*) FROM journal WHERE idem_key = 'rl-4'") == 0);

        // while limited, a retry of an answered attempt (its response lost, say) is not refused:
        // it gets the stored answer, byte for byte
        const auto again = post_checkout(c, buyer, "rl-1");
        REQUIRE_STATUS(again, 201);
        CHECK(again.body == first.body);
        CHECK(again.header("Idempotent-Replayed") == "true");
        const auto refused_again = post_checkout(c, buyer, "rl-2");
        CHECK_PROBLEM(refused_again, 409, "conflict");
        CHECK(refused_again.body == second.body);
        // ... but the same key with another body is not that attempt: still limited
        std::string other_body = kAddressBody;
        other_body.replace(other_body.find("Lin"), 3, "Mei");
        CHECK_PROBLEM(
            c.post("/v1/checkouts", other_body, buyer.auth, {{"Idempotency-Key", "rl-1"}}), 429,
            "rate_limited");
        CHECK(reserved_of(server, sku) == 1);

        // another user is not affected
        REQUIRE_STATUS(put_cart_line(c, other, sku, 1), 200);
        REQUIRE_STATUS(post_checkout(c, other, "rl-other"), 201);

        // after Retry-After the same key runs normally (the 429 was not stored under it)
        std::this_thread::sleep_for(std::chrono::milliseconds(retry_after * 1000 + 100));
        const auto later = post_checkout(c, buyer, "rl-4");
        REQUIRE_STATUS(later, 201);
        CHECK(reserved_of(server, sku) == 3);

        const auto metrics = c.get("/metrics").body;
        CHECK(metric_value(metrics, R"(redloop_rate_limited_total{route="/v1/checkouts"})") == 2.0);
        CHECK(metric_value(metrics, R"(redloop_checkouts_total{outcome="rate_limited"})") == 2.0);
        CHECK(metric_value(metrics, R"(redloop_checkouts_total{outcome="created"})") == 3.0);
        CHECK(metric_value(metrics, R"(redloop_checkouts_total{outcome="replayed"})") == 1.0);
    }

    TEST_CASE("the default serve limits checkouts per user: the 11th at once is 429") {
        ServerProcess server;
        HttpClient c(server.port());
        const auto buyer = new_user(server);
        // empty-cart attempts are quick refusals, but each one counts
        for (int i = 0; i < 10; ++i) {
            CHECK_PROBLEM(post_checkout(c, buyer, "d-" + std::to_string(i)), 409, "conflict");
        }
        const auto limited = post_checkout(c, buyer, "d-10");
        CHECK_PROBLEM(limited, 429, "rate_limited");
        CHECK(std::stoll(limited.header("Retry-After")) >= 1);
        CHECK_PROBLEM(post_checkout(c, new_user(server), "d-0"), 409, "conflict");
    }

    TEST_CASE("extend a checkout once: owner only, later expiry, second time 409, replayable") {
        // The webhook waits 1.5 s so the payment is seen 'processing' for a while.
        ServerProcess server(
            with_args({"--checkout-ttl", "60", "--sandbox-webhook-delay", "1500"}));
        HttpClient c(server.port());
        const auto m = new_merchant(server);
        const auto buyer = new_user(server);
        const auto stranger = new_user(server);
        const auto sku = limited_sku(c, m, 10, std::nullopt);

        REQUIRE_STATUS(put_cart_line(c, buyer, sku, 1), 200);
        const auto created = post_checkout(c, buyer, "ext-1");
        REQUIRE_STATUS(created, 201);
        CHECK_FALSE(jbool(created.json(), "/extended"));
        const auto id = jstr(created.json(), "/id");
        const auto first_expiry = jstr(created.json(), "/expires_at");

        CHECK_PROBLEM(extend(c, stranger.auth, id), 404, "not_found");
        CHECK_PROBLEM(extend(c, m.auth, id), 403, "forbidden");
        CHECK_PROBLEM(extend(c, buyer.auth, "chk_nosuchcheckout"), 404, "not_found");
        CHECK_PROBLEM(c.post("/v1/checkouts/" + id + "/extend", R"({"minutes":5})", buyer.auth),
                      400, "invalid_request");

        std::this_thread::sleep_for(std::chrono::milliseconds(50));
        const auto extended = extend(c, buyer.auth, id, {{"Idempotency-Key", "ext-key"}});
        REQUIRE_STATUS(extended, 200);
        CHECK(jbool(extended.json(), "/extended"));
        CHECK(jstr(extended.json(), "/status") == "awaiting_payment");
        const auto second_expiry = jstr(extended.json(), "/expires_at");
        CHECK(second_expiry > first_expiry);  // same RFC 3339 format: text order is time order
        CHECK(jbool(c.get("/v1/checkouts/" + id, buyer.auth).json(), "/extended"));
        CHECK(jstr(c.get("/v1/checkouts/" + id, buyer.auth).json(), "/expires_at") ==
              second_expiry);
        // the same key again: the same answer, not a second extension
        const auto again = extend(c, buyer.auth, id, {{"Idempotency-Key", "ext-key"}});
        CHECK(again.status == 200);
        CHECK(again.body == extended.body);

        const auto twice = extend(c, buyer.auth, id);
        CHECK_PROBLEM(twice, 409, "conflict");
        CHECK(contains(twice.body, "already extended"));
        CHECK(jstr(c.get("/v1/checkouts/" + id, buyer.auth).json(), "/expires_at") ==
              second_expiry);

        // while its payment is processing a checkout may be extended too
        REQUIRE_STATUS(put_cart_line(c, buyer, sku, 1), 200);
        const auto paying = post_checkout(c, buyer, "ext-2");
        REQUIRE_STATUS(paying, 201);
        const auto paying_id = jstr(paying.json(), "/id");
        const auto payment = jstr(paying.json(), "/payment/id");
        const auto confirmed =
            c.post("/v1/payments/" + payment + "/confirm", kGoodCard, buyer.auth);
        REQUIRE_STATUS(confirmed, 200);
        REQUIRE(jstr(confirmed.json(), "/status") == "processing");
        const auto during = extend(c, buyer.auth, paying_id);
        REQUIRE_STATUS(during, 200);
        CHECK(jstr(during.json(), "/payment/status") == "processing");

        // once paid, no more
        REQUIRE_STATUS(put_cart_line(c, buyer, sku, 1), 200);
        const auto third = post_checkout(c, buyer, "ext-3");
        REQUIRE_STATUS(third, 201);
        const auto third_id = jstr(third.json(), "/id");
        const auto third_payment = jstr(third.json(), "/payment/id");
        REQUIRE_STATUS(c.post("/v1/payments/" + third_payment + "/confirm", kGoodCard, buyer.auth),
                       200);
        REQUIRE(eventually(
            [&] {
                return jstr(c.get("/v1/checkouts/" + third_id, buyer.auth).json(), "/status") ==
                       "paid";
            },
            std::chrono::seconds(8)));
        const auto after_paid = extend(c, buyer.auth, third_id);
        CHECK_PROBLEM(after_paid, 409, "invalid_transition");
        CHECK(contains(after_paid.body, "is paid"));
        CHECK(db_int(server, "SELECT COUNT(*) FROM checkouts WHERE extended_at IS NOT NULL") == 2);

        // the journal replays the extensions to the same state
        const auto db = server.db_path();
        REQUIRE(eventually(
            [&] {
                return db_int(db,
                              "SELECT COUNT(*) FROM payments WHERE status = "
                              "'processing'") == 0;
            },
            std::chrono::seconds(8)));
        REQUIRE(server.terminate() == 0);
        TempDir dir;
        const auto live = run_cli({"state-hash", "--db", db});
        REQUIRE(live.exit_code == 0);
        const auto exported = run_cli({"journal", "export", "--db", db});
        REQUIRE(exported.exit_code == 0);
        CHECK(contains(exported.out, "/extend"));
        const auto journal = dir.file("journal.jsonl");
        std::ofstream(journal) << exported.out;
        const auto replayed = run_cli({"replay", journal, "--db", dir.db("replay")});
        INFO(replayed.out, replayed.err);
        CHECK(replayed.exit_code == 0);
        const auto hash_of = [](const std::string& out) {
            const auto at = out.find("state-hash: ");
            return at == std::string::npos ? std::string() : out.substr(at + 12, 64);
        };
        CHECK(hash_of(replayed.out).size() == 64);
        CHECK(hash_of(replayed.out) == hash_of(live.out));
    }

    TEST_CASE("an expired checkout can't be extended") {
        ServerProcess server(with_args({"--checkout-ttl", "1"}));
        HttpClient c(server.port());
        const auto m = new_merchant(server);
        const auto buyer = new_user(server);
        const auto sku = limited_sku(c, m, 10, std::nullopt);
        REQUIRE_STATUS(put_cart_line(c, buyer, sku, 1), 200);
        const auto created = post_checkout(c, buyer, "exp-1");
        REQUIRE_STATUS(created, 201);
        const auto id = jstr(created.json(), "/id");
        REQUIRE(eventually(
            [&] {
                return jstr(c.get("/v1/checkouts/" + id, buyer.auth).json(), "/status") ==
                       "expired";
            },
            std::chrono::seconds(5)));
        const auto late = extend(c, buyer.auth, id);
        CHECK_PROBLEM(late, 409, "invalid_transition");
        CHECK(contains(late.body, "is expired"));
        CHECK(db_int(server, "SELECT COUNT(*) FROM checkouts WHERE extended_at IS NOT NULL") == 0);
    }
}

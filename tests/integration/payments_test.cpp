// Payments over the real server: the sandbox provider, signed webhooks, refunds.
#include <thread>

#include "support.hpp"
#include "webhook_signature.hpp"

using namespace redloop;
using namespace redloop::it;
using api::Role;

namespace {

struct Shop {
    Actor merchant;
    Actor buyer;
    std::string sku;
};

// A merchant with one SKU (price 5000, stock 10) and a buyer.
Shop open_shop(const ServerProcess& server, HttpClient& c) {
    Shop s{new_merchant(server), new_user(server), ""};
    s.sku = jstr(create_product(c, s.merchant.auth, "Tea", {{"tin", 5000, 10}}), "/skus/0/id");
    return s;
}

// Puts `quantity` in the buyer's cart and checks out; returns the checkout JSON.
json::value buy(HttpClient& c, const Shop& s, std::int64_t quantity, const std::string& key) {
    const auto put = c.request(
        "PUT", "/v1/cart/items/" + s.sku, R"({"quantity":)" + std::to_string(quantity) + "}",
        {{"Authorization", s.buyer.auth}, {"Content-Type", "application/json"}});
    REQUIRE_STATUS(put, 200);
    const auto r = c.post("/v1/checkouts", kAddressBody, s.buyer.auth, {{"Idempotency-Key", key}});
    REQUIRE_STATUS(r, 201);
    return r.json();
}

std::string status_of_payment(HttpClient& c, const Shop& s, const std::string& payment) {
    return jstr(c.get("/v1/payments/" + payment, s.buyer.auth).json(), "/status");
}

bool payment_becomes(HttpClient& c, const Shop& s, const std::string& payment,
                     const std::string& status) {
    return eventually([&] { return status_of_payment(c, s, payment) == status; },
                      std::chrono::seconds(8));
}

// Buys and pays with the good card; returns the checkout JSON once the payment succeeded.
json::value buy_and_pay(HttpClient& c, const Shop& s, std::int64_t quantity,
                        const std::string& key) {
    auto chk = buy(c, s, quantity, key);
    const auto payment = jstr(chk, "/payment/id");
    REQUIRE_STATUS(c.post("/v1/payments/" + payment + "/confirm", kGoodCard, s.buyer.auth), 200);
    REQUIRE(payment_becomes(c, s, payment, "succeeded"));
    return chk;
}

json::value inventory(HttpClient& c, const Shop& s) {
    return c.get("/v1/skus/" + s.sku + "/inventory", s.merchant.auth).json();
}

// Sends a provider event signed with the test secret (or as told).
HttpResponse send_event(HttpClient& c, const std::string& body,
                        std::optional<std::string> signature = std::nullopt) {
    const auto header =
        signature ? *signature : api::sign_webhook(kTestWebhookSecret, unix_now(), body);
    Headers h{{"Content-Type", "application/json"}};
    if (!header.empty()) h.emplace_back("Payment-Signature", header);
    return c.request("POST", "/v1/webhooks/payments", body, h);
}

std::string event_body(const std::string& id, const std::string& type, const std::string& payment,
                       std::int64_t amount, const std::string& refund = "") {
    std::string data = R"({"payment_id":")" + payment + R"(","amount":{"amount":)" +
                       std::to_string(amount) + R"(,"currency":"CNY"})";
    if (!refund.empty()) data += R"(,"refund_id":")" + refund + "\"";
    data += "}";
    return R"({"id":")" + id + R"(","type":")" + type + R"(","data":)" + data + "}";
}

std::int64_t ledger(const ServerProcess& s, const std::string& sku, const std::string& kind) {
    return db_int(s, "SELECT COUNT(*) FROM inventory_ledger WHERE sku_id = ?1 AND kind = ?2",
                  {sku, kind});
}

}  // namespace

TEST_SUITE("integration_payments") {
    TEST_CASE("the sandbox card pays: orders paid, reservations become sales") {
        ServerProcess server;
        HttpClient c(server.port());
        const auto s = open_shop(server, c);
        const auto chk = buy(c, s, 3, "pay-1");
        const auto payment = jstr(chk, "/payment/id");
        const auto confirm =
            c.post("/v1/payments/" + payment + "/confirm", kGoodCard, s.buyer.auth);
        REQUIRE_STATUS(confirm, 200);
        CHECK(jstr(confirm.json(), "/status") == "processing");
        REQUIRE(payment_becomes(c, s, payment, "succeeded"));
        const auto after = c.get("/v1/checkouts/" + jstr(chk, "/id"), s.buyer.auth).json();
        CHECK(jstr(after, "/status") == "paid");
        CHECK(jstr(after, "/orders/0/status") == "paid");
        CHECK(jstr(after, "/orders/0/history/1/status") == "paid");
        const auto p = c.get("/v1/payments/" + payment, s.buyer.auth).json();
        CHECK(jstr(p, "/history/0/status") == "requires_confirmation");
        CHECK(jstr(p, "/history/1/status") == "processing");
        CHECK(jstr(p, "/history/2/status") == "succeeded");
        const auto inv = inventory(c, s);
        CHECK(jint(inv, "/on_hand") == 7);
        CHECK(jint(inv, "/reserved") == 0);
        CHECK(ledger(server, s.sku, "sale") == 1);
        // confirming again is an invalid move; the money moved once
        CHECK_PROBLEM(c.post("/v1/payments/" + payment + "/confirm", kGoodCard, s.buyer.auth), 409,
                      "invalid_transition");
        CHECK(db_int(server, "SELECT COUNT(*) FROM webhook_events WHERE status = 'processed'") ==
              1);
        // the merchant can now ship, deliver; the buyer completes
        const auto order = jstr(after, "/orders/0/id");
        REQUIRE_STATUS(c.post("/v1/orders/" + order + "/ship",
                              R"({"carrier":"SF","tracking_number":"SF1"})", s.merchant.auth),
                       200);
        REQUIRE_STATUS(c.post("/v1/orders/" + order + "/deliver", "", s.merchant.auth), 200);
        const auto done = c.post("/v1/orders/" + order + "/complete", "", s.buyer.auth);
        REQUIRE_STATUS(done, 200);
        CHECK(jstr(done.json(), "/status") == "completed");
        CHECK(jstr(done.json(), "/shipment/tracking_number") == "SF1");
        CHECK(done.json().at_pointer("/history").as_array().size() == 5);
    }

    TEST_CASE("a declined card cancels the orders and the stock returns") {
        ServerProcess server;
        HttpClient c(server.port());
        const auto s = open_shop(server, c);
        const auto chk = buy(c, s, 4, "decline-1");
        const auto payment = jstr(chk, "/payment/id");
        CHECK(jint(inventory(c, s), "/available") == 6);
        REQUIRE_STATUS(c.post("/v1/payments/" + payment + "/confirm", kDeclinedCard, s.buyer.auth),
                       200);
        REQUIRE(payment_becomes(c, s, payment, "failed"));
        const auto after = c.get("/v1/checkouts/" + jstr(chk, "/id"), s.buyer.auth).json();
        CHECK(jstr(after, "/status") == "cancelled");
        CHECK(jstr(after, "/orders/0/status") == "cancelled");
        const auto inv = inventory(c, s);
        CHECK(jint(inv, "/available") == 10);
        CHECK(jint(inv, "/on_hand") == 10);
        CHECK(ledger(server, s.sku, "sale") == 0);
    }

    TEST_CASE("confirm refusals") {
        ServerProcess server;
        HttpClient c(server.port());
        const auto s = open_shop(server, c);
        const auto payment = jstr(buy(c, s, 1, "ref-1"), "/payment/id");
        const auto path = "/v1/payments/" + payment + "/confirm";
        CHECK_PROBLEM(c.post(path, R"({"card_number":"4111111111111111"})", s.buyer.auth), 400,
                      "invalid_request");
        CHECK_PROBLEM(c.post(path, R"({"card_number":"42"})", s.buyer.auth), 400,
                      "invalid_request");
        CHECK_PROBLEM(c.post(path, R"({"card_number":4242424242424242})", s.buyer.auth), 400,
                      "invalid_request");
        CHECK_PROBLEM(c.post(path, R"({"card_number":"4242424242424242","cvc":"1"})", s.buyer.auth),
                      400, "invalid_request");
        CHECK_PROBLEM(c.post(path, kGoodCard, new_user(server).auth), 404, "not_found");
        CHECK_PROBLEM(c.post(path, kGoodCard, s.merchant.auth), 403, "forbidden");
        CHECK_PROBLEM(c.post("/v1/payments/pay_nothere/confirm", kGoodCard, s.buyer.auth), 404,
                      "not_found");
        CHECK(status_of_payment(c, s, payment) == "requires_confirmation");
    }

    TEST_CASE("webhook faults are answered and move no money") {
        // The sandbox's own webhook is held back so the test speaks for the provider.
        ServerProcess server(with_args({"--sandbox-webhook-delay", "600000"}));
        HttpClient c(server.port());
        const auto s = open_shop(server, c);
        const auto payment = jstr(buy(c, s, 2, "faults-1"), "/payment/id");
        REQUIRE_STATUS(c.post("/v1/payments/" + payment + "/confirm", kGoodCard, s.buyer.auth),
                       200);
        const auto good = event_body("evt_f1", "payment.succeeded", payment, 10000);

        CHECK_PROBLEM(send_event(c, good, std::string()), 400, "invalid_request");  // no header
        CHECK_PROBLEM(
            send_event(c, good,
                       api::sign_webhook("wrong-secret-wrong-secret-wrong!!", unix_now(), good)),
            400, "invalid_request");
        // Outside the ±300 s tolerance by more than the seconds a loaded machine may take
        // between signing here and checking there (301 s ahead was accepted once: signed at
        // second T, checked at T+1).
        CHECK_PROBLEM(
            send_event(c, good, api::sign_webhook(kTestWebhookSecret, unix_now() - 310, good)), 400,
            "invalid_request");
        CHECK_PROBLEM(
            send_event(c, good, api::sign_webhook(kTestWebhookSecret, unix_now() + 310, good)), 400,
            "invalid_request");
        // a signature over other bytes than those sent
        CHECK_PROBLEM(
            send_event(c, good + " ", api::sign_webhook(kTestWebhookSecret, unix_now(), good)), 400,
            "invalid_request");
        CHECK_PROBLEM(send_event(c, event_body("evt_f2", "payment.succeeded", payment, 9999)), 400,
                      "invalid_request");
        CHECK_PROBLEM(send_event(c, event_body("evt_f3", "payment.refunded", payment, 10000)), 400,
                      "invalid_request");
        CHECK_PROBLEM(send_event(c, R"({"id":"evt_f4","type":"payment.succeeded"})"), 400,
                      "invalid_request");
        CHECK(status_of_payment(c, s, payment) == "processing");
        CHECK(jint(inventory(c, s), "/reserved") == 2);
        CHECK(db_int(server, "SELECT COUNT(*) FROM webhook_events") == 0);

        const auto ok = send_event(c, good);
        REQUIRE_STATUS(ok, 200);
        CHECK(jstr(ok.json(), "/status") == "processed");
        CHECK(status_of_payment(c, s, payment) == "succeeded");
        // the same event again: 200, no effect
        const auto dup = send_event(c, good);
        REQUIRE_STATUS(dup, 200);
        CHECK(jbool(dup.json(), "/duplicate"));
        CHECK(ledger(server, s.sku, "sale") == 1);
        CHECK(jint(inventory(c, s), "/on_hand") == 8);
        // a second success under another id is refused by the state machine, moves nothing
        CHECK_PROBLEM(send_event(c, event_body("evt_f5", "payment.succeeded", payment, 10000)), 409,
                      "conflict");
        CHECK(send_event(c, event_body("evt_f5", "payment.succeeded", payment, 10000)).status ==
              200);
        CHECK(ledger(server, s.sku, "sale") == 1);
        // a refund event that arrives before its refund is known is kept, not lost
        const auto early =
            send_event(c, event_body("evt_f6", "refund.succeeded", payment, 100, "ref_notyet"));
        REQUIRE_STATUS(early, 202);
        CHECK(
            db_int(
                server.db_path(),
                "SELECT COUNT(*) FROM webhook_events WHERE id = 'evt_f6' AND status = 'pending'") ==
            1);
        CHECK(jint(c.get("/v1/payments/" + payment, s.buyer.auth).json(),
                   "/refunded_amount/amount") == 0);
        // it is retried in the background (every 2 s) while it waits
        CHECK(eventually(
            [&] {
                return db_int(server,
                              "SELECT attempts FROM webhook_events WHERE id = 'evt_f6' AND "
                              "status = 'pending'") >= 2;
            },
            std::chrono::seconds(6)));
    }

    TEST_CASE(
        "a refund event in the contract's shape, without refund_id, completes the "
        "payment's oldest pending refund of its amount") {
        ServerProcess server(with_args({"--sandbox-webhook-delay", "600000"}));
        HttpClient c(server.port());
        const auto s = open_shop(server, c);
        const auto chk = buy(c, s, 2, "shape-1");
        const auto payment = jstr(chk, "/payment/id");
        const auto order = jstr(chk, "/orders/0/id");
        REQUIRE_STATUS(c.post("/v1/payments/" + payment + "/confirm", kGoodCard, s.buyer.auth),
                       200);
        // no refund yet: the payment has nothing pending, so the state machine refuses it
        REQUIRE_STATUS(send_event(c, event_body("evt_s0", "payment.succeeded", payment, 10000)),
                       200);
        CHECK_PROBLEM(send_event(c, event_body("evt_s1", "refund.succeeded", payment, 3000)), 409,
                      "conflict");
        // an unknown payment waits, as a payment event would
        REQUIRE_STATUS(
            send_event(c, event_body("evt_s2", "refund.succeeded", "pay_notknownyet", 3000)), 202);

        const auto refunds = "/v1/orders/" + order + "/refunds";
        const auto refund = [&](std::int64_t amount, const std::string& key) {
            const auto r = c.post(refunds,
                                  R"({"amount":{"amount":)" + std::to_string(amount) +
                                      R"(,"currency":"CNY"},"reason":"r"})",
                                  s.merchant.auth, {{"Idempotency-Key", key}});
            REQUIRE_STATUS(r, 201);
            return jstr(r.json(), "/id");
        };
        const auto r1 = refund(3000, "k1");
        const auto r2 = refund(2000, "k2");
        const auto r3 = refund(3000, "k3");
        const auto status_of = [&](const std::string& id) {
            return db_int(server,
                          "SELECT COUNT(*) FROM refunds WHERE id = ?1 AND status = 'succeeded'",
                          {id}) == 1
                       ? "succeeded"
                       : "pending";
        };
        const auto refunded = [&] {
            return jint(c.get("/v1/payments/" + payment, s.buyer.auth).json(),
                        "/refunded_amount/amount");
        };

        // an amount no pending refund has: 400, nothing moves, nothing recorded
        CHECK_PROBLEM(send_event(c, event_body("evt_s3", "refund.succeeded", payment, 1000)), 400,
                      "invalid_request");
        CHECK(db_int(server, "SELECT COUNT(*) FROM webhook_events WHERE id = 'evt_s3'") == 0);
        CHECK(refunded() == 0);

        // 3000: the oldest of the two refunds of 3000
        const auto first = send_event(c, event_body("evt_s4", "refund.succeeded", payment, 3000));
        REQUIRE_STATUS(first, 200);
        CHECK(jstr(first.json(), "/status") == "processed");
        CHECK(status_of(r1) == "succeeded");
        CHECK(status_of(r2) == "pending");
        CHECK(status_of(r3) == "pending");
        CHECK(refunded() == 3000);
        CHECK(status_of_payment(c, s, payment) == "partially_refunded");
        // a repeat of the event is a duplicate, not the next refund of 3000
        CHECK(jbool(send_event(c, event_body("evt_s4", "refund.succeeded", payment, 3000)).json(),
                    "/duplicate"));
        CHECK(status_of(r3) == "pending");

        REQUIRE_STATUS(send_event(c, event_body("evt_s5", "refund.succeeded", payment, 2000)), 200);
        CHECK(status_of(r2) == "succeeded");
        REQUIRE_STATUS(send_event(c, event_body("evt_s6", "refund.succeeded", payment, 3000)), 200);
        CHECK(status_of(r3) == "succeeded");
        CHECK(refunded() == 8000);
        CHECK(jint(c.get("/v1/orders/" + order, s.merchant.auth).json(),
                   "/refunded_amount/amount") == 8000);
        // nothing is pending any more
        CHECK_PROBLEM(send_event(c, event_body("evt_s7", "refund.succeeded", payment, 3000)), 409,
                      "conflict");
        CHECK(refunded() == 8000);
    }

    TEST_CASE(
        "an order cancelled while the provider charges: the others are paid, its share "
        "refunded") {
        ServerProcess server(with_args({"--sandbox-webhook-delay", "600000"}));
        HttpClient c(server.port());
        const auto s = open_shop(server, c);
        const auto other = new_merchant(server);
        const auto other_sku =
            jstr(create_product(c, other.auth, "Cup", {{"cup", 3000, 5}}), "/skus/0/id");
        // One checkout across both shops: `quantity` here and one cup there; its orders by shop.
        struct Split {
            json::value checkout;
            std::string mine, theirs;
        };
        const auto split_checkout = [&](std::int64_t quantity, const std::string& key) {
            REQUIRE_STATUS(
                c.request("PUT", "/v1/cart/items/" + other_sku, R"({"quantity":1})",
                          {{"Authorization", s.buyer.auth}, {"Content-Type", "application/json"}}),
                200);
            Split out{buy(c, s, quantity, key), "", ""};
            REQUIRE(out.checkout.at_pointer("/orders").as_array().size() == 2);
            for (const auto& o : out.checkout.at_pointer("/orders").as_array()) {
                const auto id = std::string(o.at("id").as_string());
                (std::string(o.at("merchant_id").as_string()) == other.id ? out.theirs : out.mine) =
                    id;
            }
            return out;
        };
        const auto [chk, mine, theirs] = split_checkout(2, "split-1");  // 2 x 5000 + 1 x 3000
        const auto payment = jstr(chk, "/payment/id");
        REQUIRE(jint(chk, "/payment/amount/amount") == 13000);
        REQUIRE_STATUS(c.post("/v1/payments/" + payment + "/confirm", kGoodCard, s.buyer.auth),
                       200);
        // The provider now charges 130.00; the buyer cancels the other shop's order meanwhile.
        const auto cancelled = c.post("/v1/orders/" + theirs + "/cancel", "", s.buyer.auth);
        REQUIRE_STATUS(cancelled, 200);
        CHECK(jstr(cancelled.json(), "/status") == "cancelled");
        auto p = c.get("/v1/payments/" + payment, s.buyer.auth).json();
        CHECK(jstr(p, "/status") == "processing");
        CHECK(jint(p, "/amount/amount") == 13000);  // what the provider charges
        CHECK(jint(c.get("/v1/skus/" + other_sku + "/inventory", other.auth).json(), "/reserved") ==
              0);

        // The charge succeeds for the whole sum: accepted, the remaining order paid.
        const auto ok =
            send_event(c, event_body("evt_split1", "payment.succeeded", payment, 13000));
        REQUIRE_STATUS(ok, 200);
        CHECK(jstr(ok.json(), "/status") == "processed");
        CHECK(jstr(c.get("/v1/orders/" + mine, s.buyer.auth).json(), "/status") == "paid");
        CHECK(jstr(c.get("/v1/orders/" + theirs, s.buyer.auth).json(), "/status") == "cancelled");
        CHECK(jint(inventory(c, s), "/on_hand") == 8);
        CHECK(jint(c.get("/v1/skus/" + other_sku + "/inventory", other.auth).json(), "/on_hand") ==
              5);
        // The cancelled order's 30.00 is refunded automatically (a refund of no order).
        CHECK(db_int(server,
                     "SELECT COUNT(*) FROM refunds WHERE payment_id = ?1 AND order_id IS NULL "
                     "AND amount_minor = 3000 AND status = 'pending'",
                     {payment}) == 1);
        REQUIRE_STATUS(send_event(c, event_body("evt_split2", "refund.succeeded", payment, 3000)),
                       200);
        p = c.get("/v1/payments/" + payment, s.buyer.auth).json();
        CHECK(jstr(p, "/status") == "partially_refunded");
        CHECK(jint(p, "/refunded_amount/amount") == 3000);
        CHECK(jint(c.get("/v1/orders/" + mine, s.buyer.auth).json(), "/refunded_amount/amount") ==
              0);

        // The same, declined: the failure names the whole sum too, and cancels what is left.
        const auto [chk2, mine2, theirs2] = split_checkout(1, "split-2");
        const auto payment2 = jstr(chk2, "/payment/id");
        REQUIRE(jint(chk2, "/payment/amount/amount") == 8000);
        REQUIRE_STATUS(c.post("/v1/payments/" + payment2 + "/confirm", kDeclinedCard, s.buyer.auth),
                       200);
        REQUIRE_STATUS(c.post("/v1/orders/" + theirs2 + "/cancel", "", s.buyer.auth), 200);
        REQUIRE_STATUS(send_event(c, event_body("evt_split3", "payment.failed", payment2, 8000)),
                       200);
        CHECK(status_of_payment(c, s, payment2) == "failed");
        CHECK(jstr(c.get("/v1/orders/" + mine2, s.buyer.auth).json(), "/status") == "cancelled");
        CHECK(jint(inventory(c, s), "/reserved") == 0);
        CHECK(jint(inventory(c, s), "/on_hand") == 8);
        CHECK(db_int(server, "SELECT COUNT(*) FROM refunds WHERE payment_id = ?1", {payment2}) ==
              0);
    }

    TEST_CASE("a success after the checkout expired is refunded, never paid") {
        ServerProcess server(with_args({"--checkout-ttl", "1", "--sandbox-webhook-delay", "2500"}));
        HttpClient c(server.port());
        const auto s = open_shop(server, c);
        const auto chk = buy(c, s, 2, "late-1");
        const auto payment = jstr(chk, "/payment/id");
        REQUIRE_STATUS(c.post("/v1/payments/" + payment + "/confirm", kGoodCard, s.buyer.auth),
                       200);
        REQUIRE(eventually(
            [&] {
                return jstr(c.get("/v1/checkouts/" + jstr(chk, "/id"), s.buyer.auth).json(),
                            "/status") == "expired";
            },
            std::chrono::seconds(5)));
        CHECK(status_of_payment(c, s, payment) == "cancelled");
        CHECK(jint(inventory(c, s), "/available") == 10);
        // the provider's success arrives late: kept, then refunded in full automatically
        REQUIRE(payment_becomes(c, s, payment, "refunded"));
        const auto p = c.get("/v1/payments/" + payment, s.buyer.auth).json();
        CHECK(jint(p, "/refunded_amount/amount") == 10000);
        const auto after = c.get("/v1/checkouts/" + jstr(chk, "/id"), s.buyer.auth).json();
        CHECK(jstr(after, "/status") == "expired");
        CHECK(jstr(after, "/orders/0/status") == "expired");
        CHECK(jint(inventory(c, s), "/on_hand") == 10);
        CHECK(ledger(server, s.sku, "sale") == 0);
        CHECK(db_int(server,
                     "SELECT COUNT(*) FROM refunds WHERE payment_id = ?1 AND order_id IS NULL "
                     "AND status = 'succeeded'",
                     {payment}) == 1);
    }

    TEST_CASE("a partial refund, then the rest: the order ends refunded; over-refund refused") {
        ServerProcess server;
        HttpClient c(server.port());
        const auto s = open_shop(server, c);
        const auto chk = buy_and_pay(c, s, 2, "refund-1");
        const auto payment = jstr(chk, "/payment/id");
        const auto order = jstr(chk, "/orders/0/id");
        const auto refunds = "/v1/orders/" + order + "/refunds";
        const std::string part =
            R"({"amount":{"amount":3000,"currency":"CNY"},"reason":"scratched tin"})";

        CHECK_PROBLEM(c.post(refunds, part, s.merchant.auth), 400, "invalid_request");  // no key
        CHECK_PROBLEM(c.post(refunds, part, s.buyer.auth, {{"Idempotency-Key", "r0"}}), 403,
                      "forbidden");
        CHECK_PROBLEM(c.post(refunds, part, new_merchant(server).auth, {{"Idempotency-Key", "r0"}}),
                      404, "not_found");
        CHECK_PROBLEM(c.post(refunds, R"({"amount":{"amount":0,"currency":"CNY"},"reason":"x"})",
                             s.merchant.auth, {{"Idempotency-Key", "r0"}}),
                      400, "invalid_request");
        CHECK_PROBLEM(
            c.post(refunds, R"({"amount":{"amount":10001,"currency":"CNY"},"reason":"too much"})",
                   s.merchant.auth, {{"Idempotency-Key", "r-over"}}),
            409, "conflict");

        const auto first = c.post(refunds, part, s.merchant.auth, {{"Idempotency-Key", "r1"}});
        REQUIRE_STATUS(first, 201);
        CHECK(jstr(first.json(), "/status") == "pending");
        const auto retry = c.post(refunds, part, s.merchant.auth, {{"Idempotency-Key", "r1"}});
        CHECK(retry.status == 201);
        CHECK(retry.body == first.body);
        REQUIRE(payment_becomes(c, s, payment, "partially_refunded"));
        CHECK(db_int(server, "SELECT COUNT(*) FROM refunds WHERE order_id = ?1", {order}) == 1);
        auto o = c.get("/v1/orders/" + order, s.merchant.auth).json();
        CHECK(jint(o, "/refunded_amount/amount") == 3000);
        CHECK(jstr(o, "/status") == "paid");
        // a restock goes only with the refund of everything that is left
        CHECK_PROBLEM(
            c.post(refunds,
                   R"({"amount":{"amount":1000,"currency":"CNY"},"reason":"x","restock":true})",
                   s.merchant.auth, {{"Idempotency-Key", "r-restock"}}),
            409, "conflict");
        // more than what is left
        CHECK_PROBLEM(c.post(refunds, R"({"amount":{"amount":7001,"currency":"CNY"},"reason":"x"})",
                             s.merchant.auth, {{"Idempotency-Key", "r2"}}),
                      409, "conflict");
        // the rest, with a restock, by an admin
        const auto rest = c.post(
            refunds,
            R"({"amount":{"amount":7000,"currency":"CNY"},"reason":"returned","restock":true})",
            server.bearer(Role::admin, "usr_ops"), {{"Idempotency-Key", "r3"}});
        REQUIRE_STATUS(rest, 201);
        REQUIRE(payment_becomes(c, s, payment, "refunded"));
        o = c.get("/v1/orders/" + order, s.merchant.auth).json();
        CHECK(jint(o, "/refunded_amount/amount") == 10000);
        CHECK(jstr(o, "/status") == "refunded");
        CHECK(jint(inventory(c, s), "/on_hand") == 10);
        CHECK(ledger(server, s.sku, "restock") == 1);
        const auto listed = c.get(refunds, s.buyer.auth).json();
        CHECK(listed.at_pointer("/data").as_array().size() == 2);
        CHECK(jstr(listed, "/data/1/status") == "succeeded");
        const auto first_page = c.get(refunds + "?limit=1", s.buyer.auth).json();
        REQUIRE(first_page.at_pointer("/data").as_array().size() == 1);
        CHECK(jstr(first_page, "/data/0/id") == jstr(listed, "/data/0/id"));
        const auto second_page =
            c.get(refunds + "?limit=1&cursor=" + jstr(first_page, "/next_cursor"), s.buyer.auth)
                .json();
        REQUIRE(second_page.at_pointer("/data").as_array().size() == 1);
        CHECK(jstr(second_page, "/data/0/id") == jstr(listed, "/data/1/id"));
        CHECK(jnull(second_page, "/next_cursor"));
        CHECK_PROBLEM(c.get(refunds + "?limit=0", s.buyer.auth), 400, "invalid_request");
        // a refund webhook naming another payment is refused and changes nothing
        CHECK_PROBLEM(send_event(c, event_body("evt_wrongpay", "refund.succeeded", "pay_other",
                                               7000, jstr(rest.json(), "/id"))),
                      400, "invalid_request");
        CHECK_PROBLEM(c.post(refunds, R"({"amount":{"amount":1,"currency":"CNY"},"reason":"x"})",
                             s.merchant.auth, {{"Idempotency-Key", "r4"}}),
                      409, "invalid_transition");
    }

    TEST_CASE("cancelling a paid order refunds it in full and restocks") {
        ServerProcess server;
        HttpClient c(server.port());
        const auto s = open_shop(server, c);
        const auto chk = buy_and_pay(c, s, 3, "cancel-paid-1");
        const auto payment = jstr(chk, "/payment/id");
        const auto order = jstr(chk, "/orders/0/id");
        CHECK(jint(inventory(c, s), "/on_hand") == 7);
        const auto cancelled = c.post("/v1/orders/" + order + "/cancel", "", s.buyer.auth);
        REQUIRE_STATUS(cancelled, 200);
        CHECK(jstr(cancelled.json(), "/status") == "cancelled");
        REQUIRE(payment_becomes(c, s, payment, "refunded"));
        const auto o = c.get("/v1/orders/" + order, s.buyer.auth).json();
        CHECK(jint(o, "/refunded_amount/amount") == 15000);
        CHECK(jstr(o, "/status") == "cancelled");
        CHECK(jint(inventory(c, s), "/on_hand") == 10);
        CHECK_PROBLEM(c.post("/v1/orders/" + order + "/cancel", "", s.buyer.auth), 409,
                      "invalid_transition");

        // personal data leaves finished orders; an order under way keeps its address
        const auto open_order = jstr(buy(c, s, 1, "cancel-paid-2"), "/orders/0/id");
        const auto erase = [&](const std::string& auth) {
            return c.request("DELETE", "/v1/users/me/personal-data", "", {{"Authorization", auth}});
        };
        CHECK_PROBLEM(erase(s.merchant.auth), 403, "forbidden");
        const auto erased = erase(s.buyer.auth);
        REQUIRE_STATUS(erased, 200);
        CHECK(jint(erased.json(), "/erased_orders") == 1);
        const auto after = c.get("/v1/orders/" + order, s.buyer.auth).json();
        CHECK(jnull(after, "/shipping_address"));
        CHECK(jint(after, "/total/amount") == 15000);
        CHECK(jint(after, "/refunded_amount/amount") == 15000);
        CHECK(jstr(c.get("/v1/orders/" + open_order, s.buyer.auth).json(),
                   "/shipping_address/name") == "Lin");
        CHECK(jint(erase(s.buyer.auth).json(), "/erased_orders") == 0);
    }
}

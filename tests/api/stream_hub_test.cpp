// The stream hub without sockets: fake sinks record the frames, events are written straight into
// the log, and the hub's pump delivers them.
#include <doctest/doctest.h>
#include <boost/json.hpp>

#include <chrono>
#include <mutex>
#include <thread>

#include "../db/db_fixture.hpp"
#include "redloop/db/events.hpp"
#include "stream_hub.hpp"

using namespace redloop;
namespace json = boost::json;

namespace {

struct FakeSink : api::StreamSink {
    void send(std::shared_ptr<const std::string> frame) override {
        std::lock_guard lock(mutex);
        frames.push_back(json::parse(*frame));
    }
    void close(int code, std::string reason) override {
        std::lock_guard lock(mutex);
        closed = code;
        close_reason = std::move(reason);
    }
    std::vector<json::value> snapshot() {
        std::lock_guard lock(mutex);
        return frames;
    }
    // Waits until `n` frames arrived (or 5 s); returns them.
    std::vector<json::value> wait_for(std::size_t n) {
        for (int i = 0; i < 250; ++i) {
            auto f = snapshot();
            if (f.size() >= n) return f;
            std::this_thread::sleep_for(std::chrono::milliseconds(20));
        }
        return snapshot();
    }
    std::mutex mutex;
    std::vector<json::value> frames;
    int closed = 0;
    std::string close_reason;
};

void stock_event(db::Database& db, const std::string& sku, std::int64_t available,
                 std::int64_t at_ms) {
    auto done = db.write([&](db::Tx& tx) -> engine::Result<bool> {
        db::EventRow e;
        e.at_ms = at_ms;
        e.scope = "sku";
        e.type = "sku.stock_changed";
        e.sku_id = sku;
        e.merchant_id = "mer_hub";
        e.data = R"({"sku_id":")" + sku + R"(","available":)" + std::to_string(available) + "}";
        db::insert_event(tx, e);
        return true;
    });
    REQUIRE(done);
}

std::string subscribe(const std::string& topic, std::optional<std::int64_t> after = {}) {
    json::object o{{"op", "subscribe"}, {"topic", topic}};
    if (after) o["after_seq"] = *after;
    return json::serialize(o);
}

api::Principal merchant() {
    return api::Principal{*engine::ActorId::parse("mer_hub"), api::Role::merchant};
}

std::string type_of(const json::value& v) {
    return std::string(v.at("type").as_string());
}

}  // namespace

TEST_CASE("the hub replays a resume and continues live in seq order") {
    test::DbFixture f;
    api::StreamOptions o;
    api::StreamHub hub(*f.db, o);
    hub.start();
    auto sink = std::make_shared<FakeSink>();
    auto id = hub.attach(sink, merchant());
    REQUIRE(id);
    for (int i = 1; i <= 3; ++i) stock_event(*f.db, "sku_a", i, 1000);
    hub.wake();
    hub.on_message(*id, subscribe("inventory", 1));  // missed seq 2 and 3
    auto frames = sink->wait_for(3);
    REQUIRE(frames.size() == 3);
    CHECK(type_of(frames[0]) == "subscribed");
    CHECK(frames[1].at("seq").as_int64() == 2);
    CHECK(frames[2].at("seq").as_int64() == 3);
    stock_event(*f.db, "sku_a", 4, 1000);
    hub.wake();
    frames = sink->wait_for(4);
    REQUIRE(frames.size() == 4);
    CHECK(frames[3].at("seq").as_int64() == 4);
    CHECK(frames[3].at("topic").as_string() == "inventory");
    hub.stop();
    CHECK(sink->closed == api::kCloseGoingAway);
}

TEST_CASE("a resume from before the retention's reach, or too far back, is refused") {
    test::DbFixture f;
    api::StreamOptions o;
    o.backlog_limit = 3;
    api::StreamHub hub(*f.db, o);
    for (int i = 1; i <= 6; ++i) stock_event(*f.db, "sku_a", i, i <= 2 ? 1000 : 5000);
    auto purged = f.db->write(
        [](db::Tx& tx) -> engine::Result<std::int64_t> { return db::purge_events(tx, 2000); });
    REQUIRE(purged);
    CHECK(*purged == 2);
    hub.start();
    auto sink = std::make_shared<FakeSink>();
    auto id = hub.attach(sink, merchant());
    REQUIRE(id);
    hub.on_message(*id, subscribe("inventory", 1));  // seq 2 is gone
    auto frames = sink->wait_for(1);
    REQUIRE(frames.size() == 1);
    CHECK(type_of(frames[0]) == "error");
    CHECK(frames[0].at("code").as_string() == "conflict");
    hub.on_message(*id, subscribe("inventory", 2));  // 3..6 = 4 events > the limit of 3
    frames = sink->wait_for(2);
    REQUIRE(frames.size() == 2);
    CHECK(frames[1].at("code").as_string() == "conflict");
    hub.on_message(*id, subscribe("inventory", 3));  // 4..6: fine
    frames = sink->wait_for(6);
    REQUIRE(frames.size() == 6);
    CHECK(type_of(frames[2]) == "subscribed");
    CHECK(frames[3].at("seq").as_int64() == 4);
    CHECK(frames[5].at("seq").as_int64() == 6);
    hub.on_message(*id, subscribe("inventory", 99));  // ahead of the log
    frames = sink->wait_for(7);
    REQUIRE(frames.size() == 7);
    CHECK(frames[6].at("code").as_string() == "conflict");  // already subscribed comes first
    hub.stop();
}

TEST_CASE("detached sessions get nothing and free their slot") {
    test::DbFixture f;
    api::StreamOptions o;
    o.max_sessions = 1;
    api::StreamHub hub(*f.db, o);
    hub.start();
    auto a = std::make_shared<FakeSink>();
    auto id = hub.attach(a, merchant());
    REQUIRE(id);
    CHECK_FALSE(hub.attach(std::make_shared<FakeSink>(), std::nullopt));
    hub.on_message(*id, subscribe("inventory"));
    a->wait_for(1);
    hub.detach(*id);
    // once the hub has handled the detach, the slot is free and nothing more is sent
    for (int i = 0; i < 250 && hub.counters().sessions.load() != 0; ++i)
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    CHECK(hub.counters().sessions.load() == 0);
    stock_event(*f.db, "sku_a", 1, 1000);
    hub.wake();
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    CHECK(a->snapshot().size() == 1);  // only the ack
    CHECK(hub.attach(std::make_shared<FakeSink>(), std::nullopt));
    hub.stop();
}

TEST_CASE("a client can't queue more than a few messages for the hub") {
    test::DbFixture f;
    api::StreamOptions o;
    o.max_pending_messages = 8;
    api::StreamHub hub(*f.db, o);  // not started: nothing is answered
    auto id = hub.attach(std::make_shared<FakeSink>(), std::nullopt);
    REQUIRE(id);
    for (int i = 0; i < 8; ++i) CHECK(hub.on_message(*id, subscribe("orders")));
    CHECK_FALSE(hub.on_message(*id, subscribe("orders")));
    CHECK_FALSE(hub.on_message(*id, "garbage"));
}

TEST_CASE("a resume's backlog is bounded by half the send queue") {
    test::DbFixture f;
    api::StreamOptions o;
    o.queue_limit = 8;  // so at most 4 missed events are replayed
    api::StreamHub hub(*f.db, o);
    for (int i = 1; i <= 5; ++i) stock_event(*f.db, "sku_a", i, 1000);
    hub.start();
    auto sink = std::make_shared<FakeSink>();
    auto id = hub.attach(sink, merchant());
    REQUIRE(id);
    hub.on_message(*id, subscribe("inventory", 0));  // 5 missed
    auto frames = sink->wait_for(1);
    REQUIRE(frames.size() == 1);
    CHECK(frames[0].at("code").as_string() == "conflict");
    hub.on_message(*id, subscribe("inventory", 1));  // 4 missed
    frames = sink->wait_for(6);
    REQUIRE(frames.size() == 6);
    CHECK(type_of(frames[1]) == "subscribed");
    hub.stop();
}

TEST_CASE("client messages and topics are parsed strictly") {
    auto m = api::parse_client_message(R"({"op":"subscribe","topic":"sku:sku_1","after_seq":7})");
    REQUIRE(m);
    CHECK(m->op == "subscribe");
    CHECK(m->topic == "sku:sku_1");
    CHECK(m->after_seq == 7);
    CHECK_FALSE(api::parse_client_message("subscribe"));
    CHECK_FALSE(api::parse_client_message(R"({"op":"publish","topic":"orders"})"));
    CHECK_FALSE(
        api::parse_client_message(R"({"op":"unsubscribe","topic":"orders","after_seq":1})"));
    CHECK_FALSE(api::parse_client_message(R"({"op":"subscribe","topic":"orders","x":1})"));
    CHECK_FALSE(api::parse_client_message(R"({"op":"subscribe","topic":"orders","after_seq":-1})"));

    auto sku = api::parse_topic("sku:sku_1");
    REQUIRE(sku);
    CHECK(sku->kind == api::TopicName::Kind::sku);
    CHECK(sku->id == "sku_1");
    CHECK(api::parse_topic("note:nte_1")->kind == api::TopicName::Kind::note);
    CHECK(api::parse_topic("orders")->kind == api::TopicName::Kind::orders);
    CHECK(api::parse_topic("earnings")->kind == api::TopicName::Kind::earnings);
    CHECK(api::parse_topic("inventory")->kind == api::TopicName::Kind::inventory);
    for (const char* bad :
         {"sku:", "sku:nte_1", "sku:sku_\"x", "note", "orders:x", "", "SKU:sku_1"}) {
        CAPTURE(bad);
        auto r = api::parse_topic(bad);
        REQUIRE_FALSE(r);
        CHECK(r.error().code == engine::ErrorCode::invalid_request);
    }
}

// Client -> server messages of the live stream (GET /v1/stream): parse_client_message, then the
// topic (parse_topic), and the frames the server answers with, which must be valid JSON (a text
// frame a client can parse) carrying the topic unchanged.
#include <boost/json.hpp>

#include <cstddef>
#include <cstdint>
#include <string>

#include "fuzz_check.hpp"
#include "stream_hub.hpp"

using namespace redloop;
namespace json = boost::json;

namespace {

json::object frame_object(const std::string& frame) {
    boost::system::error_code ec;
    auto v = json::parse(frame, ec);
    FUZZ_CHECK(!ec && v.is_object(), "a frame that is not a JSON object: " + frame);
    return v.as_object();
}

bool field_is(const json::object& o, const char* key, std::string_view want) {
    const auto* v = o.if_contains(key);
    return v && v->is_string() && std::string_view(v->get_string()) == want;
}

void check_error_frame(const engine::Error& e, const std::string& topic) {
    FUZZ_CHECK(e.code == engine::ErrorCode::invalid_request, e.detail);
    const auto o = frame_object(api::error_frame(e, topic));
    FUZZ_CHECK(field_is(o, "type", "error") && o.at("status") == 400, json::serialize(o));
    FUZZ_CHECK(field_is(o, "detail", e.detail), json::serialize(o));
    if (!topic.empty()) FUZZ_CHECK(field_is(o, "topic", topic), json::serialize(o));
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string text(reinterpret_cast<const char*>(data), size);
    const auto m = api::parse_client_message(text);
    if (!m) {
        check_error_frame(m.error(), "");
        return 0;
    }
    FUZZ_CHECK(m->op == "subscribe" || m->op == "unsubscribe", m->op);
    FUZZ_CHECK(m->topic.size() <= 100, m->topic);
    FUZZ_CHECK(!(m->op == "unsubscribe" && m->after_seq), text);
    FUZZ_CHECK(!m->after_seq || *m->after_seq >= 0, text);
    const auto topic = api::parse_topic(m->topic);
    if (!topic) {
        check_error_frame(topic.error(), m->topic);
        return 0;
    }
    // Event frames are formatted without a JSON encoder: the topic must need no escaping.
    db::EventRow e;
    e.seq = m->after_seq.value_or(1);
    e.scope = "sku";
    e.type = "sku.stock_changed";
    e.data = R"({"sku_id":"sku_1","available":3})";
    const auto o = frame_object(api::event_frame(e, m->topic));
    FUZZ_CHECK(field_is(o, "topic", m->topic) && o.at("seq") == e.seq,
               api::event_frame(e, m->topic));
    using Kind = api::TopicName::Kind;
    switch (topic->kind) {
        case Kind::orders:
        case Kind::earnings:
        case Kind::inventory:
            FUZZ_CHECK(topic->id.empty(), m->topic);
            break;
        case Kind::sku:
            FUZZ_CHECK(
                engine::SkuId::parse(topic->id).has_value() && m->topic == "sku:" + topic->id,
                m->topic);
            break;
        case Kind::note:
            FUZZ_CHECK(
                engine::NoteId::parse(topic->id).has_value() && m->topic == "note:" + topic->id,
                m->topic);
            break;
    }
    return 0;
}

// JSON decoding of every command body: the first byte picks the decoder, the rest is the body.
// Each decoder must give a command or a clean 400 naming what is wrong; never throw, crash or
// return another kind of error.
#include <boost/json.hpp>

#include <cstddef>
#include <cstdint>
#include <string>

#include "codec.hpp"
#include "fuzz_check.hpp"
#include "json_reader.hpp"
#include "redloop/engine/ids.hpp"

using namespace redloop;

namespace {

template <typename T>
void expect_clean(const engine::Result<T>& r) {
    if (r) return;
    FUZZ_CHECK(r.error().code == engine::ErrorCode::invalid_request, r.error().detail);
    FUZZ_CHECK(!r.error().detail.empty(), "an error without a detail");
}

void decode(std::uint8_t which, const boost::json::value& v) {
    switch (which % 15) {
        case 0:
            return expect_clean(api::decode_create_product(v));
        case 1:
            return expect_clean(api::decode_product_patch(v));
        case 2:
            return expect_clean(api::decode_sku_patch(v));
        case 3:
            return expect_clean(api::decode_stock_adjustment(v));
        case 4:
            return expect_clean(api::decode_merchant_patch(v));
        case 5:
            return expect_clean(api::decode_create_note(v));
        case 6:
            return expect_clean(api::decode_set_cart_line(engine::SkuId::trusted("sku_fuzz"), v));
        case 7:
            return expect_clean(api::decode_checkout(v));
        case 8:
            return expect_clean(api::decode_create_coupon(v));
        case 9:
            return expect_clean(api::decode_coupon_patch(v));
        case 10:
            return expect_clean(api::decode_shipment(v));
        case 11:
            return expect_clean(api::decode_confirm(v));
        case 12:
            return expect_clean(api::decode_create_refund(v));
        case 13:
            return expect_clean(api::decode_provider_event(v));
        default: {
            // Every decoder in turn on the same body (finds what a body does to all of them).
            for (std::uint8_t i = 0; i < 14; ++i) decode(i, v);
        }
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size == 0) return 0;
    const std::uint8_t which = data[0];
    const std::string body(reinterpret_cast<const char*>(data + 1), size - 1);
    // An action without parameters takes no body or {} only.
    expect_clean(api::decode_empty(body));
    // The request path: the body must be a JSON object (UTF-8, depth-limited) first.
    auto parsed = api::parse_json_object(body);
    expect_clean(parsed);
    if (!parsed) return 0;
    FUZZ_CHECK(parsed->is_object(), "parse_json_object gave a non-object");
    decode(which, *parsed);
    return 0;
}

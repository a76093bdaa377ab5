// The journal's line decoder (decode_journal_entry: one JSON Lines entry of `redloop journal
// export`, the input of `redloop replay`). A line decodes to an entry or a clean 400; an entry
// that decodes encodes to a line that decodes to the same entry.
#include <cstddef>
#include <cstdint>
#include <string>

#include "fuzz_check.hpp"
#include "replay.hpp"

using namespace redloop;

namespace {

bool same(const db::JournalEntry& a, const db::JournalEntry& b) {
    return a.seq == b.seq && a.at.unix_ms == b.at.unix_ms && a.kind == b.kind &&
           a.actor == b.actor && a.role == b.role && a.method == b.method && a.target == b.target &&
           a.idem_key == b.idem_key && a.request_id == b.request_id && a.body == b.body &&
           a.ids == b.ids && a.status == b.status && a.response_sha256 == b.response_sha256;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string line(reinterpret_cast<const char*>(data), size);
    const auto e = api::decode_journal_entry(line);
    if (!e) {
        FUZZ_CHECK(e.error().code == engine::ErrorCode::invalid_request, e.error().detail);
        FUZZ_CHECK(!e.error().detail.empty(), "a refusal without a reason");
        return 0;
    }
    const std::string encoded = api::encode_journal_entry(*e);
    FUZZ_CHECK(encoded.find('\n') == std::string::npos, encoded);
    const auto again = api::decode_journal_entry(encoded);
    FUZZ_CHECK(again.has_value(), encoded + ": " + again.error().detail);
    FUZZ_CHECK(same(*e, *again), encoded);
    FUZZ_CHECK(api::encode_journal_entry(*again) == encoded, encoded);
    return 0;
}

#include "base64.hpp"

namespace redloop::db {

namespace {

constexpr char kB64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

}  // namespace

std::string base64_encode(const unsigned char* data, std::size_t n) {
    std::string out;
    out.reserve((n + 2) / 3 * 4);
    for (std::size_t i = 0; i < n; i += 3) {
        const unsigned v = (unsigned(data[i]) << 16) |
                           (i + 1 < n ? unsigned(data[i + 1]) << 8 : 0) |
                           (i + 2 < n ? unsigned(data[i + 2]) : 0);
        out.push_back(kB64[(v >> 18) & 63]);
        out.push_back(kB64[(v >> 12) & 63]);
        out.push_back(i + 1 < n ? kB64[(v >> 6) & 63] : '=');
        out.push_back(i + 2 < n ? kB64[v & 63] : '=');
    }
    return out;
}

namespace {

// 0-63 for the alphabet, 64 for '=', 255 for anything else.
struct DecodeTable {
    unsigned char v[256];
    constexpr DecodeTable() : v{} {
        for (auto& x : v) x = 255;
        for (int i = 0; i < 64; ++i)
            v[static_cast<unsigned char>(kB64[i])] = static_cast<unsigned char>(i);
        v[static_cast<unsigned char>('=')] = 64;
    }
};
constexpr DecodeTable kDecode;

}  // namespace

std::optional<std::string> base64_decode(std::string_view in) {
    if (in.size() % 4 != 0) return std::nullopt;
    std::string out;
    if (in.empty()) return out;
    const std::size_t pad = in.back() != '=' ? 0 : in[in.size() - 2] == '=' ? 2 : 1;
    out.resize(in.size() / 4 * 3 - pad);
    char* o = out.data();
    const auto* p = reinterpret_cast<const unsigned char*>(in.data());
    const std::size_t full = in.size() / 4 - (pad ? 1 : 0);  // quads without padding
    for (std::size_t q = 0; q < full; ++q, p += 4) {
        const unsigned a = kDecode.v[p[0]], b = kDecode.v[p[1]], c = kDecode.v[p[2]],
                       d = kDecode.v[p[3]];
        if ((a | b | c | d) > 63) return std::nullopt;
        const unsigned bits = (a << 18) | (b << 12) | (c << 6) | d;
        *o++ = static_cast<char>(bits >> 16);
        *o++ = static_cast<char>((bits >> 8) & 0xff);
        *o++ = static_cast<char>(bits & 0xff);
    }
    if (pad) {
        const unsigned a = kDecode.v[p[0]], b = kDecode.v[p[1]];
        const unsigned c = pad == 2 ? 0 : kDecode.v[p[2]];
        if (a > 63 || b > 63 || c > 63) return std::nullopt;
        const unsigned bits = (a << 18) | (b << 12) | (c << 6);
        // Canonical only: the bits the padding leaves over must be zero (else two texts would
        // decode to the same bytes).
        if ((pad == 1 && (bits & 0xff) != 0) || (pad == 2 && (bits & 0xffff) != 0))
            return std::nullopt;
        *o++ = static_cast<char>(bits >> 16);
        if (pad == 1) *o++ = static_cast<char>((bits >> 8) & 0xff);
    }
    return out;
}

}  // namespace redloop::db

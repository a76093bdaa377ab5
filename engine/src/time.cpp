#include "redloop/engine/time.hpp"

#include <fmt/format.h>

#include <charconv>
#include <chrono>

namespace redloop::engine {

namespace {
using namespace std::chrono;

std::int64_t floor_div(std::int64_t a, std::int64_t b) {
    std::int64_t q = a / b;
    if ((a % b != 0) && ((a < 0) != (b < 0))) --q;
    return q;
}

bool read_int(std::string_view s, std::size_t pos, std::size_t len, int& out) {
    if (pos + len > s.size()) return false;
    for (std::size_t i = pos; i < pos + len; ++i) {
        if (s[i] < '0' || s[i] > '9') return false;
    }
    auto r = std::from_chars(s.data() + pos, s.data() + pos + len, out);
    return r.ec == std::errc{};
}
}  // namespace

std::string to_rfc3339(Timestamp t) {
    const std::int64_t days = floor_div(t.unix_ms, 86'400'000);
    const std::int64_t ms_of_day = t.unix_ms - days * 86'400'000;
    const year_month_day ymd{sys_days{std::chrono::days{days}}};
    const auto h = ms_of_day / 3'600'000;
    const auto m = (ms_of_day / 60'000) % 60;
    const auto s = (ms_of_day / 1000) % 60;
    const auto ms = ms_of_day % 1000;
    return fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z", int(ymd.year()),
                       unsigned(ymd.month()), unsigned(ymd.day()), h, m, s, ms);
}

Result<Timestamp> parse_rfc3339(std::string_view s) {
    auto bad = [&] {
        return fail(ErrorCode::invalid_request,
                    "not an RFC 3339 time such as 2026-11-28T10:00:00Z");
    };
    int y = 0, mo = 0, d = 0, h = 0, mi = 0, se = 0;
    if (s.size() < 20 || !read_int(s, 0, 4, y) || s[4] != '-' || !read_int(s, 5, 2, mo) ||
        s[7] != '-' || !read_int(s, 8, 2, d) || (s[10] != 'T' && s[10] != 't') ||
        !read_int(s, 11, 2, h) || s[13] != ':' || !read_int(s, 14, 2, mi) || s[16] != ':' ||
        !read_int(s, 17, 2, se)) {
        return bad();
    }
    const year_month_day ymd{year{y}, month{static_cast<unsigned>(mo)},
                             day{static_cast<unsigned>(d)}};
    if (!ymd.ok() || h > 23 || mi > 59 || se > 60) return bad();
    std::size_t pos = 19;
    std::int64_t frac_ms = 0;
    if (pos < s.size() && s[pos] == '.') {
        ++pos;
        std::size_t digits = 0;
        std::int64_t scale = 100;
        while (pos < s.size() && s[pos] >= '0' && s[pos] <= '9') {
            if (digits < 3) frac_ms += (s[pos] - '0') * scale;
            scale /= 10;
            ++digits;
            ++pos;
        }
        if (digits == 0 || digits > 9) return bad();
    }
    std::int64_t offset_min = 0;
    if (pos < s.size() && (s[pos] == 'Z' || s[pos] == 'z')) {
        ++pos;
    } else if (pos < s.size() && (s[pos] == '+' || s[pos] == '-')) {
        int oh = 0, om = 0;
        if (!read_int(s, pos + 1, 2, oh) || pos + 3 >= s.size() || s[pos + 3] != ':' ||
            !read_int(s, pos + 4, 2, om) || oh > 23 || om > 59) {
            return bad();
        }
        offset_min = (oh * 60 + om) * (s[pos] == '-' ? -1 : 1);
        pos += 6;
    } else {
        return bad();
    }
    if (pos != s.size()) return bad();
    const std::int64_t days = sys_days{ymd}.time_since_epoch().count();
    const std::int64_t secs = days * 86'400 + h * 3600 + mi * 60 + (se == 60 ? 59 : se);
    return Timestamp{(secs - offset_min * 60) * 1000 + frac_ms};
}

}  // namespace redloop::engine

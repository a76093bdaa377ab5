#include "redloop/engine/text.hpp"

#include <fmt/format.h>

namespace redloop::engine {

std::size_t count_chars(std::string_view utf8) {
    std::size_t n = 0;
    for (unsigned char c : utf8) {
        if ((c & 0xC0) != 0x80) ++n;  // count every byte that is not a continuation byte
    }
    return n;
}

Status check_text(std::string_view field, std::string_view value, std::size_t min_chars,
                  std::size_t max_chars, Lines lines) {
    const std::size_t n = count_chars(value);
    if (n < min_chars) {
        return fail(ErrorCode::invalid_request,
                    min_chars == 1
                        ? fmt::format("{} must not be empty", field)
                        : fmt::format("{} must have at least {} characters", field, min_chars));
    }
    if (n > max_chars) {
        return fail(ErrorCode::invalid_request,
                    fmt::format("{} is too long: {} characters, at most {}", field, n, max_chars));
    }
    for (unsigned char c : value) {
        const bool control = c < 0x20 || c == 0x7F;
        const bool allowed = lines == Lines::multi && (c == '\n' || c == '\t' || c == '\r');
        if (control && !allowed) {
            return fail(ErrorCode::invalid_request,
                        fmt::format("{} contains a control character", field));
        }
    }
    return {};
}

Status check_media_url(std::string_view field, std::string_view url) {
    if (auto s = check_text(field, url, 1, 2048, Lines::single); !s) return s;
    const bool http = url.starts_with("http://") || url.starts_with("https://");
    const auto host_start = url.find("://") + 3;
    if (!http || host_start >= url.size() || url[host_start] == '/') {
        return fail(ErrorCode::invalid_request,
                    fmt::format("{} must be an absolute http or https URL", field));
    }
    for (char c : url) {
        if (c == ' ' || c == '"' || c == '<' || c == '>' || c == '\\') {
            return fail(ErrorCode::invalid_request,
                        fmt::format("{} contains a character not allowed in a URL", field));
        }
    }
    return {};
}

}  // namespace redloop::engine

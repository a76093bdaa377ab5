#pragma once
// Checks of user-written text shared by every command: lengths in characters, no control
// characters, URLs of media.
#include <cstddef>
#include <string_view>

#include "redloop/engine/result.hpp"

namespace redloop::engine {

enum class Lines { single, multi };

// Number of Unicode code points in valid UTF-8 (the JSON decoder has already checked UTF-8).
std::size_t count_chars(std::string_view utf8);

// `field` names the field in the error ("skus[0].title"). Single-line text allows no control
// character; multi-line text allows newline and tab. Leading/trailing spaces count.
Status check_text(std::string_view field, std::string_view value, std::size_t min_chars,
                  std::size_t max_chars, Lines lines);

// An absolute http(s) URL of at most 2048 characters without spaces or control characters.
Status check_media_url(std::string_view field, std::string_view url);

}  // namespace redloop::engine

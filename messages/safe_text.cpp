#include "messages/safe_text.hpp"

#include <algorithm>
#include <cstdio>
#include <utility>

#include "messages/utf8.hpp"

namespace troupe::msg {
namespace {

bool is_control(char32_t c) { return c < 0x20 || (c >= 0x7f && c <= 0x9f); }

// Characters that reorder, hide or break a line of text on a terminal or in a log viewer.
bool is_invisible_format(char32_t c) {
  return c == 0x061c || (c >= 0x200b && c <= 0x200f) || (c >= 0x2028 && c <= 0x202e) ||
         c == 0x2060 || (c >= 0x2066 && c <= 0x2069) || c == 0xfeff;
}

void append_hex(std::string& out, const char* format, unsigned value) {
  char buffer[8];
  std::snprintf(buffer, sizeof buffer, format, value);
  out += buffer;
}

void append_escaped(std::string& out, char32_t c) {
  switch (c) {
    case '\n': out += "\\n"; return;
    case '\r': out += "\\r"; return;
    case '\t': out += "\\t"; return;
    case '\\': out += "\\\\"; return;
    default: append_hex(out, c < 0x80 ? "\\x%02x" : "\\u%04x", static_cast<unsigned>(c));
  }
}

using span = std::pair<size_t, size_t>;  // [begin, end)

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

// The password of `scheme://user:password@host...`: the authority ends at the first '/' or '?'.
void add_userinfo_password(std::string_view s, std::vector<span>& spans) {
  const auto scheme_end = s.find("://");
  if (scheme_end == std::string_view::npos) return;
  const auto start = scheme_end + 3;
  const auto end = std::min(s.find_first_of("/?", start), s.size());
  const auto at = s.rfind('@', end);
  if (at == std::string_view::npos || at < start) return;
  const auto colon = s.find(':', start);
  if (colon < at) spans.emplace_back(colon + 1, at);
}

// `password=value` after '?' or '&' (a URL's query) or at the start or after white space
// (libpq's key/value form, which allows spaces around '=' and single-quoted values).
void add_password_parameters(std::string_view s, std::vector<span>& spans) {
  constexpr std::string_view key = "password";
  for (auto pos = s.find(key); pos != std::string_view::npos; pos = s.find(key, pos + 1)) {
    if (pos > 0 && s[pos - 1] != '?' && s[pos - 1] != '&' && !is_space(s[pos - 1])) continue;
    auto i = pos + key.size();
    while (i < s.size() && is_space(s[i])) ++i;
    if (i >= s.size() || s[i] != '=') continue;
    ++i;
    while (i < s.size() && is_space(s[i])) ++i;
    if (i < s.size() && s[i] == '\'') {
      auto j = i + 1;
      while (j < s.size() && s[j] != '\'') j += s[j] == '\\' ? 2 : 1;
      spans.emplace_back(i + 1, std::min(j, s.size()));
    } else {
      auto j = i;
      while (j < s.size() && s[j] != '&' && !is_space(s[j])) ++j;
      spans.emplace_back(i, j);
    }
  }
}

// Every non-empty password span, sorted, without overlaps.
std::vector<span> password_spans(std::string_view s) {
  std::vector<span> spans;
  add_userinfo_password(s, spans);
  add_password_parameters(s, spans);
  std::sort(spans.begin(), spans.end());
  std::vector<span> disjoint;
  for (const auto& [begin, end] : spans) {
    if (begin >= end) continue;
    if (!disjoint.empty() && begin < disjoint.back().second)
      disjoint.back().second = std::max(disjoint.back().second, end);
    else
      disjoint.emplace_back(begin, end);
  }
  return disjoint;
}

}  // namespace

bool is_node_text(std::string_view text) {
  if (text.size() > max_node_text_bytes) return false;
  for (size_t pos = 0; pos < text.size();) {
    const auto c = next_code_point(text, pos);
    if (!c || is_control(*c)) return false;
  }
  return true;
}

bool is_tenant_name(std::string_view name) {
  if (name.empty() || name.size() > max_tenant_name_bytes) return false;
  return std::all_of(name.begin(), name.end(), [](char c) {
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' ||
           c == '_' || c == '-';
  });
}

bool is_artifact_name(std::string_view name) {
  if (name.empty() || name.size() > max_artifact_name_bytes || name[0] == '.' || name[0] == '/')
    return false;
  if (name.find("..") != std::string_view::npos) return false;
  return std::all_of(name.begin(), name.end(), [](char c) {
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' ||
           c == '_' || c == '-' || c == '/';
  });
}

std::string printable(std::string_view untrusted) {
  std::string out;
  out.reserve(untrusted.size());
  for (size_t pos = 0; pos < untrusted.size();) {
    const size_t start = pos;
    const auto c = next_code_point(untrusted, pos);
    if (!c)
      append_hex(out, "\\x%02x", static_cast<unsigned char>(untrusted[start]));
    else if (is_control(*c) || is_invisible_format(*c) || *c == '\\')
      append_escaped(out, *c);
    else
      out.append(untrusted.substr(start, pos - start));
  }
  return out;
}

std::string without_passwords(std::string_view s) {
  std::string out;
  size_t copied = 0;
  for (const auto& [begin, end] : password_spans(s)) {
    out.append(s.substr(copied, begin - copied));
    out += "***";
    copied = end;
  }
  out.append(s.substr(copied));
  return out;
}

std::vector<std::string> passwords_in(std::string_view s) {
  std::vector<std::string> passwords;
  for (const auto& [begin, end] : password_spans(s))
    passwords.emplace_back(s.substr(begin, end - begin));
  return passwords;
}

}  // namespace troupe::msg

// Text that crosses a trust boundary: what the head accepts as a node's names, how untrusted
// text is printed in a log, and how secrets are kept out of logs and error messages.
// Plain C++ without dependencies, for the daemon and the CLI alike.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace troupe::msg {

// What the head accepts as a node id, node name, label key or label value, and what a
// daemon checks its own name and labels against at start.
inline constexpr size_t max_node_text_bytes = 256;
inline constexpr const char* node_text_rule = "UTF-8 without control characters, at most 256 bytes";
bool is_node_text(std::string_view text);

// A tenant's name, as a submit key is bound to it and a job spec names it.
inline constexpr size_t max_tenant_name_bytes = 128;
inline constexpr const char* tenant_name_rule =
    "1 to 128 characters of A-Z, a-z, 0-9, '.', '_', '-'";
bool is_tenant_name(std::string_view name);

// An artifact's name in the head's artifact store (datasets, checkpoints, models), as an upload
// gives it and a train spec's data fields name it.
inline constexpr size_t max_artifact_name_bytes = 200;
inline constexpr const char* artifact_name_rule =
    "1 to 200 characters of A-Z, a-z, 0-9, '.', '_', '-', '/', not starting with '.' or '/', "
    "without '..'";
bool is_artifact_name(std::string_view name);

// `untrusted` for one line of a log or a cell of the CLI's tables: C0 controls, DEL, C1
// controls, bidi controls (U+061C, U+200E, U+200F, U+202A..U+202E, U+2066..U+2069), zero-width
// characters (U+200B..U+200D, U+2060), line and paragraph separators (U+2028, U+2029) and U+FEFF
// come out escaped (\n, \t, \r, \x1b, \x7f, \u0085, \u202e), a backslash as \\ (so that an escape
// cannot be forged), and a byte that is not UTF-8 as \xNN. Everything else is kept: the result
// is valid UTF-8.
std::string printable(std::string_view untrusted);

// A store URL or libpq key/value string with every password replaced by ***: the URL's
// user:password@, and `password=...` in its query or as a key/value pair.
std::string without_passwords(std::string_view url_or_conninfo);

// The passwords themselves, to hide them where a library quotes them back in its messages.
std::vector<std::string> passwords_in(std::string_view url_or_conninfo);

}  // namespace troupe::msg

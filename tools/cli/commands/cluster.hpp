// Commands about the cluster's nodes: status, nodes, drain, undrain, remove. Each returns
// what it prints on stdout: a table, or JSON when the session's config asks for it.
#pragma once

#include <string>

#include "tools/cli/session.hpp"

namespace troupe::cli {

using command_output = result<std::string>;

command_output show_status(const session& s);
command_output show_nodes(const session& s);  // the head first, then by name
command_output drain_node(const session& s, const std::string& node);
command_output undrain_node(const session& s, const std::string& node);
command_output remove_node(const session& s, const std::string& node);

}  // namespace troupe::cli

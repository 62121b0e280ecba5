// Commands about artifacts (docs/artifacts.md): `data put` uploads a file to the head's artifact
// store, `data ls` lists what it keeps, `data get` downloads one. Transfers go in chunks over one
// connection, with a progress line on a terminal (stderr).
#pragma once

#include <ostream>
#include <string>

#include "cluster/artifacts/artifact_transfer.hpp"
#include "tools/cli/commands/cluster.hpp"

namespace troupe::cli {

struct data_put_options {
  std::string file;
  std::string name;    // empty: the file's name
  std::string tenant;  // empty: the key's own, or "default"
  std::string kind = "dataset";
};

// Uploads the file `options` names, answering the stored artifact.
result<msg::artifact_info> upload_artifact(const session& s, const data_put_options& options,
                                           std::ostream& progress, bool terminal);
// Prints "DIGEST  NAME", or the stored artifact as JSON.
command_output put_data(const session& s, const data_put_options& options, std::ostream& progress,
                        bool terminal);
// Each name's newest version (every version with `all_versions`), by tenant then name.
command_output list_data(const session& s, const std::string& tenant, bool all_versions);
// Writes the newest version of `name` (or the version `name@DIGEST`) to `file`, which appears
// only once its bytes matched their digest. Prints "DIGEST  FILE", or the artifact as JSON.
command_output get_data(const session& s, const std::string& name, const std::string& tenant,
                        const std::string& file, std::ostream& progress, bool terminal);

// The download of `get_data` (and of `model export`): the artifact `spec` names to `file`,
// which appears only once its bytes matched their digest; the progress line says `what`.
result<msg::artifact_info> download_artifact(const session& s, const artifacts::download_spec& spec,
                                             const std::string& file, std::ostream& progress,
                                             bool terminal, const std::string& what);

}  // namespace troupe::cli

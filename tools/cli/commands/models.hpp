// Commands about the model registry: models, model, model promote, model export, model register
// (docs/models.md). A
// reference (NAME, NAME@VERSION, NAME@staging|production) that cannot be read is a usage
// error, found before the head is asked.
#pragma once

#include <ostream>
#include <string>

#include "tools/cli/commands/cluster.hpp"

namespace troupe::cli {

command_output list_models(const session& s, const std::string& tenant);
// Every version of the model (newest first) and its stage history, or one version in full.
command_output show_model(const session& s, const std::string& ref);
// Moves NAME@VERSION to `stage` (none, staging, production or archived).
command_output promote_model(const session& s, const std::string& ref, const std::string& stage);
// Writes the artifact of NAME@VERSION, NAME@STAGE or NAME (its newest version) to `file`,
// fetched by its digest from the artifact store: `file` appears only once its bytes matched it.
// Prints "DIGEST  FILE", or the version and the file as JSON.
command_output export_model(const session& s, const std::string& ref, const std::string& file,
                            std::ostream& progress, bool terminal);

struct model_import_options {
  std::string name;
  std::string file;             // a TorchScript file
  std::string tenant;           // empty: the key's own, or "default"
  uint32_t input_features = 0;  // 0: not declared
  std::string classes;          // comma-separated labels of the outputs; empty: none
  std::string outputs;  // logits, probabilities or values; empty: probabilities with classes
};

// Uploads the file as a model artifact and imports it as the model's next version. Prints
// "NAME@VERSION DIGEST", or the version as JSON.
command_output import_model(const session& s, const model_import_options& options,
                            std::ostream& progress, bool terminal);

}  // namespace troupe::cli

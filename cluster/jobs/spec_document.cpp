#include "cluster/jobs/spec_document.hpp"

#include <yaml-cpp/eventhandler.h>
#include <yaml-cpp/exceptions.h>
#include <yaml-cpp/mark.h>
#include <yaml-cpp/parser.h>

#include <optional>
#include <sstream>
#include <unordered_set>

#include "cluster/jobs/spec_error.hpp"
#include "messages/safe_text.hpp"
#include "messages/utf8.hpp"

namespace troupe::jobs {
namespace {

constexpr const char* plain_tag = "?";
constexpr const char* string_tag = "tag:yaml.org,2002:str";

// Builds the tree from yaml-cpp's events, one open sequence or mapping per frame.
class tree_builder : public YAML::EventHandler {
 public:
  std::optional<spec_node> root;

  void OnDocumentStart(const YAML::Mark&) override {}
  void OnDocumentEnd() override {}

  void OnNull(const YAML::Mark&, YAML::anchor_t) override { add(spec_node{}); }

  void OnAlias(const YAML::Mark&, YAML::anchor_t) override {
    throw spec_error(next_path(), "aliases (*name) are not supported");
  }

  void OnScalar(const YAML::Mark&, const std::string& tag, YAML::anchor_t,
                const std::string& value) override {
    spec_node node;
    if (tag == plain_tag)
      node.shape = spec_node::form::plain;
    else if (tag == "!" || tag == string_tag)
      node.shape = spec_node::form::quoted;
    else
      throw spec_error(next_path(), "tags (" + msg::printable(tag) + ") are not supported");
    if (!msg::is_utf8(value) || value.find('\0') != std::string::npos)
      throw spec_error(next_path(), "expected UTF-8 text without NUL bytes, got " + shown(value));
    node.text = value;
    add(std::move(node));
  }

  void OnSequenceStart(const YAML::Mark&, const std::string&, YAML::anchor_t,
                       YAML::EmitterStyle::value) override {
    open(spec_node::form::sequence);
  }
  void OnSequenceEnd() override { close(); }

  void OnMapStart(const YAML::Mark&, const std::string&, YAML::anchor_t,
                  YAML::EmitterStyle::value) override {
    open(spec_node::form::mapping);
  }
  void OnMapEnd() override { close(); }

 private:
  struct frame {
    spec_node node;
    std::string path;
    std::optional<std::string> key;  // a mapping's key waiting for its value
    std::unordered_set<std::string> keys;
  };

  // Where the next node goes: the value of the pending key, the next item, or the root.
  std::string next_path() const {
    if (frames_.empty()) return "";
    const auto& top = frames_.back();
    if (top.node.shape == spec_node::form::sequence)
      return item_path(top.path, top.node.items.size());
    return top.key ? child_path(top.path, *top.key) : top.path;
  }

  void open(spec_node::form shape) {
    if (frames_.size() >= max_spec_depth)
      throw spec_error(next_path(),
                       "nested more than " + std::to_string(max_spec_depth) + " levels deep");
    frame f;
    f.node.shape = shape;
    f.path = next_path();
    frames_.push_back(std::move(f));
  }

  void close() {
    auto node = std::move(frames_.back().node);
    frames_.pop_back();
    add(std::move(node));
  }

  void add(spec_node node) {
    if (frames_.empty()) {
      root = std::move(node);
      return;
    }
    auto& top = frames_.back();
    if (top.node.shape == spec_node::form::sequence) {
      top.node.items.push_back(std::move(node));
    } else if (!top.key) {
      if (node.shape != spec_node::form::plain && node.shape != spec_node::form::quoted)
        throw spec_error(top.path, "keys must be text");
      if (!top.keys.insert(node.text).second)
        throw spec_error(child_path(top.path, node.text), "duplicate key");
      top.key = std::move(node.text);
    } else {
      top.node.entries.emplace_back(std::move(*top.key), std::move(node));
      top.key.reset();
    }
  }

  std::vector<frame> frames_;
};

}  // namespace

std::string child_path(const std::string& parent, std::string_view key) {
  auto name = msg::printable(key);
  return parent.empty() ? name : parent + "." + name;
}

std::string item_path(const std::string& parent, size_t index) {
  return parent + "[" + std::to_string(index) + "]";
}

spec_node read_spec_document(std::string_view text) {
  std::istringstream in{std::string(text)};
  tree_builder builder;
  try {
    YAML::Parser parser(in);
    if (!parser.HandleNextDocument(builder)) return spec_node{};
    tree_builder second;
    if (parser.HandleNextDocument(second))
      throw spec_error("", "expected one YAML document, got more");
  } catch (const YAML::Exception& e) {
    auto where = e.mark.is_null() ? std::string()
                                  : "line " + std::to_string(e.mark.line + 1) + ", column " +
                                        std::to_string(e.mark.column + 1) + ": ";
    throw spec_error("", "not valid YAML: " + where + e.msg);
  }
  return builder.root ? std::move(*builder.root) : spec_node{};
}

}  // namespace troupe::jobs

#include "cluster/jobs/spec_document.hpp"

#include <yaml-cpp/eventhandler.h>
#include <yaml-cpp/exceptions.h>
#include <yaml-cpp/mark.h>
#include <yaml-cpp/parser.h>

#include <nlohmann/json.hpp>

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

// Builds the tree from a reader's events, one open sequence or mapping per frame, checking
// what every spec must satisfy whatever its syntax.
class tree_builder {
 public:
  std::optional<spec_node> root;

  void null() { add(spec_node{}); }

  void scalar(spec_node::form shape, std::string text) {
    if (!msg::is_utf8(text) || text.find('\0') != std::string::npos)
      throw spec_error(next_path(), "expected UTF-8 text without NUL bytes, got " + shown(text));
    spec_node node;
    node.shape = shape;
    node.text = std::move(text);
    add(std::move(node));
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

  // Where the next node goes: the value of the pending key, the next item, or the root.
  std::string next_path() const {
    if (frames_.empty()) return "";
    const auto& top = frames_.back();
    if (top.node.shape == spec_node::form::sequence)
      return item_path(top.path, top.node.items.size());
    return top.key ? child_path(top.path, *top.key) : top.path;
  }

 private:
  struct frame {
    spec_node node;
    std::string path;
    std::optional<std::string> key;  // a mapping's key waiting for its value
    std::unordered_set<std::string> keys;
  };

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

class yaml_events : public YAML::EventHandler {
 public:
  explicit yaml_events(tree_builder& tree) : tree_(tree) {}

  void OnDocumentStart(const YAML::Mark&) override {}
  void OnDocumentEnd() override {}
  void OnNull(const YAML::Mark&, YAML::anchor_t) override { tree_.null(); }
  void OnAlias(const YAML::Mark&, YAML::anchor_t) override {
    throw spec_error(tree_.next_path(), "aliases (*name) are not supported");
  }
  void OnScalar(const YAML::Mark&, const std::string& tag, YAML::anchor_t,
                const std::string& value) override {
    if (tag == plain_tag)
      tree_.scalar(spec_node::form::plain, value);
    else if (tag == "!" || tag == string_tag)
      tree_.scalar(spec_node::form::quoted, value);
    else
      throw spec_error(tree_.next_path(), "tags (" + msg::printable(tag) + ") are not supported");
  }
  void OnSequenceStart(const YAML::Mark&, const std::string&, YAML::anchor_t,
                       YAML::EmitterStyle::value) override {
    tree_.open(spec_node::form::sequence);
  }
  void OnSequenceEnd() override { tree_.close(); }
  void OnMapStart(const YAML::Mark&, const std::string&, YAML::anchor_t,
                  YAML::EmitterStyle::value) override {
    tree_.open(spec_node::form::mapping);
  }
  void OnMapEnd() override { tree_.close(); }

 private:
  tree_builder& tree_;
};

// JSON read directly, several times faster than through yaml-cpp: the head reads every stored
// spec back this way. Numbers keep the form YAML would give them (plain text).
class json_events : public nlohmann::json_sax<nlohmann::json> {
 public:
  explicit json_events(tree_builder& tree) : tree_(tree) {}

  bool null() override { return tree_.null(), true; }
  bool boolean(bool value) override { return plain(value ? "true" : "false"); }
  bool number_integer(number_integer_t value) override { return plain(std::to_string(value)); }
  bool number_unsigned(number_unsigned_t value) override { return plain(std::to_string(value)); }
  bool number_float(number_float_t, const string_t& text) override { return plain(text); }
  bool string(string_t& value) override {
    return tree_.scalar(spec_node::form::quoted, std::move(value)), true;
  }
  bool binary(binary_t&) override { return false; }
  bool start_object(std::size_t) override { return tree_.open(spec_node::form::mapping), true; }
  bool key(string_t& name) override { return string(name); }
  bool end_object() override { return tree_.close(), true; }
  bool start_array(std::size_t) override { return tree_.open(spec_node::form::sequence), true; }
  bool end_array() override { return tree_.close(), true; }
  bool parse_error(std::size_t, const std::string&, const nlohmann::detail::exception&) override {
    return false;
  }

 private:
  bool plain(std::string text) {
    return tree_.scalar(spec_node::form::plain, std::move(text)), true;
  }

  tree_builder& tree_;
};

bool looks_like_json(std::string_view text) {
  const auto first = text.find_first_not_of(" \t\r\n");
  return first != std::string_view::npos && text[first] == '{';
}

spec_node read_yaml(std::string_view text) {
  std::istringstream in{std::string(text)};
  tree_builder tree;
  try {
    YAML::Parser parser(in);
    yaml_events events(tree);
    if (!parser.HandleNextDocument(events)) return spec_node{};
    tree_builder second_tree;
    yaml_events second(second_tree);
    if (parser.HandleNextDocument(second))
      throw spec_error("", "expected one YAML document, got more");
  } catch (const YAML::Exception& e) {
    auto where = e.mark.is_null() ? std::string()
                                  : "line " + std::to_string(e.mark.line + 1) + ", column " +
                                        std::to_string(e.mark.column + 1) + ": ";
    throw spec_error("", "not valid YAML: " + where + e.msg);
  }
  return tree.root ? std::move(*tree.root) : spec_node{};
}

}  // namespace

std::string child_path(const std::string& parent, std::string_view key) {
  auto name = msg::printable(key);
  return parent.empty() ? name : parent + "." + name;
}

std::string item_path(const std::string& parent, size_t index) {
  return parent + "[" + std::to_string(index) + "]";
}

spec_node read_spec_document(std::string_view text) {
  // What is not strict JSON (comments, YAML inside braces, a syntax error) is read as YAML,
  // which reports the error or reads it as YAML would.
  if (looks_like_json(text)) {
    tree_builder tree;
    json_events events(tree);
    if (nlohmann::json::sax_parse(text, &events) && tree.root) return std::move(*tree.root);
  }
  return read_yaml(text);
}

}  // namespace troupe::jobs

// Reading the messages a Protobuf schema declares (protobuf_schema.hpp). The .proto text is
// scanned by hand: libprotobuf's own parser is in libprotoc, a compiler library kernels should
// not need; only names, nesting and order matter here.
#include "schema/protobuf_schema.hpp"

#include <google/protobuf/descriptor.pb.h>

#include <cctype>
#include <string_view>
#include <vector>

#include "core/base64.hpp"

namespace kernel::schema {

namespace {

struct MessageNode {
  std::string name;
  std::vector<std::size_t> children;  // indexes into the node list, in declaration order
};

// The tokens that matter: identifiers (with dots), and the punctuation { } ; =. Comments and
// strings are skipped so a brace inside them does not count.
class Tokens {
 public:
  explicit Tokens(std::string_view text) : text_(text) {}

  bool next(std::string_view& token) {
    while (at_ < text_.size()) {
      const char c = text_[at_];
      if (std::isspace(static_cast<unsigned char>(c)) != 0) {
        ++at_;
      } else if (text_.substr(at_, 2) == "//") {
        const auto end = text_.find('\n', at_);
        at_ = end == std::string_view::npos ? text_.size() : end;
      } else if (text_.substr(at_, 2) == "/*") {
        const auto end = text_.find("*/", at_ + 2);
        at_ = end == std::string_view::npos ? text_.size() : end + 2;
      } else if (c == '"' || c == '\'') {
        auto end = at_ + 1;
        while (end < text_.size() && text_[end] != c) end += text_[end] == '\\' ? 2 : 1;
        at_ = end + 1;
      } else if (std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '_' || c == '.') {
        const auto start = at_;
        while (at_ < text_.size() &&
               (std::isalnum(static_cast<unsigned char>(text_[at_])) != 0 || text_[at_] == '_' || text_[at_] == '.')) {
          ++at_;
        }
        token = text_.substr(start, at_ - start);
        return true;
      } else {
        token = text_.substr(at_++, 1);
        return true;
      }
    }
    return false;
  }

 private:
  std::string_view text_;
  std::size_t at_ = 0;
};

// Node 0 is the file; messages nest under it as they nest in the text.
bool read_proto_text(std::string_view text, std::string& package, std::vector<MessageNode>& nodes) {
  nodes.assign(1, MessageNode{});
  std::vector<std::size_t> open;  // the message each open brace belongs to, or npos
  std::size_t current = 0;        // innermost open message
  std::string_view previous, before_previous;
  Tokens tokens(text);
  std::string_view token;
  while (tokens.next(token)) {
    if (token == "{") {
      if (before_previous == "message") {
        nodes[current].children.push_back(nodes.size());
        nodes.push_back({std::string(previous), {}});
        open.push_back(current);
        current = nodes.size() - 1;
      } else {
        open.push_back(std::string_view::npos);  // an enum, oneof, service or option value
      }
    } else if (token == "}") {
      if (open.empty()) return false;
      if (open.back() != std::string_view::npos) current = open.back();
      open.pop_back();
    } else if (token == ";" && before_previous == "package" && open.empty()) {
      package = std::string(previous);
    }
    before_previous = previous;
    previous = token;
  }
  return open.empty();
}

void read_descriptor(const google::protobuf::DescriptorProto& message, std::vector<MessageNode>& nodes,
                     std::size_t parent) {
  nodes[parent].children.push_back(nodes.size());
  const auto self = nodes.size();
  nodes.push_back({message.name(), {}});
  for (const auto& nested : message.nested_type()) read_descriptor(nested, nodes, self);
}

bool read_file_descriptor(std::string_view encoded, std::string& package, std::vector<MessageNode>& nodes) {
  const auto bytes = detail::base64_decode(encoded);
  google::protobuf::FileDescriptorProto file;
  if (!bytes || !file.ParseFromString(*bytes)) return false;
  package = file.package();
  nodes.assign(1, MessageNode{});
  for (const auto& message : file.message_type()) read_descriptor(message, nodes, 0);
  return true;
}

}  // namespace

bool protobuf_message_name(const Schema& schema, const MessageIndex& index, std::string& full_name, std::string& why) {
  if (schema.type != SchemaType::protobuf) {
    why = "the schema is " + std::string(to_string(schema.type)) + ", not PROTOBUF";
    return false;
  }
  std::string package;
  std::vector<MessageNode> nodes;
  const bool is_text = schema.text.find("message") != std::string::npos && schema.text.find('{') != std::string::npos;
  if (!(is_text ? read_proto_text(schema.text, package, nodes) : read_file_descriptor(schema.text, package, nodes))) {
    why = "the registry's Protobuf schema cannot be read";
    return false;
  }
  full_name = package;
  std::size_t node = 0;
  for (std::size_t level = 0; level < index.depth; ++level) {
    const auto at = static_cast<std::size_t>(index.path[level]);
    if (at >= nodes[node].children.size()) {
      why = "the schema has no message at index " + std::to_string(at) + " (level " + std::to_string(level) + ")";
      return false;
    }
    node = nodes[node].children[at];
    if (!full_name.empty()) full_name += '.';
    full_name += nodes[node].name;
  }
  return true;
}

}  // namespace kernel::schema

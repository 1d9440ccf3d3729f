// Pipeline naming (KERNEL_PIPELINE, KERNEL_STEP, KERNEL_TOPIC_PATTERN): the topics and group
// a pipeline step uses by convention, the ${...} variables topic settings may use, and the
// produce guard that keeps a step to its own topics (docs/pipelines.md).
#include <algorithm>
#include <regex>

#include "config/loaded.hpp"
#include "config/pipeline_naming.hpp"
#include "config/values.hpp"

namespace kernel {

using namespace config_detail;

namespace {

using Variables = std::map<std::string, std::string, std::less<>>;

/// The variables topic patterns know, and what gives each a value.
struct KnownVariable {
  std::string_view name;
  std::string_view missing;  // why it has no value, and the fix
};
constexpr KnownVariable known_variables[] = {
    {"clusterName", "needs KERNEL_CLUSTER: set it, or drop ${clusterName}"},
    {"pipelineName", "needs KERNEL_PIPELINE (and KERNEL_STEP): set them, or drop ${pipelineName}"},
    {"stepName", "needs KERNEL_STEP (and KERNEL_PIPELINE): set them, or drop ${stepName}"},
    {"kind", "has no meaning here: only KERNEL_TOPIC_PATTERN and the topic settings of one kind use ${kind}"},
};

/// Splits `pattern` into literal text and variable names, calling `literal` and `variable`
/// in order; returns what is malformed (an unclosed `${`), else "".
template <typename Literal, typename Variable>
std::string walk_pattern(std::string_view pattern, Literal literal, Variable variable) {
  std::size_t pos = 0;
  while (pos < pattern.size()) {
    const auto open = pattern.find("${", pos);
    if (open == std::string_view::npos) {
      literal(pattern.substr(pos));
      break;
    }
    literal(pattern.substr(pos, open - pos));
    const auto close = pattern.find('}', open);
    if (close == std::string_view::npos) return "has an unclosed ${; expected ${name}";
    variable(pattern.substr(open + 2, close - open - 2));
    pos = close + 1;
  }
  return {};
}

/// The kind of named output `name`'s topic: `output.<name>`.
std::string output_kind(std::string_view name) { return "output." + std::string(name); }

Variables naming_values(const Settings& s) {
  Variables values;
  if (!s.cluster.empty()) values["clusterName"] = s.cluster;
  if (pipeline_naming(s)) {
    values["pipelineName"] = s.pipeline;
    values["stepName"] = s.step;
  }
  return values;
}

/// The pattern for kind `kind`, without the prefix.
std::string unprefixed_topic(const Settings& s, std::string_view kind) {
  auto values = naming_values(s);
  values["kind"] = std::string(kind);
  auto topic = substitute_topic_variables(s.topic_pattern, values);
  return topic ? std::move(*topic) : std::string();
}

std::string escape_regex(std::string_view text) {
  static const std::string special = R"(\^$.|?*+()[]{})";
  std::string out;
  for (char c : text) {
    if (special.find(c) != std::string::npos) out += '\\';
    out += c;
  }
  return out;
}

constexpr std::string_view any_kind = R"((?:input|output(?:\.[A-Za-z0-9_-]+)?|dead-letter|error|retry\.[0-9]+))";

/// A regular expression matching every topic `pattern` yields, the pipeline name captured
/// (group 1) when `pipeline` is empty, else fixed to it; `step` likewise, `kinds` the kinds.
std::regex convention_regex(const Settings& s, const std::string& pipeline, const std::string& step,
                            std::string_view kinds, bool& captures_pipeline) {
  std::string expression = "^" + escape_regex(s.topic_prefix);
  captures_pipeline = false;
  walk_pattern(
      s.topic_pattern, [&](std::string_view literal) { expression += escape_regex(literal); },
      [&](std::string_view name) {
        if (name == "pipelineName") {
          if (!pipeline.empty())
            expression += escape_regex(pipeline);
          else if (captures_pipeline)
            expression += R"(\1)";
          else {
            expression += "(.+)";
            captures_pipeline = true;
          }
        } else if (name == "stepName") {
          expression += step.empty() ? ".+" : escape_regex(step);
        } else if (name == "clusterName") {
          expression += s.cluster.empty() ? ".*" : escape_regex(s.cluster);
        } else {
          expression += kinds;
        }
      });
  return std::regex(expression + "$");
}

/// The pipeline a topic of the convention belongs to ("" when it follows none).
std::function<std::string(std::string_view)> pipeline_matcher(const Settings& s) {
  bool captures = false;
  auto regex = convention_regex(s, "", "", any_kind, captures);
  if (!captures) return [](std::string_view) { return std::string(); };
  return [regex = std::move(regex)](std::string_view topic) {
    std::match_results<std::string_view::const_iterator> match;
    return std::regex_match(topic.begin(), topic.end(), match, regex) ? match[1].str() : std::string();
  };
}

bool is_whitelisted(const std::vector<std::string>& allowed, std::string_view topic) {
  return std::any_of(allowed.begin(), allowed.end(), [&](const std::string& entry) {
    return entry.ends_with(".*") ? topic.starts_with(std::string_view(entry).substr(0, entry.size() - 1))
                                 : topic == entry;
  });
}

/// Replaces the variables of one setting's value (kind `kind`, "" for none) in place.
void substitute_setting(std::string& value, std::string_view variable, std::string_view kind, const Variables& base,
                        Problems& problems, bool& reported) {
  if (value.find("${") == std::string::npos) return;
  auto values = base;
  if (!kind.empty()) values["kind"] = std::string(kind);
  auto result = substitute_topic_variables(value, values);
  if (!result) {
    if (!reported) problems.add(variable, value, result.error());
    reported = true;
    return;
  }
  value = std::move(*result);
}

void check_allowed_topics(const Settings& s, Problems& problems) {
  for (const auto& entry : s.allowed_topics) {
    std::string why;
    if (entry == "*") {
      why =
          "a bare * would allow every topic and so turn the guard off; list the topics, or prefixes as "
          "prefix.*";
    } else if (entry.ends_with(".*")) {
      const auto stem = entry.substr(0, entry.size() - 2);
      if (auto problem = topic_name_problem(stem); !problem.empty()) {
        why = "prefix \"" + stem + ".\" " + problem;
      }
    } else if (entry.find('*') != std::string::npos) {
      why = "\"" + entry + "\": only a trailing .* is a wildcard (prefix.*)";
    } else if (auto problem = topic_name_problem(entry); !problem.empty()) {
      why = "\"" + entry + "\" " + problem;
    }
    if (!why.empty()) {
      problems.add(env_var::KERNEL_ALLOWED_TOPICS, join(s.allowed_topics, ","), why);
      return;
    }
  }
}

/// KERNEL_TOPIC_PATTERN on its own: known variables, ${kind} present.
bool check_pattern(const Settings& s, Problems& problems) {
  bool has_kind = false;
  std::string unknown;
  const auto malformed = walk_pattern(
      s.topic_pattern, [](std::string_view) {},
      [&](std::string_view name) {
        if (name == "kind") has_kind = true;
        const bool known = std::any_of(std::begin(known_variables), std::end(known_variables),
                                       [&](const KnownVariable& v) { return v.name == name; });
        if (!known && unknown.empty()) unknown = std::string(name);
      });
  std::string why = malformed;
  if (why.empty() && !unknown.empty()) {
    why = "unknown variable ${" + unknown + "}; expected ${clusterName}, ${pipelineName}, ${stepName} or ${kind}";
  } else if (why.empty() && !has_kind) {
    why =
        "has no ${kind}: every topic of a step would get the same name; add ${kind}, e.g. "
        "pipeline.${pipelineName}.step.${stepName}.${kind}";
  }
  if (!why.empty()) problems.add(env_var::KERNEL_TOPIC_PATTERN, s.topic_pattern, why);
  return why.empty();
}

}  // namespace

bool pipeline_naming(const Settings& settings) { return !settings.pipeline.empty() && !settings.step.empty(); }

Parsed<std::string> config_detail::substitute_topic_variables(std::string_view text, const Variables& values) {
  std::string out;
  std::string error;
  auto malformed = walk_pattern(
      text, [&](std::string_view literal) { out += literal; },
      [&](std::string_view name) {
        if (!error.empty()) return;
        const auto* known = std::find_if(std::begin(known_variables), std::end(known_variables),
                                         [&](const KnownVariable& v) { return v.name == name; });
        if (known == std::end(known_variables)) {
          error = "unknown variable ${" + std::string(name) +
                  "}; expected ${clusterName}, ${pipelineName}, ${stepName} or ${kind}";
          return;
        }
        const auto value = values.find(name);
        if (value == values.end() || value->second.empty()) {
          error = "${" + std::string(name) + "} " + std::string(known->missing);
          return;
        }
        out += value->second;
      });
  if (error.empty()) error = std::move(malformed);
  if (!error.empty()) return parse_error(std::move(error));
  return out;
}

std::string pipeline_topic(const Settings& settings, std::string_view kind) {
  return settings.topic_prefix + unprefixed_topic(settings, kind);
}

std::optional<std::string> pipeline_output_topic(const Settings& settings, std::string_view output_name) {
  if (!pipeline_naming(settings)) return std::nullopt;
  return pipeline_topic(settings, output_kind(output_name));
}

std::string retry_topic(const Settings& settings, int n) {
  const auto kind = "retry." + std::to_string(n);
  if (pipeline_naming(settings)) return pipeline_topic(settings, kind);
  return settings.topic_prefix + settings.kernel_name + "." + kind;
}

std::string control_topic(const Settings& settings) {
  if (pipeline_naming(settings)) return pipeline_topic(settings, "control");
  return settings.topic_prefix + settings.kernel_name + ".control";
}

std::vector<KernelTopic> kernel_topics(const Settings& s) {
  std::vector<KernelTopic> topics;
  const auto add = [&](const std::string& name, KernelTopic::Use use) {
    const bool seen = std::any_of(topics.begin(), topics.end(), [&](const KernelTopic& t) { return t.name == name; });
    if (!seen) topics.push_back({name, use});
  };
  for (const auto& topic : s.input_topics) add(topic, KernelTopic::Use::input);
  if (s.output_topic) add(*s.output_topic, KernelTopic::Use::output);
  add(s.dlq_topic, KernelTopic::Use::dead_letter);
  if (s.error_topic) add(*s.error_topic, KernelTopic::Use::error);
  for (const auto& [name, topic] : s.kernel_values.outputs()) add(s.topic_prefix + topic, KernelTopic::Use::output);
  for (std::size_t n = 1; n <= s.retry_topics.size(); ++n)
    add(retry_topic(s, static_cast<int>(n)), KernelTopic::Use::retry);
  for (const auto& entry : s.allowed_topics) {
    if (!entry.ends_with(".*")) add(entry, KernelTopic::Use::allowed);
  }
  add(control_topic(s), KernelTopic::Use::control);
  return topics;
}

// ---- The produce guard ----------------------------------------------------------------------

ProduceGuard::ProduceGuard(const Settings& s) {
  const bool naming = pipeline_naming(s);
  active_ = naming || !s.allowed_topics.empty();
  if (!active_) return;
  if (s.output_topic) exact_.push_back(*s.output_topic);
  exact_.push_back(s.dlq_topic);
  if (s.error_topic) exact_.push_back(*s.error_topic);
  for (const auto& [name, topic] : s.kernel_values.outputs()) exact_.push_back(s.topic_prefix + topic);
  if (s.allow_output_to_input) exact_.insert(exact_.end(), s.input_topics.begin(), s.input_topics.end());
  for (const auto& entry : s.allowed_topics) {
    if (entry.ends_with(".*"))
      prefixes_.push_back(entry.substr(0, entry.size() - 1));
    else
      exact_.push_back(entry);
  }
  if (!naming) return;
  own_pipeline_ = s.pipeline;
  bool captures = false;
  // Its own input only with KERNEL_ALLOW_OUTPUT_TO_INPUT: writing it makes a loop.
  auto own = convention_regex(s, s.pipeline, s.step,
                              R"((?:output(?:\.[A-Za-z0-9_-]+)?|dead-letter|error|retry\.[0-9]+))", captures);
  own_step_ = [own = std::move(own)](std::string_view topic) {
    return std::regex_match(topic.begin(), topic.end(), own);
  };
  pipeline_of_ = pipeline_matcher(s);
}

std::string ProduceGuard::refusal(std::string_view topic) const {
  if (!active_) return {};
  if (std::find(exact_.begin(), exact_.end(), topic) != exact_.end()) return {};
  for (const auto& prefix : prefixes_) {
    if (topic.starts_with(prefix)) return {};
  }
  if (own_step_ && own_step_(topic)) return {};
  if (pipeline_of_) {
    if (const auto pipeline = pipeline_of_(topic); !pipeline.empty() && pipeline != own_pipeline_) {
      return "it is a topic of pipeline " + pipeline +
             ": writing across pipelines needs the topic in KERNEL_ALLOWED_TOPICS";
    }
  }
  return "it is neither one of this kernel's own topics nor in KERNEL_ALLOWED_TOPICS";
}

namespace config_detail {

void apply_pipeline_naming(Loaded& loaded, const std::map<std::string, RawValue, std::less<>>& given,
                           Problems& problems) {
  auto& s = loaded.settings;
  const bool pipeline_set = given.contains(env_var::KERNEL_PIPELINE);
  const bool step_set = given.contains(env_var::KERNEL_STEP);
  if (pipeline_set != step_set) {
    const auto* set = pipeline_set ? env_var::KERNEL_PIPELINE : env_var::KERNEL_STEP;
    const auto* unset = pipeline_set ? env_var::KERNEL_STEP : env_var::KERNEL_PIPELINE;
    problems.add(
        set, pipeline_set ? s.pipeline : s.step,
        std::string("is set without ") + unset + ": pipeline naming needs both; set " + unset + " too, or neither");
  }
  for (const auto* variable : {env_var::KERNEL_PIPELINE, env_var::KERNEL_STEP, env_var::KERNEL_CLUSTER}) {
    const auto& value = std::string_view(variable) == env_var::KERNEL_PIPELINE ? s.pipeline
                        : std::string_view(variable) == env_var::KERNEL_STEP   ? s.step
                                                                               : s.cluster;
    if (value.empty()) continue;
    if (auto why = topic_name_problem(value); !why.empty()) {
      problems.add(variable, value, "is part of topic names, so it " + why);
    }
  }
  const bool pattern_ok = check_pattern(s, problems);
  const bool naming = pipeline_naming(s);
  if (!naming && given.contains(env_var::KERNEL_TOPIC_PATTERN) && !pipeline_set && !step_set) {
    loaded.warnings.push_back("KERNEL_TOPIC_PATTERN is set but has no effect without KERNEL_PIPELINE and KERNEL_STEP");
  }

  // Variables in the topic settings, each with its own kind.
  const auto values = naming_values(s);
  bool reported = false;
  for (auto& topic : s.input_topics)
    substitute_setting(topic, env_var::KAFKA_TOPIC, "input", values, problems, reported);
  reported = false;
  if (s.output_topic)
    substitute_setting(*s.output_topic, env_var::KAFKA_OUTPUT_TOPIC, "output", values, problems, reported);
  reported = false;
  substitute_setting(s.dlq_topic, env_var::KAFKA_DLQ_TOPIC, "dead-letter", values, problems, reported);
  reported = false;
  if (s.error_topic)
    substitute_setting(*s.error_topic, env_var::KAFKA_ERROR_TOPIC, "error", values, problems, reported);
  reported = false;
  substitute_setting(s.group_id, env_var::KAFKA_CONSUMER_GROUP, "", values, problems, reported);
  reported = false;
  for (auto& entry : s.allowed_topics) {
    substitute_setting(entry, env_var::KERNEL_ALLOWED_TOPICS, "", values, problems, reported);
  }
  if (!reported) check_allowed_topics(s, problems);

  if (!naming || !pattern_ok || problems.mentions(env_var::KERNEL_PIPELINE) ||
      problems.mentions(env_var::KERNEL_STEP) || problems.mentions(env_var::KERNEL_CLUSTER)) {
    return;
  }
  // The pattern must give a valid name for every kind.
  for (const auto* kind : {"input", "output", "dead-letter", "error", "retry.1"}) {
    auto name = unprefixed_topic(s, kind);
    if (name.empty()) {
      auto with_kind = naming_values(s);
      with_kind["kind"] = kind;
      const auto why = substitute_topic_variables(s.topic_pattern, with_kind);
      problems.add(env_var::KERNEL_TOPIC_PATTERN, s.topic_pattern, why ? std::string() : why.error());
      return;
    }
    if (auto why = topic_name_problem(name); !why.empty()) {
      problems.add(env_var::KERNEL_TOPIC_PATTERN, s.topic_pattern, "yields topic \"" + name + "\", which " + why);
      return;
    }
  }
  // The convention comes between an environment setting and the kernel's compiled-in value.
  const auto convention = [&](const char* variable, auto apply) {
    if (given.contains(variable)) return;
    apply();
    loaded.sources[variable] = "pipeline";
  };
  convention(env_var::KAFKA_TOPIC, [&] { s.input_topics = {unprefixed_topic(s, "input")}; });
  // A kernel without an output (a consumer) gets none: an unused topic would still have to exist.
  if (s.output_topic) convention(env_var::KAFKA_OUTPUT_TOPIC, [&] { s.output_topic = unprefixed_topic(s, "output"); });
  convention(env_var::KAFKA_DLQ_TOPIC, [&] { s.dlq_topic = unprefixed_topic(s, "dead-letter"); });
  convention(env_var::KAFKA_ERROR_TOPIC, [&] { s.error_topic = unprefixed_topic(s, "error"); });
  convention(env_var::KAFKA_CONSUMER_GROUP, [&] { s.group_id = s.pipeline + "-consumer-group"; });
  // Named outputs: `....output.<name>` unless KAFKA_OUTPUT_TOPIC_<NAME> is set (pipeline_output_topic()).
  for (const auto& output : s.named_outputs) {
    auto& source = loaded.sources[output_variable(output.name)];
    if (source == source::env || source == source::dotenv) continue;
    s.kernel_values.set_output(output.name, unprefixed_topic(s, output_kind(output.name)));
    source = "pipeline";
  }

  // A declared output of another pipeline must be whitelisted: the guard would refuse every
  // message written to it.
  if (s.output_topic) {
    const auto prefixed = s.topic_prefix + *s.output_topic;
    const auto pipeline = pipeline_matcher(s)(prefixed);
    if (!pipeline.empty() && pipeline != s.pipeline && !is_whitelisted(s.allowed_topics, prefixed)) {
      problems.add(env_var::KAFKA_OUTPUT_TOPIC, *s.output_topic,
                   "is a topic of pipeline " + pipeline + ", not " + s.pipeline +
                       ": writing across pipelines must be explicit; add " + prefixed + " to KERNEL_ALLOWED_TOPICS");
    }
  }
}

}  // namespace config_detail
}  // namespace kernel

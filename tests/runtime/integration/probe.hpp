#pragma once
// Runs probe.py (confluent-kafka, a client no one here wrote) to check what a kernel did.
#include <array>
#include <cstdio>
#include <map>
#include <memory>
#include <stdexcept>
#include <string>

#include <nlohmann/json.hpp>

namespace probe {

inline std::string run(const std::string& arguments) {
  const std::string command = std::string("/usr/bin/python3 ") + KERNEL_PROBE + " " + arguments;
  std::unique_ptr<FILE, int (*)(FILE*)> pipe(popen(command.c_str(), "r"), pclose);
  if (!pipe) throw std::runtime_error("cannot run " + command);
  std::string out;
  std::array<char, 4096> buffer{};
  while (auto n = std::fread(buffer.data(), 1, buffer.size(), pipe.get())) out.append(buffer.data(), n);
  return out;
}

/// Committed offset per partition of `topic` for `group` (-1001: none).
inline std::map<int, long long> committed(const std::string& bootstrap, const std::string& group,
                                          const std::string& topic) {
  const auto parsed =
      nlohmann::json::parse(run("committed --bootstrap " + bootstrap + " --group " + group + " --topic " + topic));
  std::map<int, long long> out;
  for (const auto& [partition, offset] : parsed.items()) out[std::stoi(partition)] = offset.get<long long>();
  return out;
}

/// High watermark per partition.
inline std::map<int, long long> high_watermarks(const std::string& bootstrap, const std::string& topic) {
  const auto parsed = nlohmann::json::parse(run("watermarks --bootstrap " + bootstrap + " --topic " + topic));
  std::map<int, long long> out;
  for (const auto& [partition, marks] : parsed.items()) out[std::stoi(partition)] = marks[1].get<long long>();
  return out;
}

}  // namespace probe

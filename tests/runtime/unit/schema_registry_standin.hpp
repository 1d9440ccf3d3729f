#pragma once
// The schema registry stand-in (tests/tools/schema_registry_standin.py) as a child process for
// one test: started on a free port, its URL read from its first line, stopped on scope exit.
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <stdexcept>
#include <string>
#include <vector>

namespace schema_registry_standin {

class Standin {
 public:
  explicit Standin(std::vector<std::string> extra_args = {}) {
    int pipe_fds[2];
    if (::pipe(pipe_fds) != 0) throw std::runtime_error("pipe failed");
    std::vector<std::string> args{"/usr/bin/python3",
                                  std::string(KERNEL_TEST_DATA_DIR) + "/../tools/schema_registry_standin.py"};
    args.insert(args.end(), extra_args.begin(), extra_args.end());
    std::vector<char*> argv;
    for (auto& arg : args) argv.push_back(arg.data());
    argv.push_back(nullptr);
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_adddup2(&actions, pipe_fds[1], STDOUT_FILENO);
    posix_spawn_file_actions_addclose(&actions, pipe_fds[0]);
    const int spawned = posix_spawn(&pid_, argv[0], &actions, nullptr, argv.data(), environ);
    posix_spawn_file_actions_destroy(&actions);
    ::close(pipe_fds[1]);
    if (spawned != 0) {
      ::close(pipe_fds[0]);
      throw std::runtime_error("cannot start the schema registry stand-in");
    }
    // Its one line, "listening on http://127.0.0.1:<port>", comes once it accepts connections;
    // end of file (it died) ends the read.
    std::string line;
    char c = 0;
    while (line.size() < 200 && ::read(pipe_fds[0], &c, 1) == 1 && c != '\n') line += c;
    ::close(pipe_fds[0]);
    const std::string prefix = "listening on ";
    if (line.rfind(prefix, 0) != 0) {
      stop();
      throw std::runtime_error("the schema registry stand-in did not start: " + line);
    }
    url_ = line.substr(prefix.size());
  }
  ~Standin() { stop(); }
  Standin(const Standin&) = delete;
  Standin& operator=(const Standin&) = delete;

  const std::string& url() const { return url_; }

 private:
  void stop() {
    if (pid_ > 0) {
      ::kill(pid_, SIGTERM);
      ::waitpid(pid_, nullptr, 0);
      pid_ = -1;
    }
  }

  pid_t pid_ = -1;
  std::string url_;
};

}  // namespace schema_registry_standin

// What names a target process in the store and in Pyroscope: its service
// (from its environment, else its executable's name), its container, the
// host. Read from /proc when golens first looks at a program, because the
// process may be gone when its interval is stored.
#pragma once

#include <sys/types.h>

#include <optional>
#include <string>

namespace golens::profiler {

struct ProcessIdentityInfo {
  std::string service;       // GOLENS_SERVICE, else OTEL_SERVICE_NAME, else the executable's file name
  std::string container_id;  // "" when not in a container (or unrecognized)
};

// The value of `name` in /proc/PID/environ (nullopt when unset or unreadable).
std::optional<std::string> ProcessEnvironmentValue(pid_t pid, const std::string& name);

// The container id in the lines of a /proc/PID/cgroup file: the last 64-hex
// token of a path component, as Docker, containerd, CRI-O and podman name
// their cgroups ("/docker/ID", "docker-ID.scope", "cri-containerd-ID.scope",
// "crio-ID.scope", "libpod-ID.scope"). "" when there is none.
std::string ContainerIdFromCgroup(const std::string& cgroup_file_text);

// Reads both for a running process. `exe_path` names the service when the
// environment does not.
ProcessIdentityInfo ReadProcessIdentity(pid_t pid, const std::string& exe_path);

// This host's name (uname nodename).
std::string HostName();

}  // namespace golens::profiler

# The new-kernel builder image: Debian 12 with the runtime (kernel_runtime package, tools,
# new-kernel) installed in /usr/local and every build dependency a kernel needs. Generated
# kernels' Dockerfiles build FROM it (their BUILDER_IMAGE and BUILDER_VERSION arguments).
#
#   docker build -t new-kernel-builder:0.1.0 .
#   docker build --build-arg VERSION=0.1.0 -t registry.example.com/new-kernel-builder:0.1.0 .
ARG DEBIAN_IMAGE=debian:bookworm
FROM ${DEBIAN_IMAGE}
ARG VERSION=0.1.0
LABEL org.opencontainers.image.title="new-kernel-builder" \
      org.opencontainers.image.description="Builds Kafka kernels on kernel::runtime" \
      org.opencontainers.image.version="${VERSION}"

# Build tools and the runtime's dependencies (scripts/packages.txt, without the test-only tools).
RUN apt-get update \
    && apt-get install -y --no-install-recommends \
        build-essential \
        ca-certificates \
        cmake \
        doctest-dev \
        git \
        libcli11-dev \
        libcpp-httplib-dev \
        libgit2-dev \
        libjemalloc-dev \
        libkainjow-mustache-dev \
        libmicrohttpd-dev \
        libprotobuf-dev \
        librdkafka-dev \
        libspdlog-dev \
        libssl-dev \
        nlohmann-json3-dev \
        pkg-config \
        prometheus-cpp-dev \
        protobuf-compiler \
        libavro-dev \
    && rm -rf /var/lib/apt/lists/*

WORKDIR /src/new-kernel
COPY . .
RUN cmake -S . -B /tmp/build -DCMAKE_BUILD_TYPE=Release \
        -DKERNEL_BUILD_TESTS=OFF -DKERNEL_BUILD_EXAMPLES=OFF -DKERNEL_BUILD_BENCH=OFF \
    && cmake --build /tmp/build -j"$(nproc)" \
    && cmake --install /tmp/build --prefix /usr/local --strip \
    && rm -rf /tmp/build /src/new-kernel

WORKDIR /src

"""Docker's removed and deprecated features that the workshop must never teach or use,
in one place. Taken from Docker's own list, "Deprecated Docker Engine features"
(docs.docker.com/engine/deprecated/, maintained in docker/cli as docs/deprecated.md),
plus Compose v1, which Docker retired in 2023. test_exercise_text.py scans the commands
a learner types, the step checks and the Dockerfile with these patterns."""

from dataclasses import dataclass


@dataclass(frozen=True)
class Deprecated:
    feature: str
    pattern: str  # a regular expression
    status: str  # as Docker's list says it
    instead: str


DEPRECATED = [
    Deprecated(
        "Top-level network properties in NetworkSettings",
        r"NetworkSettings\.(IPAddress|IPPrefixLen|Gateway|MacAddress|EndpointID|"
        r"GlobalIPv6Address|GlobalIPv6PrefixLen|IPv6Gateway)\b|"
        r"\[\"NetworkSettings\"\]\[\"(IPAddress|Gateway|MacAddress)\"\]",
        "deprecated in v1.13, removed in v29 (API v1.52)",
        "the per-network fields: NetworkSettings.Networks.<network>.IPAddress",
    ),
    Deprecated(
        "Container and ContainerConfig fields in image inspect",
        r"\bContainerConfig\b",
        "deprecated in v25.0, removed in v26.0",
        "Config",
    ),
    Deprecated(
        "VirtualSize in image inspect and list",
        r"\bVirtualSize\b",
        "removed in API v1.44 (v25.0)",
        "Size",
    ),
    Deprecated(
        "Legacy links environment variables (`docker run --link`)",
        r"(?<![\w-])--link[= ]",
        "deprecated in v28.4, to be removed in v30.0",
        "a user-defined network, where containers find each other by name",
    ),
    Deprecated(
        "--time option on docker stop and docker restart",
        r"docker (container )?(stop|restart)\b[^\n]*\s(--time\b|-t\s)",
        "deprecated in v28.0",
        "--timeout",
    ),
    Deprecated(
        "Legacy builder for Linux images",
        r"DOCKER_BUILDKIT=0",
        "deprecated in v23.0",
        "BuildKit, the default builder",
    ),
    Deprecated(
        "MAINTAINER in Dockerfile",
        r"^MAINTAINER\b",
        "deprecated in v1.13",
        "LABEL org.opencontainers.image.authors=...",
    ),
    Deprecated(
        "Dockerfile legacy `ENV name value` syntax",
        r"^ENV [A-Za-z_][A-Za-z0-9_]* [^=\n]*$",
        "deprecated in v20.10",
        "ENV name=value",
    ),
    Deprecated(
        "Compose v1 (the docker-compose command)",
        r"(^|[;&|]\s*)docker-compose\s",
        "retired by Docker in July 2023",
        "Compose v2: docker compose",
    ),
]

"""Step 2: the image has no server.py, and the failed `docker run --rm` left nothing."""

from settings import S
from steplib import GO_TO_PROJECT, Mistake, container, expect, holds_file, image, state

WEB, WEB_IMAGE = S["WEB_CONTAINER"], S["WEB_IMAGE"]

MISTAKES = [
    Mistake(
        "a failed run without --rm left its container",
        make=[f"docker run --name {WEB} {WEB_IMAGE} python server.py || true"],
        says=f"A container named {WEB} is left over",
    ),
]


def test_web_image_exists(host):
    expect(
        image(host, WEB_IMAGE),
        f"There is no image {WEB_IMAGE}.",
        WEB_IMAGE,
        "none",
        [GO_TO_PROJECT, f"docker build -t {WEB_IMAGE} ."],
    )


def test_image_does_not_contain_server_py(host):
    expect(
        not holds_file(host, WEB_IMAGE, "/app/server.py"),
        f"{WEB_IMAGE} contains /app/server.py, but the workshop's image must not.",
        "no /app/server.py in the image (it is mounted in step 3)",
        "/app/server.py: was the Dockerfile changed?",
        [GO_TO_PROJECT, "git checkout Dockerfile", f"docker build -t {WEB_IMAGE} ."],
    )


def test_no_container_left_over(host):
    info = container(host, WEB)
    expect(
        info is None,
        f"A container named {WEB} is left over: the one you ran without --rm to look at "
        "its logs, or another.",
        f"no container {WEB}: remove it once you have read its logs",
        state(host, info, WEB),
        [f"docker rm -f {WEB}"],
    )

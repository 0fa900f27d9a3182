"""Step 2: the image has no server.py, and the failed `docker run --rm` left nothing."""

from settings import S
from steplib import Mistake, container, image

MISTAKES = [
    Mistake(
        "a container left over",
        make=[f"docker create --name {S['WEB_CONTAINER']} {S['WEB_IMAGE']}"],
        says=f"A container named {S['WEB_CONTAINER']} is left over",
        undo=[f"docker rm {S['WEB_CONTAINER']}"],
    ),
]


def test_web_image_exists(host):
    assert image(host, S["WEB_IMAGE"]), (
        f"There is no image {S['WEB_IMAGE']}: build it first (step 1)."
    )


def test_image_does_not_contain_server_py(host):
    result = host.run(f"docker run --rm --entrypoint ls {S['WEB_IMAGE']} /app/server.py")
    assert result.rc != 0, (
        f"{S['WEB_IMAGE']} contains /app/server.py, but the workshop's image must not: "
        f"rebuild it from the project's unchanged Dockerfile (step 1)."
    )


def test_no_container_left_over(host):
    assert container(host, S["WEB_CONTAINER"]) is None, (
        f"A container named {S['WEB_CONTAINER']} is left over (was --rm missing?): "
        f"remove it with `docker rm -f {S['WEB_CONTAINER']}`."
    )

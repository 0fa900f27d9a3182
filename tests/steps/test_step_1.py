"""Step 1: the web image is built and tagged from the project's Dockerfile."""

from settings import S
from steplib import Mistake, image

SAVED = "replay-mistake/web:saved"  # where the replay keeps the image meanwhile
MISTAKES = [
    Mistake(
        "the image is missing",
        make=[f"docker tag {S['WEB_IMAGE']} {SAVED}", f"docker rmi {S['WEB_IMAGE']}"],
        says=f"There is no image {S['WEB_IMAGE']}",
        undo=[f"docker tag {SAVED} {S['WEB_IMAGE']}", f"docker rmi {SAVED}"],
    ),
]


def test_web_image_is_built(host):
    assert image(host, S["WEB_IMAGE"]), (
        f"There is no image {S['WEB_IMAGE']}: build it in ~/docker-workshop with "
        f"`docker build -t {S['WEB_IMAGE']} .`."
    )


def test_web_image_is_built_on_the_python_base(host):
    web, base = image(host, S["WEB_IMAGE"]), image(host, S["PYTHON_IMAGE"])
    assert web and base, f"{S['WEB_IMAGE']} or {S['PYTHON_IMAGE']} is missing: see step 1."
    base_layers = base["RootFS"]["Layers"]
    assert web["RootFS"]["Layers"][: len(base_layers)] == base_layers, (
        f"{S['WEB_IMAGE']} is not built on {S['PYTHON_IMAGE']}: rebuild it from the "
        f"project's Dockerfile with `docker build -t {S['WEB_IMAGE']} .`."
    )

"""Step 1: the web image is built and tagged from the project's Dockerfile."""

from steplib import image

from settings import S


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

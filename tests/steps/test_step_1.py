"""Step 1: the web image is built and tagged from the project's Dockerfile."""

from settings import S
from steplib import GO_TO_PROJECT, Mistake, engine, expect, image

WEB_IMAGE, REPOSITORY = S["WEB_IMAGE"], S["WEB_IMAGE"].split(":")[0]
BUILD = [GO_TO_PROJECT, f"docker build -t {WEB_IMAGE} ."]

MISTAKES = [
    Mistake(
        "the image is missing",
        make=[f"docker rmi {WEB_IMAGE}"],
        says=f"There is no image {WEB_IMAGE}",
    ),
    Mistake(
        "the image built without its tag",
        make=[f"docker tag {WEB_IMAGE} {REPOSITORY}:latest", f"docker rmi {WEB_IMAGE}"],
        says=f"found {REPOSITORY}:latest",
    ),
]


def test_web_image_is_built(host):
    _, found = engine(host, "/images/json", reference=[REPOSITORY])  # docker images REPOSITORY
    tags = [tag for each in found or [] for tag in each["RepoTags"] or []]
    others = [tag for tag in tags if tag.rpartition(":")[0] == REPOSITORY and tag != WEB_IMAGE]
    found = "found " + ", ".join(others) + " (the tag is part of the name)" if others else "none"
    expect(
        image(host, WEB_IMAGE),
        f"There is no image {WEB_IMAGE}.",
        WEB_IMAGE,
        found,
        BUILD + [f"docker rmi {other}" for other in others],
    )


def test_web_image_is_built_on_the_python_base(host):
    web, base = image(host, WEB_IMAGE), image(host, S["PYTHON_IMAGE"])
    expect(
        web and base,
        f"{WEB_IMAGE} or its base {S['PYTHON_IMAGE']} is missing.",
        "both images",
        "missing: " + ", ".join(ref for ref, found in ((WEB_IMAGE, web),
                                                       (S["PYTHON_IMAGE"], base)) if not found),
        BUILD,
    )
    base_layers = base["RootFS"]["Layers"]
    expect(
        web["RootFS"]["Layers"][: len(base_layers)] == base_layers,
        f"{WEB_IMAGE} is not built on {S['PYTHON_IMAGE']}.",
        f"the layers of {S['PYTHON_IMAGE']} at the bottom of {WEB_IMAGE}",
        "other layers: was the Dockerfile changed?",
        [GO_TO_PROJECT, "git checkout Dockerfile", f"docker build -t {WEB_IMAGE} ."],
    )

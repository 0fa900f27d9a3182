"""tests/standins/build.sh: a stand-in only where the real image cannot be pulled, never
over a real image (here: any image without the stand-in label), and cached."""

import io
import os
import subprocess
import tarfile

import pytest

from dockertools import docker, inspect_field
from settings import PROJECT, S

pytestmark = pytest.mark.docker
LABEL = "org.docker-workshop.standin.inputs"


def build_sh(**images):
    result = subprocess.run(["bash", str(PROJECT / "tests" / "standins" / "build.sh")],
                            capture_output=True, text=True, env={**os.environ, **images})
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout


def import_a_real_image(tag):
    """An image of one file, without the stand-in label, like a pulled image."""
    tar = io.BytesIO()
    with tarfile.open(fileobj=tar, mode="w") as archive:
        info = tarfile.TarInfo("hello.txt")
        info.size = 6
        archive.addfile(info, io.BytesIO(b"hello\n"))
    subprocess.run(["docker", "import", "-", tag], input=tar.getvalue(), check=True,
                   capture_output=True)


def test_build_sh_keeps_a_real_image_and_builds_a_stand_in_for_a_missing_one(made):
    real, missing = made.image(), made.image()
    import_a_real_image(real)
    real_id = inspect_field(real, "{{.Id}}")

    out = build_sh(POSTGRES_IMAGE=real, PYTHON_IMAGE=missing)
    assert f"{real}: real image present, kept" in out
    assert inspect_field(real, "{{.Id}}") == real_id
    assert f"{missing}: cannot be pulled, building the stand-in" in out
    assert inspect_field(missing, f'{{{{index .Config.Labels "{LABEL}"}}}}') != ""
    assert docker("run", "--rm", missing, "python", "--version").stdout.startswith(
        "Python 3.13")

    out = build_sh(POSTGRES_IMAGE=real, PYTHON_IMAGE=missing)  # nothing changed: cached
    assert f"{missing}: stand-in up to date" in out


@pytest.mark.parametrize("variable", ["PYTHON_IMAGE", "POSTGRES_IMAGE", "REGISTRY_IMAGE"])
def test_a_stand_in_keeps_no_downloaded_package(variable):
    """Like the official images, a stand-in leaves no .deb in apt's cache: it would weigh
    a third of the image, copied into the real VM, its kit, and step 7's archive."""
    image = S[variable]
    if docker("image", "inspect", image, check=False).returncode != 0:
        pytest.skip(f"{image} missing: run tests/standins/build.sh")
    listed = docker("run", "--rm", "--entrypoint", "sh", image, "-c",
                    "find /var/cache/apt -name '*.deb' | head -n 3").stdout.split()
    assert listed == [], f"{image} keeps apt's downloads: {listed}"

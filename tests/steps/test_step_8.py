"""Step 8: the web image went to the local registry and back, and the VM is clean.

"Clean" means: no stopped container (exited, created or dead), no anonymous volume that
no container uses, no dangling (untagged) image; and what the workshop keeps is still
there: its images (the bases, the registry, the web image) and step 5's named volume."""

import re

from course import command, commands_from
from settings import S
from steplib import GO_TO_PROJECT, Mistake, engine, expect, image, volume

REGISTRY = "127.0.0.1:5000"
PUSHED = f"{REGISTRY}/{S['WEB_IMAGE']}"  # 127.0.0.1:5000/docker-workshop-web:1.0
RUN_REGISTRY = command(8, "docker run -d -p 127.0.0.1:5000:5000")
# Step 8's registry part, from running the registry to stopping it (its docker commands).
REGISTRY_PART = commands_from(8, RUN_REGISTRY)
REGISTRY_PART = [c for c in REGISTRY_PART[: REGISTRY_PART.index("docker stop registry") + 1]
                 if c.startswith("docker ")]
PRUNE = ["docker container prune -f", "docker volume prune -f", "docker image prune -f"]
ANONYMOUS = "com.docker.volume.anonymous"  # the label Engine 23+ gives anonymous volumes

MISTAKES = [
    Mistake(
        "a stopped container left",
        make=[f"docker create {S['PYTHON_IMAGE']}"],
        says="stopped container",
    ),
    Mistake(
        "an orphaned anonymous volume",
        make=[f'docker rm "$(docker create -v /data {S["PYTHON_IMAGE"]})"'],
        says="anonymous volume",
    ),
    Mistake(
        "the registry part skipped",
        make=[f"docker rmi {PUSHED}"],
        says=f"There is no image {PUSHED}",
    ),
]


def test_web_image_went_through_the_registry(host):
    expect(
        image(host, PUSHED),
        f"There is no image {PUSHED}: the registry part of step 8 is not done.",
        f"{PUSHED}, pushed to the registry at {REGISTRY} and pulled back",
        "none",
        [*REGISTRY_PART, *PRUNE],
    )


def test_no_stopped_container(host):
    # docker ps -a --filter status=exited --filter status=created --filter status=dead
    _, found = engine(host, "/containers/json?all=1", status=["exited", "created", "dead"])
    stopped = [name[1:] for each in found or [] for name in each["Names"] if "/" not in name[1:]]
    expect(
        not stopped,
        f"{len(stopped)} stopped container(s) left: {', '.join(stopped)}.",
        "no stopped container (`docker ps -a --filter status=exited` lists none)",
        ", ".join(stopped),
        ["docker container prune -f"],
    )


def test_no_orphaned_anonymous_volume(host):
    _, found = engine(host, "/volumes", dangling=["true"])  # docker volume ls -f dangling=true
    anonymous = [
        each["Name"] for each in (found or {}).get("Volumes") or []
        if re.fullmatch(r"[0-9a-f]{64}", each["Name"]) or (each["Labels"] or {}).get(ANONYMOUS)
    ]
    expect(
        not anonymous,
        f"{len(anonymous)} anonymous volume(s) that no container uses.",
        "no unused anonymous volume (`docker volume ls --filter dangling=true`)",
        ", ".join(name[:12] for name in anonymous),
        ["docker volume prune -f"],
    )


def test_no_dangling_image(host):
    _, found = engine(host, "/images/json", dangling=["true"])  # docker images -f dangling=true
    dangling = [each["Id"].split(":")[-1][:12] for each in found or []]
    expect(
        not dangling,
        f"{len(dangling)} dangling (untagged) image(s).",
        "no <none> image in `docker images`",
        ", ".join(dangling),
        ["docker image prune -f"],
    )


def test_workshop_images_are_kept(host):
    missing = [ref for ref in (S["PYTHON_IMAGE"], S["POSTGRES_IMAGE"], S["REGISTRY_IMAGE"])
               if not image(host, ref)]
    expect(
        not missing,
        f"The workshop's image(s) {', '.join(missing)} were removed (`docker image prune -a`?).",
        "the images the VM pulled while provisioned",
        f"missing: {', '.join(missing)}",
        [f"docker pull {ref}   # needs the internet; or `vagrant provision` on your laptop"
         for ref in missing],
    )
    expect(
        image(host, S["WEB_IMAGE"]),
        f"There is no image {S['WEB_IMAGE']} any more.",
        S["WEB_IMAGE"],
        "none",
        [GO_TO_PROJECT, f"docker build -t {S['WEB_IMAGE']} ."],
    )


def test_named_volume_is_kept(host):
    expect(
        volume(host, S["DB_VOLUME"]),
        f"The named volume {S['DB_VOLUME']} of step 5 was removed (`docker volume prune -a`?).",
        f"{S['DB_VOLUME']} kept: `docker volume prune` without -a keeps named volumes",
        "no such volume",
        [f"docker volume create {S['DB_VOLUME']}   # empty: its data is gone"],
    )

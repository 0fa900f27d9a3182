"""Every EXERCISE answer that states how Docker behaves is backed by a named test that
observes it. This map says which; the test below fails if a question has no entry or
an entry names a test that does not exist (renamed, removed)."""

import re

from exercises import step_files
from settings import PROJECT

CLAIMS = "tests/replay/test_docker_claims.py"
CONTAINERS = "tests/containers/test_db_data.py"
POSTGRES = "tests/containers/test_standin_postgres.py"
WEB = "tests/containers/test_web_image.py"
REPLAY = "tests/replay/test_replay.py"
STEP = "tests/steps/test_step_{}.py"

BACKED_BY = {
    "Q0.1": [REPLAY + "::test_step_0_replays"],  # server.py's stdout: the app's own tests
    "Q0.2": [STEP.format(0) + "::test_vm_postgresql_is_running"],
    "Q1.1": [
        WEB + "::test_web_image_builds_from_the_python_base_with_the_requirements",
        WEB + "::test_web_image_does_not_contain_server_py",
        STEP.format(1) + "::test_web_image_is_built_on_the_python_base",
    ],
    "Q1.2": [CLAIMS + "::test_rebuild_after_changing_server_py_gives_the_same_image"],
    "Q1.3": [CLAIMS + "::test_dockerignore_sends_only_requirements_txt"],
    "Q2.1": [WEB + "::test_run_without_the_mount_fails_because_server_py_is_missing"],
    "Q2.2": [CLAIMS + "::test_rm_removes_a_failed_container_and_without_it_it_stays_exited_2"],
    "Q3.1": [
        STEP.format(3) + "::test_vm_py_postgresql_is_uninstalled",
        STEP.format(3) + "::test_message_posted_through_the_container",
        REPLAY + "::test_step_3_replays",
    ],
    "Q3.2": [CLAIMS + "::test_publish_maps_host_port_to_container_port"],
    "Q3.3": [CLAIMS + "::test_localhost_in_a_container_is_the_container"],
    "Q4.1": [CONTAINERS + "::test_docker_restart_keeps_the_data", REPLAY + "::test_step_5_replays"],
    "Q4.2": [CONTAINERS + "::test_docker_rm_and_a_new_container_loses_the_data_and_schema"],
    "Q4.3": [POSTGRES + "::test_refuses_to_start_without_postgres_password"],
    "Q4.4": [
        CONTAINERS + "::test_host_directory_as_pgdata_keeps_the_data",
        CONTAINERS + "::test_named_volume_keeps_the_data",
        CONTAINERS + "::test_commit_with_pgdata_inside_the_container_carries_the_data",
    ],
    "Q5.1": [
        CONTAINERS + "::test_commit_with_the_default_pgdata_does_not_carry_the_data",
        CONTAINERS + "::test_commit_with_pgdata_inside_the_container_carries_the_data",
        POSTGRES + "::test_default_pgdata_is_a_declared_volume",
    ],
    "Q5.2": [CONTAINERS + "::test_named_volume_keeps_the_data"],
    "Q5.3": [
        CLAIMS + "::test_commit_adds_one_layer_and_keeps_env_and_command",
        STEP.format(5) + "::test_committed_image_adds_a_layer_to_postgres",
    ],
    "Q6.1": [CLAIMS + "::test_compose_down_keeps_named_volumes_and_down_v_removes_them"],
    "Q6.2": [CLAIMS + "::test_compose_down_keeps_named_volumes_and_down_v_removes_them"],
    "Q6.3": [STEP.format(6) + "::test_web_finds_db_by_name", REPLAY + "::test_step_6_replays"],
    "Q7.1": [
        CLAIMS + "::test_two_containers_cannot_publish_the_same_host_port",
        CLAIMS + "::test_compose_scale_file_spreads_requests_over_three_web_containers",
    ],
    "Q7.2": [STEP.format(7) + "::test_load_balancer_spreads_requests"],
    "Q7.3": [CLAIMS + "::test_save_and_load_restore_the_same_image_and_tag"],
}
# Statements in the steps' text (not in a question) that tests observe as well.
TEXT_CLAIMS = {
    "step 3: a bind mount is the same file": CLAIMS
    + "::test_bind_mount_is_the_same_file_not_a_copy",
    "step 3: docker top shows a host PID": CLAIMS
    + "::test_docker_top_shows_the_container_process_with_a_host_pid",
    "step 4: --link sets POSTGRES_PORT_5432_TCP_ADDR": CLAIMS
    + "::test_link_sets_postgres_port_5432_tcp_addr",
    "step 4: password_encryption=md5 makes pg_hba md5": POSTGRES
    + "::test_host_auth_follows_password_encryption",
    "step 5: docker diff marks new files A": CLAIMS + "::test_docker_diff_lists_new_files_as_added",
}


def questions():
    return [q for path in step_files() for q in re.findall(r"\*\*(Q\d\.\d)\*\*", path.read_text())]


def defined(reference):
    path, name = reference.split("::")
    return re.search(rf"^def {name}\(", (PROJECT / path).read_text(), re.M) is not None


def test_every_question_is_mapped():
    asked = set(questions())
    assert asked == set(BACKED_BY), f"unmapped: {asked - set(BACKED_BY)}"


def test_every_backing_test_exists():
    references = [r for refs in BACKED_BY.values() for r in refs] + list(TEXT_CLAIMS.values())
    assert [r for r in references if not defined(r)] == []
